import assert from "node:assert/strict";
import type { Period } from "../audio/source.ts";
import type { PacketSender, UdpDestination } from "../net/sender.ts";
import { parseRtp } from "../rtp/packet.ts";
import { parseRtcp, unixMsFromNtp } from "../rtp/rtcp.ts";
import { ManualClock } from "../util/clock.ts";
import { getLogger } from "../util/log.ts";
import { Aes67Output, type Aes67SendPlan, DRIFT_REANCHOR_SAMPLES } from "./output.ts";

/** Keeps every committed datagram (a copy) with its destination and flush number. */
class KeepingSender implements PacketSender {
  readonly kind = "test";
  readonly localPort = 1;
  readonly maxDatagramBytes = 1500;
  readonly stats = { packets: 0, bytes: 0, errors: 0, lastError: "" };
  readonly sent: { data: Uint8Array; to: string; flush: number }[] = [];
  flushes = 0;
  closed = false;
  private readonly buf = new Uint8Array(1500);
  destination(hostname: string, port: number): UdpDestination {
    return { hostname, port };
  }
  slot(): Uint8Array {
    return this.buf;
  }
  commit(length: number, dest: UdpDestination): void {
    this.sent.push({
      data: this.buf.slice(0, length),
      to: `${dest.hostname}:${dest.port}`,
      flush: this.flushes,
    });
    this.stats.packets++;
    this.stats.bytes += length;
  }
  flush(): void {
    this.flushes++;
  }
  setDscp(): void {}
  close(): void {
    this.closed = true;
  }
}

/** The RTP datagrams (port 5004), not RTCP (5005). */
const rtp = (s: KeepingSender) => s.sent.filter((d) => d.to.endsWith(":5004"));

const RATE = 48000;
/** Sample value of channel `ch` (1-based) in frame `f`: distinct, 24-bit, sign included. */
const value = (f: number, ch: number) => ((f * 37 + ch * 1001) % 0xffffff) - 0x7fffff;

function period(
  frameIndex: number,
  frames: number,
  channels: number,
  captureTimeMs: number,
): Period {
  const data = new Int32Array(frames * channels);
  for (let f = 0; f < frames; f++) {
    for (let c = 0; c < channels; c++) data[f * channels + c] = value(frameIndex + f, c + 1) << 8;
  }
  return { data, frames, channels, sampleRate: RATE, frameIndex, captureTimeMs };
}

function plan(over: Partial<Aes67SendPlan> = {}): Aes67SendPlan {
  return {
    ifindex: 1,
    address: "10.0.0.1",
    ttl: 15,
    dscp: 34,
    ptimeUs: 1000,
    utcOffsetS: 0,
    streams: [
      { group: "239.69.83.1", channels: [3, 1], ssrc: 0x11111111, sequence: 65535 },
      { group: "239.69.83.2", channels: [40], ssrc: 0x22222222, sequence: 7 },
    ],
    ...over,
  };
}

const START_MS = 1_800_000_000_000;

function setUp(p: Aes67SendPlan, realtimeAhead = 0) {
  const clock = new ManualClock(START_MS);
  const sender = new KeepingSender();
  const out = new Aes67Output(
    clock,
    getLogger("test"),
    () => clock.now() + realtimeAhead,
    () => {},
    () => sender,
  );
  out.configure(p);
  return { clock, sender, out };
}

Deno.test("AES67 output: L24 of the stream's channels, per-stream sequence and SSRC, timestamps on the media clock", () => {
  const { sender, out } = setUp(plan({ utcOffsetS: 37 }), 0.5);
  // 5 ms periods (a console at 5 ms) become 5 packets of 1 ms per stream.
  for (let i = 0; i < 4; i++) out.push(period(240 * i, 240, 32, START_MS + 5 * i));
  const s1 = sender.sent.filter((s) => s.to === "239.69.83.1:5004").map((s) => ({
    ...parseRtp(s.data),
    data: s.data,
  }));
  const s2 = sender.sent.filter((s) => s.to === "239.69.83.2:5004").map((s) => parseRtp(s.data));
  assert.equal(s1.length, 20);
  assert.equal(s2.length, 20);
  // Media clock: (realtime + TAI − UTC) × 48 kHz at the first frame.
  const t0 = Math.round((START_MS + 0.5 + 37_000) * 48) % 2 ** 32;
  for (let i = 0; i < 20; i++) {
    const p = s1[i];
    assert.equal(p.payloadType, 96);
    assert.equal(p.ssrc, 0x11111111);
    assert.equal(p.sequence, (65535 + i) & 0xffff);
    assert.equal(p.timestamp, (t0 + 48 * i) % 2 ** 32);
    assert.equal(p.marker, i === 0);
    assert.equal(p.payloadOffset, 12);
    assert.equal(s1[i].data.length, 12 + 48 * 2 * 3);
    for (let f = 0; f < 48; f++) {
      [3, 1].forEach((ch, c) => {
        const o = 12 + (f * 2 + c) * 3;
        const d = s1[i].data;
        const v = ((d[o] << 24) | (d[o + 1] << 16) | (d[o + 2] << 8)) >> 8;
        assert.equal(v, value(48 * i + f, ch), `packet ${i} frame ${f} ch ${ch}`);
      });
    }
    assert.equal(s2[i].ssrc, 0x22222222);
    assert.equal(s2[i].sequence, 7 + i);
  }
  // Channel 40 does not exist on a 32-channel source: silence, not another channel's audio.
  const silent = sender.sent.find((s) => s.to === "239.69.83.2:5004")!.data.subarray(12);
  assert.ok(silent.every((b) => b === 0));
  // One flush per packet time: the streams' packets of one ms leave together.
  assert.equal(new Set(rtp(sender).map((s) => s.flush)).size, 20);
  assert.equal(rtp(sender).length, 40);
});

Deno.test("AES67 output: 125 µs packets from 1 ms periods; 4 ms packets gather four", () => {
  const a = setUp(plan({ ptimeUs: 125 }));
  a.out.push(period(0, 48, 32, START_MS));
  assert.equal(rtp(a.sender).length, 16);
  assert.equal(a.sender.sent[0].data.length, 12 + 6 * 2 * 3);
  const b = setUp(plan({ ptimeUs: 4000 }));
  for (let i = 0; i < 3; i++) b.out.push(period(48 * i, 48, 32, START_MS + i));
  assert.equal(b.sender.sent.length, 0);
  b.out.push(period(144, 48, 32, START_MS + 3));
  assert.equal(rtp(b.sender).length, 2);
  assert.equal(b.sender.sent[0].data.length, 12 + 192 * 2 * 3);
});

Deno.test("AES67 output: a jump on the source timeline or a drift past 10 ms anchors the timestamps again", () => {
  const { sender, out } = setUp(plan());
  out.push(period(0, 48, 32, START_MS));
  // The console's clock runs 12 ms behind the reference over these frames.
  out.push(period(48, 48, 32, START_MS + 1 + (DRIFT_REANCHOR_SAMPLES / 48) + 2));
  const ts = sender.sent.filter((s) => s.to === "239.69.83.1:5004").map((s) =>
    parseRtp(s.data).timestamp
  );
  assert.equal(ts[1] - ts[0], 48 + DRIFT_REANCHOR_SAMPLES + 96);
  assert.equal(out.status.reanchors, 1);
  // A gap in frame indexes (an overrun) drops the partial packet and anchors at the new frame.
  out.push(period(1000, 24, 32, START_MS + 100));
  out.push(period(1024, 24, 32, START_MS + 100.5));
  const last = parseRtp(rtp(sender).at(-2)!.data).timestamp;
  assert.equal(last, Math.round((START_MS + 100) * 48) % 2 ** 32);
  // Off: the socket closes, no more audio is sent.
  const before = rtp(sender).length;
  out.configure(null);
  assert.equal(sender.closed, true);
  assert.equal(out.active, false);
  assert.equal(before, rtp(sender).length);
});

Deno.test("AES67 output: RTCP sender reports every 5 s per stream (NTP ↔ RTP of now, counts, CNAME), BYE when it stops", () => {
  const { clock, sender, out } = setUp(plan(), 0.5);
  const rtcpOf = (group: string) =>
    sender.sent.filter((s) => s.to === `${group}:5005`).map((s) => parseRtcp(s.data)!);
  // 6 s of 1 ms periods.
  for (let i = 0; i < 6000; i++) {
    out.push(period(48 * i, 48, 32, START_MS + i));
    clock.advance(1);
  }
  const reports = rtcpOf("239.69.83.1");
  assert.equal(reports.length, 2, "one at the start, one 5 s later");
  const [sr, sdes] = reports[1];
  assert.equal(sr.type, "sr");
  assert.equal(sdes.type, "sdes");
  if (sr.type !== "sr" || sdes.type !== "sdes") return;
  assert.equal(sr.ssrc, 0x11111111);
  assert.equal(sdes.chunks[0].cname, "m32-server@10.0.0.1");
  // Sent right after the packet time captured at START_MS + 5000, at that instant (clock and
  // realtime 0.5 ms apart).
  const ntpMs = unixMsFromNtp(sr.ntpSeconds, sr.ntpFraction);
  assert.ok(Math.abs(ntpMs - (START_MS + 5000 + 0.5)) < 0.01, `NTP ${ntpMs}`);
  // Its RTP timestamp is the media clock at that instant, as the stream's own packets have it.
  const t0 = Math.round((START_MS + 0.5) * 48) % 2 ** 32;
  const at5000 = rtp(sender).filter((d) => d.to.startsWith("239.69.83.1:"))[5000];
  assert.equal(parseRtp(at5000.data).timestamp, (t0 + 5000 * 48) % 2 ** 32);
  assert.equal(sr.rtpTimestamp, (t0 + 5000 * 48) % 2 ** 32);
  assert.equal(sr.packetCount, 5001);
  assert.equal(sr.octetCount, 5001 * 48 * 2 * 3);
  assert.equal(rtcpOf("239.69.83.2").length, 2);
  // Off: a BYE per stream, then the socket closes.
  out.configure(null);
  const last = rtcpOf("239.69.83.2").at(-1)!;
  assert.deepEqual(last.map((p) => p.type), ["sr", "sdes", "bye"]);
  const bye = last[2];
  assert.ok(bye.type === "bye" && bye.ssrcs[0] === 0x22222222);
});
