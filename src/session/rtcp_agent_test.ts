import assert from "node:assert/strict";
import { StreamingEngine } from "./engine.ts";
import { RtcpAgent, SR_INTERVAL_MAX_MS, SR_INTERVAL_MIN_MS } from "./rtcp_agent.ts";
import type { RtcpSocket } from "../net/rtcp_socket.ts";
import type { PacketSender, SenderStats, UdpDestination } from "../net/sender.ts";
import { ManualClock, SeededRandom } from "../util/clock.ts";
import { parseRtp } from "../rtp/packet.ts";
import {
  ntpMiddle32,
  parseRtcp,
  type RtcpPacket,
  unixMsFromNtp,
  writeReceiverReport,
} from "../rtp/rtcp.ts";
import type { Period } from "../audio/source.ts";

class RecordingSender implements PacketSender {
  readonly kind = "recording";
  readonly localPort = 5004;
  readonly maxDatagramBytes = 1400;
  readonly stats: SenderStats = { packets: 0, bytes: 0, errors: 0, lastError: "" };
  readonly sent: { port: number; bytes: Uint8Array; at: number }[] = [];
  private readonly buf = new Uint8Array(1400);
  constructor(private readonly clock: ManualClock) {}
  destination(hostname: string, port: number): UdpDestination {
    return { hostname, port };
  }
  slot(): Uint8Array {
    return this.buf;
  }
  commit(length: number, dest: UdpDestination): void {
    this.sent.push({ port: dest.port, bytes: this.buf.slice(0, length), at: this.clock.now() });
  }
  flush(): void {}
  setDscp(): void {}
  close(): void {}
}

class RecordingRtcp implements RtcpSocket {
  readonly localPort = 5005;
  readonly sent: { to: string; port: number; packets: RtcpPacket[]; at: number }[] = [];
  constructor(private readonly clock: ManualClock) {}
  send(data: Uint8Array, hostname: string, port: number): void {
    const packets = parseRtcp(data);
    assert.ok(packets, "every RTCP datagram we build parses");
    this.sent.push({ to: hostname, port, packets, at: this.clock.now() });
  }
}

const RATE = 48000;
const FRAMES = 240;

function period(index: number, t0: number): Period {
  const data = new Int32Array(FRAMES * 32);
  return {
    data,
    frames: FRAMES,
    channels: 32,
    sampleRate: RATE,
    frameIndex: index * FRAMES,
    // A capture instant that is not a whole millisecond, so the mapping is checked to the tick.
    captureTimeMs: t0 + (index * FRAMES * 1000) / RATE + 0.37,
  };
}

function setup() {
  const clock = new ManualClock(1_800_000_000_000);
  const sender = new RecordingSender(clock);
  const socket = new RecordingRtcp(clock);
  const agent = new RtcpAgent(socket, clock, new SeededRandom(7), "m32-server@box");
  const e = new StreamingEngine({
    sender,
    clock,
    extIntervalMs: 5000,
    maxDatagramBytes: 1400,
    rtcp: agent,
  });
  const t0 = clock.now();
  let n = 0;
  /** Runs `count` periods, 5 ms apart, each "sent" 1 ms after its last frame was captured. */
  const run = (count: number) => {
    for (let i = 0; i < count; i++, n++) {
      const p = period(n, t0);
      clock.set(p.captureTimeMs + 5 + 1);
      e.onPeriod(p);
    }
  };
  return { clock, sender, socket, agent, e, run };
}

const params = (clientId: string, port: number, ssrc: number) => ({
  clientId,
  hostname: "192.0.2.7",
  port,
  spec: {
    channels: [1, 2],
    sampleRate: RATE,
    compression: "none" as const,
    encoding: "L24" as const,
  },
  ssrc,
  sequence: 10,
  timestampBase: 0xffff_ff00, // wraps within the run
});

Deno.test("SRs go to udp_port + 1 with the first period, then every 2.5-4.5 s, mapping NTP to the stream's RTP clock exactly", () => {
  const { socket, sender, e, run } = setup();
  e.addClient(params("a", 7000, 0x1234));
  run(2000); // 10 s
  const srs = socket.sent.filter((s) => s.packets[0].type === "sr");
  assert.ok(srs.length >= 3, `${srs.length} SRs in 10 s`);
  assert.ok(srs.every((s) => s.to === "192.0.2.7" && s.port === 7001));
  assert.equal(srs[0].at, sender.sent[0].at, "the first SR with the first period");
  for (let i = 1; i < srs.length; i++) {
    const gap = srs[i].at - srs[i - 1].at;
    assert.ok(gap >= SR_INTERVAL_MIN_MS && gap <= SR_INTERVAL_MAX_MS + 5, `gap ${gap} ms`);
  }
  for (const s of srs) {
    const sr = s.packets[0];
    if (sr.type !== "sr") throw new Error("not an SR");
    assert.equal(sr.ssrc, 0x1234);
    assert.deepEqual(s.packets[1], {
      type: "sdes",
      chunks: [{ ssrc: 0x1234, cname: "m32-server@box" }],
    });
    const ntpMs = unixMsFromNtp(sr.ntpSeconds, sr.ntpFraction);
    assert.ok(Math.abs(ntpMs - s.at) < 0.001, "NTP = the wall clock when the SR was built");
    // Exact: the period whose capture instants bracket ntpMs gives the RTP clock there.
    const k = Math.floor(((ntpMs - 1_800_000_000_000 - 0.37) * RATE) / 1000);
    const want = (0xffff_ff00 + k + Math.round(
      ((ntpMs - (1_800_000_000_000 + 0.37 + (k * 1000) / RATE)) * RATE) / 1000,
    )) >>> 0;
    assert.ok(Math.abs((sr.rtpTimestamp - want) | 0) <= 1, `${sr.rtpTimestamp} vs ${want}`);
    // Counts: the datagrams and payload bytes to this client before the SR.
    const before = sender.sent.filter((x) => x.port === 7000 && x.at <= s.at);
    assert.equal(sr.packetCount, before.length);
    const payload = before.reduce((a, x) => a + parseRtp(x.bytes).payloadLength, 0);
    assert.equal(sr.octetCount, payload);
  }
});

Deno.test("removing a stream sends SR + SDES + BYE once; a browser-transport client gets no RTCP", () => {
  const { socket, e, run, clock } = setup();
  e.addClient(params("udp", 7000, 1));
  const browser = new RecordingSender(clock);
  e.addClient({ ...params("ws", 0, 2), sender: browser });
  run(100);
  e.removeClient("udp");
  e.removeClient("ws");
  const last = socket.sent.at(-1)!;
  assert.deepEqual(last.packets.map((p) => p.type), ["sr", "sdes", "bye"]);
  assert.deepEqual(last.packets[2], { type: "bye", ssrcs: [1], reason: "session ended" });
  assert.ok(socket.sent.every((s) => s.port === 7001), "nothing for the browser client");
  assert.equal(socket.sent.filter((s) => s.packets.some((p) => p.type === "bye")).length, 1);
});

Deno.test("receiver reports count only from the session's address and for its SSRC", () => {
  const { socket, agent, e, run, clock } = setup();
  const a = e.addClient(params("a", 7000, 0xaaaa));
  run(10);
  const sr = socket.sent[0].packets[0];
  if (sr.type !== "sr") throw new Error("no SR");
  const srMs = unixMsFromNtp(sr.ntpSeconds, sr.ntpFraction);
  const rr = (ssrc: number, dlsrMs: number) => {
    const b = new Uint8Array(32);
    writeReceiverReport(b, 0, 99, [{
      ssrc,
      fractionLost: 128,
      cumulativeLost: 3,
      highestSeq: 20,
      jitter: 480,
      lsr: ntpMiddle32(srMs),
      dlsr: Math.round((dlsrMs / 1000) * 65536),
    }]);
    return b;
  };
  clock.set(srMs + 30);
  agent.receive(rr(0xaaaa, 10), "192.0.2.99"); // another address
  agent.receive(rr(0xbbbb, 10), "192.0.2.7"); // another SSRC
  agent.receive(new Uint8Array([0x80, 201, 0, 9]), "192.0.2.7"); // malformed
  assert.equal(a.receiverReport, null);
  assert.equal(agent.refused, 3);
  agent.receive(rr(0xaaaa, 10), "::ffff:192.0.2.7");
  const r = a.receiverReport!;
  assert.equal(r.reports, 1);
  assert.equal(r.fractionLost, 0.5);
  assert.equal(r.cumulativeLost, 3);
  assert.equal(r.jitterMs, 10);
  assert.ok(Math.abs(r.rttMs! - 20) < 0.1, `round trip ${r.rttMs}`);
});

Deno.test("a flood on the RTCP port is dropped unparsed past 200 datagrams a second", () => {
  const { agent, e, run, clock } = setup();
  const a = e.addClient(params("a", 7000, 0xaaaa));
  run(1);
  const rr = new Uint8Array(32);
  writeReceiverReport(rr, 0, 99, [{
    ssrc: 0xaaaa,
    fractionLost: 0,
    cumulativeLost: 0,
    highestSeq: 1,
    jitter: 0,
    lsr: 0,
    dlsr: 0,
  }]);
  for (let i = 0; i < 1000; i++) agent.receive(rr, "192.0.2.7");
  assert.equal(a.receiverReport!.reports, 200);
  assert.equal(agent.refused, 800);
  clock.set(clock.now() + 1000);
  agent.receive(rr, "192.0.2.7");
  assert.equal(a.receiverReport!.reports, 201, "the next second parses again");
});
