/**
 * RTCP on the wire (docs/protocol.md §5): sender reports with SDES CNAME to the
 * client's `udp_port + 1`, BYE when the session ends, receiver reports taken on
 * the server's `rtp_port + 1` from the session's own address only and shown in
 * the admin client list; a client that does not listen on `udp_port + 1` loses nothing.
 */
import assert from "node:assert/strict";
import { parseRtp } from "../src/rtp/packet.ts";
import {
  ntpMiddle32,
  parseRtcp,
  type RtcpPacket,
  unixMsFromNtp,
  writeReceiverReport,
} from "../src/rtp/rtcp.ts";
import { SR_INTERVAL_MAX_MS } from "../src/session/rtcp_agent.ts";
import { call, login, PASSWORD } from "./admin_helpers.ts";
import { Probe } from "./helpers/probe.ts";
import { startTestServer, type TestServer } from "./helpers/server.ts";

interface Rtp {
  seq: number;
  ts: number;
  ssrc: number;
  payload: number;
  captureMs: number | null;
}

interface Rtcp {
  packets: RtcpPacket[];
  /** Local receive time (epoch ms). */
  at: number;
  from: Deno.NetAddr;
}

/** A receiver with its RTP socket on an even port and, optionally, RTCP on the next one. */
class Peer {
  readonly rtp: Rtp[] = [];
  readonly rtcp: Rtcp[] = [];
  readonly rtpConn!: Deno.DatagramConn;
  readonly rtcpConn!: Deno.DatagramConn | null;
  private readonly loops: Promise<void>[] = [];

  constructor(withRtcp: boolean) {
    for (;;) {
      const a = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
      const port = (a.addr as Deno.NetAddr).port;
      if (port % 2 !== 0 || port > 65000) {
        a.close();
        continue;
      }
      try {
        this.rtcpConn = withRtcp
          ? Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: port + 1 })
          : null;
      } catch {
        a.close();
        continue;
      }
      this.rtpConn = a;
      break;
    }
    this.loops.push((async () => {
      try {
        for await (const [d] of this.rtpConn!) {
          const info = parseRtp(d);
          this.rtp.push({
            seq: info.sequence,
            ts: info.timestamp,
            ssrc: info.ssrc,
            payload: info.payloadLength,
            captureMs: info.captureTimeMs < 0 ? null : info.captureTimeMs,
          });
        }
      } catch { /* closed */ }
    })());
    if (this.rtcpConn) {
      this.loops.push((async () => {
        try {
          for await (const [d, from] of this.rtcpConn!) {
            const packets = parseRtcp(d);
            assert.ok(packets, "every RTCP datagram from the server is valid");
            this.rtcp.push({ packets, at: Date.now(), from: from as Deno.NetAddr });
          }
        } catch { /* closed */ }
      })());
    }
  }

  get port(): number {
    return (this.rtpConn.addr as Deno.NetAddr).port;
  }

  srs() {
    return this.rtcp.flatMap((r) =>
      r.packets.filter((p) => p.type === "sr").map((p) => ({ sr: p, at: r.at, all: r.packets }))
    );
  }

  async close() {
    this.rtpConn.close();
    this.rtcpConn?.close();
    await Promise.all(this.loops);
  }
}

async function until<T>(what: string, f: () => T | undefined | false | null, ms = 15000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function stream(srv: TestServer, peer: Peer, channels: number[]) {
  const p = await Probe.connect(srv.url);
  p.udpPort = peer.port;
  const req = await (await p.requestAudio()).json();
  p.send({ type: "client_config", payload: { channels: channels.map((id) => ({ id })) } });
  const ack = (await p.next("client_config_ack")).payload as Record<string, unknown>;
  return { probe: p, req, ack, ssrc: ack.ssrc as number };
}

Deno.test("SR + SDES CNAME reach udp_port + 1 every ≤ 5 s with an exact NTP ↔ RTP mapping; BYE at the end", async () => {
  const srv = await startTestServer();
  const peer = new Peer(true);
  try {
    const { probe, req, ack, ssrc } = await stream(srv, peer, [1, 2]);
    const rtcpPort = srv.rtpPort + 1;
    const meta = await (await fetch(`${srv.url}/audio-meta`)).json();
    assert.deepEqual([meta.rtp.server_port, meta.rtp.rtcp_port], [srv.rtpPort, rtcpPort]);
    assert.match(
      req.sdp,
      new RegExp(`\r\na=rtcp:${rtcpPort}\r\n`),
      "a=rtcp in /request-audio's SDP",
    );
    assert.match(ack.sdp as string, new RegExp(`\r\na=rtcp:${rtcpPort}\r\n`), "and in the ack's");
    // Two SRs: the first comes with the first period, the next within the interval.
    await until("two sender reports", () => peer.srs().length >= 2);
    const srs = peer.srs();
    for (const { sr, all } of srs) {
      assert.equal(sr.ssrc, ssrc);
      const sdes = all.find((p) => p.type === "sdes");
      assert.ok(sdes && sdes.type === "sdes", "SDES in the same compound");
      assert.equal(sdes.chunks[0].ssrc, ssrc);
      assert.match(sdes.chunks[0].cname ?? "", /^m32-server@/);
    }
    assert.equal(peer.rtcp[0].from.port, rtcpPort, "RTCP leaves from the server's rtp_port + 1");
    assert.ok(srs[1].at - srs[0].at <= SR_INTERVAL_MAX_MS + 500, "the next SR within 5 s");
    // The mapping: at the SR's NTP instant the stream's RTP clock reads its RTP timestamp, the
    // same clock as every packet's capture-time extension (timestamp ↔ capture ms).
    for (const { sr } of srs) {
      const ntpMs = unixMsFromNtp(sr.ntpSeconds, sr.ntpFraction);
      const ref = peer.rtp.findLast((x) => x.captureMs !== null && x.ssrc === ssrc)!;
      const expected = (ref.ts + Math.round(((ntpMs - ref.captureMs!) * 48000) / 1000)) >>> 0;
      const diff = (sr.rtpTimestamp - expected) | 0;
      // The extension carries whole milliseconds (floored: it reads up to 48 ticks late).
      assert.ok(
        diff >= -49 && diff <= 1,
        `SR rtp ${sr.rtpTimestamp} vs ${expected} (${diff} ticks)`,
      );
      // Counts: the packets (and payload octets) sent before the SR, all received on loopback.
      const before = peer.rtp.slice(0, sr.packetCount);
      assert.equal(before.length, sr.packetCount, "no more packets counted than sent");
      assert.equal(sr.octetCount, before.reduce((a, x) => a + x.payload, 0), "payload octets");
    }
    await probe.close();
    const bye = await until(
      "BYE",
      () => peer.rtcp.find((r) => r.packets.some((p) => p.type === "bye")),
    );
    const b = bye.packets.find((p) => p.type === "bye")!;
    assert.ok(b.type === "bye" && b.ssrcs[0] === ssrc);
    assert.equal(bye.packets[0].type, "sr", "the BYE's compound opens with a final SR");
    const last = bye.packets[0];
    // RTP and RTCP leave from two sockets: let the last RTP packets land before counting.
    await new Promise((r) => setTimeout(r, 300));
    if (last.type === "sr") {
      assert.equal(last.packetCount, peer.rtp.length, "every packet sent is counted, and no more");
    }
  } finally {
    await peer.close();
    await srv.stop();
  }
});

Deno.test("receiver reports from the session's own address show in the admin client list; others and garbage are ignored", async () => {
  const srv = await startTestServer({ adminPassword: PASSWORD });
  const peer = new Peer(true);
  const other = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.2", port: 0 });
  try {
    const { probe, ssrc } = await stream(srv, peer, [3]);
    const cookie = await login(srv.url);
    const { sr, at } = await until("an SR", () => peer.srs()[0]);
    const lsr = ntpMiddle32(unixMsFromNtp(sr.ntpSeconds, sr.ntpFraction));
    const rr = (lost: number, jitter: number, dlsr: number) => {
      const b = new Uint8Array(32);
      writeReceiverReport(b, 0, 0xabcdef01, [{
        ssrc,
        fractionLost: 64,
        cumulativeLost: lost,
        highestSeq: 1000,
        jitter,
        lsr,
        dlsr,
      }]);
      return b;
    };
    const server = { transport: "udp" as const, hostname: "127.0.0.1", port: srv.rtpPort + 1 };
    const rtcpConn = peer.rtcpConn!;
    // Garbage first: the server must keep going.
    for (let i = 0; i < 50; i++) {
      const junk = crypto.getRandomValues(new Uint8Array(1 + (i * 7) % 300));
      if (i % 2) junk[0] = 0x81;
      await rtcpConn.send(junk, server);
    }
    // The same report from another address (127.0.0.2) is not this session's.
    await other.send(rr(99, 4800, 0), server);
    const clients = async () =>
      (await call(srv.url, "GET", "/api/admin/clients", { cookie })).body as {
        client_id: string;
        rtcp: Record<string, number | string | null> | null;
      }[];
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await clients())[0].rtcp, null, "a report from another address is refused");
    // The session's own: held 20 ms after the SR arrived (DLSR), jitter 96 ticks = 2 ms at 48 kHz.
    const held = Date.now() - at;
    await rtcpConn.send(rr(7, 96, Math.round((held / 1000) * 65536)), server);
    let r: Record<string, number | string | null> | null = null;
    for (let i = 0; i < 100 && !r; i++) {
      r = (await clients())[0].rtcp;
      if (!r) await new Promise((res) => setTimeout(res, 50));
    }
    assert.ok(r, "the report reaches the client list");
    assert.equal(r.reports, 1);
    assert.equal(r.fraction_lost, 0.25);
    assert.equal(r.cumulative_lost, 7);
    assert.equal(r.jitter_ms, 2);
    assert.ok(
      typeof r.round_trip_ms === "number" && r.round_trip_ms >= 0 && r.round_trip_ms < 1000,
    );
    // Still streaming after all that.
    const n = peer.rtp.length;
    await until("more packets", () => peer.rtp.length > n + 50);
    await probe.close();
  } finally {
    other.close();
    await peer.close();
    await srv.stop();
  }
});

Deno.test("a client that never listens on udp_port + 1 loses nothing (ICMP errors ignored)", async () => {
  const srv = await startTestServer();
  const peer = new Peer(false);
  // Nobody listens on udp_port + 1: every SR there draws an ICMP port unreachable.
  try {
    const { probe } = await stream(srv, peer, [1]);
    await new Promise((r) => setTimeout(r, SR_INTERVAL_MAX_MS * 2 + 500));
    await probe.close();
    await new Promise((r) => setTimeout(r, 200));
    const seqs = peer.rtp.map((x) => x.seq);
    assert.ok(seqs.length > 1000, `${seqs.length} packets`);
    for (let i = 1; i < seqs.length; i++) {
      assert.equal(seqs[i], (seqs[i - 1] + 1) & 0xffff, `no gap at ${i}`);
    }
    const h = await (await fetch(`${srv.url}/health`)).json();
    assert.equal(h.status, "ok");
  } finally {
    await peer.close();
    await srv.stop();
  }
});

Deno.test("sender reports carry the RTP's DSCP (TOS 0xb8 for EF 46), as tcpdump sees them", async () => {
  const srv = await startTestServer();
  const peer = new Peer(true);
  try {
    const dump = new Deno.Command("tcpdump", {
      args: [
        "-i",
        "lo",
        "-n",
        "-v",
        "-l",
        "-c",
        "1",
        "udp",
        "and",
        "dst",
        "port",
        String(peer.port + 1),
      ],
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    await new Promise((r) => setTimeout(r, 700)); // let tcpdump attach
    const { probe } = await stream(srv, peer, [1]);
    const timer = setTimeout(() => dump.kill(), 10000);
    const out = await dump.output();
    clearTimeout(timer);
    const text = new TextDecoder().decode(out.stdout);
    assert.match(text, /tos 0xb8/, text + new TextDecoder().decode(out.stderr));
    assert.match(text, new RegExp(`\\.${srv.rtpPort + 1} > 127\\.0\\.0\\.1\\.${peer.port + 1}`));
    await probe.close();
  } finally {
    await peer.close();
    await srv.stop();
  }
});
