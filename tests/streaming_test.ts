/**
 * The streaming core end to end: the real server with the test signal, real
 * WebSockets and real UDP sockets on loopback.
 */
import assert from "node:assert/strict";
import { decodePcm, Probe } from "./helpers/probe.ts";
import { startTestServer } from "./helpers/server.ts";
import { PT_PCM } from "../src/rtp/packet.ts";
import { systemClock } from "../src/util/clock.ts";
import { clockSample } from "../src/client/clock_sync.ts";

Deno.test("several clients with different channel subsets each receive exactly their channels carrying their ids", async () => {
  const srv = await startTestServer();
  try {
    const subsets = [[1, 5, 32], [2], [16, 3, 9, 10]];
    const clients = await Promise.all(
      subsets.map((ids) => Probe.streaming(srv.url, { channels: ids.map((id) => ({ id })) })),
    );
    for (const [i, { probe, ack, req }] of clients.entries()) {
      // the server sends in mapping order (by default channel order)
      const want = [...subsets[i]].sort((a, b) => a - b);
      assert.deepEqual(ack.channels, want);
      assert.equal(ack.encoding, "L24");
      assert.equal(ack.payload_type, PT_PCM);
      assert.equal(ack.ssrc, req.ssrc);
      const pkts = await probe.waitPackets(40);
      for (const p of pkts.slice(0, 40)) {
        assert.equal(p.info.ssrc, ack.ssrc);
        assert.equal(p.info.payloadType, 96);
        assert.ok(p.bytes.length <= 1400);
        for (const frame of decodePcm(p, want.length, 3)) assert.deepEqual(frame, want);
      }
    }
    await Promise.all(clients.map((c) => c.probe.close()));
  } finally {
    await srv.stop();
  }
});

Deno.test("RTP stream has marker and extension first, contiguous sequence and timestamps of each packet's first frame", async () => {
  const srv = await startTestServer();
  try {
    const before = systemClock.now();
    const { probe } = await Probe.streaming(srv.url, {}); // all 32 channels: 2 packets per 5 ms
    const pkts = (await probe.waitPackets(60)).slice(0, 60);
    const after = systemClock.now();
    assert.equal(pkts[0].info.marker, true);
    assert.ok(pkts[0].info.captureTimeMs > 0, "first packet carries the capture time");
    assert.equal(pkts[0].info.eventFlags & 0x01, 0x01, "time_sync flag");
    // Server clock ms: captured after the client asked, before it had 60 packets.
    const capture = pkts[0].info.captureTimeMs;
    assert.ok(before <= capture && capture <= after, `${before} ≤ ${capture} ≤ ${after}`);
    for (let i = 1; i < pkts.length; i++) {
      const a = pkts[i - 1].info, b = pkts[i].info;
      assert.equal(b.marker, false);
      assert.equal(b.sequence, (a.sequence + 1) & 0xffff);
      const framesInA = a.payloadLength / (32 * 3);
      assert.equal((b.timestamp - a.timestamp) >>> 0, framesInA, `packet ${i}`);
      assert.equal(b.captureTimeMs, -1, "extension only every ext_interval_ms");
    }
    await probe.close();
  } finally {
    await srv.stop();
  }
});

Deno.test("the header extension repeats every ext_interval_ms of capture time", async () => {
  const srv = await startTestServer();
  try {
    srv.ctx.store.patch({ network: { ext_interval_ms: 100 } });
    const { probe } = await Probe.streaming(srv.url, { channels: [{ id: 1 }] });
    const pkts = await probe.waitPackets(90); // 1 packet per 5 ms: 450 ms
    const withExt = pkts.slice(0, 90).filter((p) => p.info.captureTimeMs >= 0);
    assert.ok(withExt.length >= 4 && withExt.length <= 5, `${withExt.length} extensions in 450 ms`);
    for (let i = 1; i < withExt.length; i++) {
      assert.equal(withExt[i].info.captureTimeMs - withExt[i - 1].info.captureTimeMs, 100);
      assert.equal((withExt[i].info.timestamp - withExt[i - 1].info.timestamp) >>> 0, 4800);
    }
    await probe.close();
  } finally {
    await srv.stop();
  }
});

Deno.test("L16 test signal carries the channel ids as 16-bit values", async () => {
  const srv = await startTestServer();
  try {
    srv.ctx.store.patch({ audio: { encoding: "L16" } });
    const { probe, ack } = await Probe.streaming(srv.url, { channels: [{ id: 7 }, { id: 31 }] });
    assert.equal(ack.encoding, "L16");
    const [p] = await probe.waitPackets(1);
    for (const f of decodePcm(p, 2, 2)) assert.deepEqual(f, [7, 31]);
    await probe.close();
  } finally {
    await srv.stop();
  }
});

Deno.test("datagrams respect a smaller max_datagram_bytes by splitting a packet time", async () => {
  const srv = await startTestServer();
  try {
    srv.ctx.store.patch({ audio: { max_datagram_bytes: 300 } });
    const { probe } = await Probe.streaming(srv.url, {});
    const pkts = await probe.waitPackets(50);
    for (const p of pkts) assert.ok(p.bytes.length <= 300, `${p.bytes.length} bytes`);
    // 240 frames × 96 bytes over ≤ 272-byte payloads (2 frames each): 120 packets per period
    const frames = pkts.slice(0, 50).reduce((n, p) => n + p.info.payloadLength / 96, 0);
    assert.equal(frames, 100);
    await probe.close();
  } finally {
    await srv.stop();
  }
});

Deno.test("heartbeat timeout stops the stream: nothing beyond what the server sent before ending it", async () => {
  const srv = await startTestServer({ heartbeatTimeoutS: 1 });
  try {
    const { probe } = await Probe.streaming(srv.url, { channels: [{ id: 1 }] });
    // A second client that keeps its session alive: its packets measure time in packet times.
    const { probe: witness } = await Probe.streaming(srv.url, { channels: [{ id: 2 }] });
    const beat = setInterval(() => witness.send({ type: "heartbeat" }), 250);
    try {
      await probe.waitPackets(10);
      await probe.until("session closed", () => probe.closeCode !== null, 5000);
      assert.equal(probe.closeCode, 4000);
      const ended = srv.logs.find((l) =>
        l.includes("client session ended") && l.includes(`client=${probe.clientId} `)
      );
      const sent = Number(/packets_sent=(\d+)/.exec(ended ?? "")?.[1]);
      assert.ok(sent >= 10, `the server reports what it sent: ${ended}`);
      // 20 packet times later (the witness streams 1 packet per period)…
      const seen = witness.packets.length;
      await witness.waitPackets(seen + 20);
      // …the timed-out client has exactly what was sent before its session ended.
      assert.equal(probe.packets.length, sent, "no audio after the timeout, none lost before");
      assert.equal(witness.closeCode, null);
    } finally {
      clearInterval(beat);
    }
    const health = await (await fetch(`${srv.url}/health`)).json();
    assert.equal(health.streaming_clients, 1);
    await witness.close();
    await probe.close();
  } finally {
    await srv.stop();
  }
});

Deno.test("heartbeats keep a session alive past the timeout", async () => {
  const srv = await startTestServer({ heartbeatTimeoutS: 1 });
  try {
    const { probe } = await Probe.streaming(srv.url, { channels: [{ id: 1 }] });
    for (let i = 0; i < 6; i++) {
      probe.send({ type: "heartbeat", timestamp: new Date().toISOString() });
      await probe.next("heartbeat_ack");
      await new Promise((r) => setTimeout(r, 400));
    }
    assert.equal(probe.closeCode, null);
    await probe.close();
  } finally {
    await srv.stop();
  }
});

Deno.test("audio is produced only while a client streams: the last client leaving closes the source", async () => {
  const srv = await startTestServer();
  try {
    const health = async () => await (await fetch(`${srv.url}/health`)).json();
    assert.equal((await health()).source_state, "idle");
    assert.equal(srv.ctx.engine.periods, 0);
    const a = await Probe.streaming(srv.url, { channels: [{ id: 1 }] });
    const b = await Probe.streaming(srv.url, { channels: [{ id: 2 }] });
    await a.probe.waitPackets(5);
    assert.equal((await health()).source_state, "running");
    assert.equal((await health()).streaming_clients, 2);
    await a.probe.close();
    await b.probe.waitPackets(b.probe.packets.length + 5);
    assert.equal((await health()).source_state, "running", "one client still streams");
    await b.probe.close();
    await a.probe.until("idle", () => srv.ctx.capture.status.state === "idle");
    const periods = srv.ctx.engine.periods;
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(srv.ctx.engine.periods, periods, "no periods after the last client left");
    assert.equal((await health()).source_state, "idle");
  } finally {
    await srv.stop();
  }
});

Deno.test("client_config before /request-audio is stored and acknowledged; streaming starts with the destination", async () => {
  const srv = await startTestServer();
  try {
    const p = await Probe.connect(srv.url);
    p.send({ type: "client_config", payload: { channels: [{ id: 4 }] } });
    const ack = (await p.next("client_config_ack")).payload as Record<string, unknown>;
    assert.deepEqual(ack.channels, [4]);
    p.openUdp();
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(p.packets.length, 0, "nothing sent before the destination is known");
    const req = await (await p.requestAudio()).json();
    assert.equal(req.ssrc, ack.ssrc);
    const [pkt] = await p.waitPackets(1);
    assert.equal(pkt.info.ssrc, ack.ssrc);
    await p.close();
  } finally {
    await srv.stop();
  }
});

Deno.test("a new client_config during streaming replaces the stream with a new SSRC", async () => {
  const srv = await startTestServer();
  try {
    const { probe, ack } = await Probe.streaming(srv.url, { channels: [{ id: 1 }] });
    await probe.waitPackets(3);
    probe.send({ type: "client_config", payload: { channels: [{ id: 2 }, { id: 3 }] } });
    const ack2 = (await probe.next("client_config_ack")).payload as Record<string, unknown>;
    assert.notEqual(ack2.ssrc, ack.ssrc);
    const p = await probe.until(
      "new stream",
      () => probe.packets.find((x) => x.info.ssrc === ack2.ssrc),
    );
    assert.equal(p.info.marker, true);
    assert.deepEqual(decodePcm(p, 2, 3)[0], [2, 3]);
    await probe.close();
  } finally {
    await srv.stop();
  }
});

/** The server gives t2/t3 to the microsecond (`ms3` in src/http/ws.ts). */
const NTP_ROUNDING_MS = 0.0005;

Deno.test("ntp_request is answered with server times that lie between the client's send and receive", async () => {
  const srv = await startTestServer();
  try {
    const p = await Probe.connect(srv.url);
    // Client and server share this clock here, so the true offset is 0 and the
    // NTP relation t1 ≤ t2 ≤ t3 ≤ t4 must hold exactly (then |offset| ≤ rtt / 2).
    const t1 = systemClock.now();
    p.send({ type: "ntp_request", t1 });
    const r = await p.next("ntp_response");
    const t4 = systemClock.now();
    assert.equal(r.t1, t1);
    const t2 = r.t2 as number, t3 = r.t3 as number;
    assert.ok(t1 <= t2 + NTP_ROUNDING_MS, `t2 ${t2} before t1 ${t1}`);
    assert.ok(t2 <= t3, `t3 ${t3} before t2 ${t2}`);
    assert.ok(t3 <= t4 + NTP_ROUNDING_MS, `t3 ${t3} after t4 ${t4}`);
    const s = clockSample(t1, t2, t3, t4);
    assert.ok(Math.abs(s.offsetMs) <= s.rttMs / 2 + NTP_ROUNDING_MS, JSON.stringify(s));
    await p.close();
  } finally {
    await srv.stop();
  }
});
