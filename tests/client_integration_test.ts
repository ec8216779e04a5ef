/**
 * The reference client against the real server (test signal) on loopback:
 * decoded values equal channel ids, no loss, latency measured, causal and carrying
 * FORCE_DELAY_MS in full, and a server-initiated reconnect.
 */

import assert from "node:assert/strict";
import { startServer } from "../src/server.ts";
import { ReferenceClient } from "../src/client/session.ts";
import { openRtcpChannel, openUdpSource } from "../src/client/udp_source.ts";
import { runClientCli } from "../src/client/cli.ts";

type Server = Awaited<ReturnType<typeof startServer>>;

async function withServer(fn: (srv: Server) => Promise<void>): Promise<void> {
  const dataDir = await Deno.makeTempDir({ prefix: "m32-client-it-" });
  const srv = await startServer({
    httpPort: 0,
    rtpPort: 0,
    dataDir,
    source: "test",
    hostname: "127.0.0.1",
  });
  try {
    await fn(srv);
  } finally {
    await srv.close();
    await Deno.remove(dataDir, { recursive: true });
  }
}

function client(srv: Server, forceDelayMs = 0, lines: string[] = []): ReferenceClient {
  return new ReferenceClient({
    server: srv.url,
    udp: openUdpSource(0, "127.0.0.1"),
    channels: [1, 5, 32],
    forceDelayMs,
    log: (l) => lines.push(l),
    backoffInitialMs: 50,
  }).start();
}

/** Polls until `cond` holds; fails (naming `what`) if it never does within a generous limit. */
async function until(what: string, cond: () => boolean, limitMs = 20_000): Promise<void> {
  const end = Date.now() + limitMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

Deno.test("client receives channels 1,5,32 carrying their ids, with no loss on loopback", async () => {
  await withServer(async (srv) => {
    const lines: string[] = [];
    const started = performance.now();
    const c = client(srv, 0, lines);
    try {
      await until("300 packets", () => c.receiver.seq.received >= 300);
    } finally {
      await c.stop();
    }
    const ranMs = performance.now() - started;
    const s = c.summary();
    assert.deepEqual(s.channels, [1, 5, 32]);
    assert.deepEqual(s.values, { "1": 1, "5": 5, "32": 32 });
    assert.equal(s.encoding === "L24" || s.encoding === "L16", true);
    assert.ok(s.packets_received >= 300);
    assert.equal(s.packets_expected, s.packets_received);
    assert.equal(s.packet_loss_rate, 0);
    assert.equal(s.decode_errors, 0);
    // Causal: no packet is heard before its first sample was captured, up to the clock
    // sync's own error bound; and no packet took longer than the whole run.
    const floorMs = -c.clockSync.worstUsedRttMs / 2;
    assert.ok(s.latency_min_ms! >= floorMs, `latency ≥ ${floorMs} ms: ${JSON.stringify(s)}`);
    assert.ok(s.latency_max_ms! <= ranMs, `latency ≤ the ${ranMs} ms run: ${s.latency_max_ms}`);
    assert.equal(s.reconnects, 0);
    assert.ok(lines.some((l) => l.startsWith("[RTP] Extension sync:")), lines.join("\n"));
  });
});

const FORCE_DELAY_MS = 50;

Deno.test("FORCE_DELAY_MS=50 shows in full in every packet's measured latency", async () => {
  await withServer(async (srv) => {
    const plain = client(srv, 0);
    const delayed = client(srv, FORCE_DELAY_MS);
    try {
      await until(
        "both clients to measure 200 packets",
        () => plain.receiver.latency.count >= 200 && delayed.receiver.latency.count >= 200,
      );
    } finally {
      await Promise.all([plain.stop(), delayed.stop()]);
    }
    const a = plain.summary(), b = delayed.summary();
    const syncB = delayed.clockSync.worstUsedRttMs / 2;
    const why = `without delay ${JSON.stringify(a)}, with ${JSON.stringify(b)}`;
    // Each delayed packet is processed FORCE_DELAY_MS after it arrived, and it arrived after
    // its capture: the clock sync's error bound is the only slack.
    assert.ok(b.latency_min_ms! >= FORCE_DELAY_MS - syncB, why);
    assert.equal(b.packets_lost, 0);
  });
});

Deno.test("client reconnects after a reconnect event and keeps counting on the new SSRC", async () => {
  await withServer(async (srv) => {
    const lines: string[] = [];
    const c = client(srv, 0, lines);
    try {
      await until("first stream", () => c.receiver.seq.received >= 50);
      const firstSsrc = c.ack!.ssrc;
      const sessions = srv.ctx.sessions.list();
      assert.equal(sessions.length, 1);
      srv.ctx.sessions.end(sessions[0], "test asks for a reconnect", { type: "reconnect" });
      await until("second stream", () => c.ack !== null && c.ack.ssrc !== firstSsrc);
      const before = c.receiver.seq.received;
      await until("packets on the second stream", () => c.receiver.seq.received >= before + 50);
    } finally {
      await c.stop();
    }
    const s = c.summary();
    assert.equal(s.reconnects, 1);
    assert.deepEqual(s.values, { "1": 1, "5": 5, "32": 32 });
    assert.ok(lines.some((l) => l.startsWith("[WS] event reconnect")), lines.join("\n"));
  });
});

Deno.test("client command line prints a JSON summary as its last stdout line", async () => {
  await withServer(async (srv) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runClientCli(
      [
        "--server",
        srv.url,
        "--udp-port",
        "0",
        "--channels",
        "5,32",
        "--duration",
        "1",
        "--json",
        "--settings",
        "none",
      ],
      { env: () => undefined, stdout: (l) => out.push(l), stderr: (l) => err.push(l) },
    );
    assert.equal(code, 0, err.join("\n"));
    const s = JSON.parse(out[out.length - 1]);
    for (
      const k of [
        "packets_received",
        "packets_expected",
        "packet_loss_rate",
        "jitter_ms",
        "latency_ms",
        "sample_rate",
        "channels",
        "reconnects",
        "concealed_packets",
        "dropped_packets",
      ]
    ) assert.ok(k in s, `summary lacks ${k}`);
    assert.deepEqual(s.channels, [5, 32]);
    assert.deepEqual(s.values, { "5": 5, "32": 32 });
    assert.ok(s.packets_received > 0);
  });
});

Deno.test("client command line exits 2 on bad usage and 1 when no audio arrives", async () => {
  await withServer(async (srv) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runClientCli(
      ["--server", srv.url, "--udp-port", "0", "--channels", "1,33", "--json"],
      { env: () => undefined, stdout: (l) => out.push(l), stderr: (l) => err.push(l) },
    );
    assert.equal(code, 2); // 33 is outside 1–32: a usage error before connecting
    const code2 = await runClientCli(
      [
        "--server",
        "http://127.0.0.1:1",
        "--udp-port",
        "0",
        "--duration",
        "0.3",
        "--json",
        "--settings",
        "none",
      ],
      { env: () => undefined, stdout: (l) => out.push(l), stderr: (l) => err.push(l) },
    );
    assert.equal(code2, 1); // nothing listens there: no audio
    assert.equal(JSON.parse(out[out.length - 1]).packets_received, 0);
  });
});

Deno.test("client gives up (exit 1, error in the summary) on a channel the server does not map", async () => {
  await withServer(async (srv) => {
    const channels = srv.ctx.channels().map((c) => c.id === 7 ? { ...c, enabled: false } : c);
    srv.ctx.store.setChannels(channels);
    const out: string[] = [];
    const err: string[] = [];
    const code = await runClientCli(
      ["--server", srv.url, "--udp-port", "0", "--channels", "1,7", "--json", "--settings", "none"],
      { env: () => undefined, stdout: (l) => out.push(l), stderr: (l) => err.push(l) },
    );
    assert.equal(code, 1);
    const s = JSON.parse(out[out.length - 1]);
    assert.match(s.error, /channel 7 is not mapped/);
    assert.ok(err.some((l) => l.includes("giving up")), err.join("\n"));
  });
});

Deno.test("client takes the server's sender reports on udp_port + 1 and its receiver reports reach the admin client list", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "m32-client-it-" });
  const srv = await startServer({
    httpPort: 0,
    rtpPort: 0,
    dataDir,
    source: "test",
    hostname: "127.0.0.1",
    adminPassword: "stage-left-42",
  });
  let udp, rtcp;
  for (;;) {
    udp = openUdpSource(0, "127.0.0.1");
    try {
      rtcp = openRtcpChannel(udp.port + 1, "127.0.0.1");
      break;
    } catch {
      udp.close();
    }
  }
  const c = new ReferenceClient({
    server: srv.url,
    udp,
    rtcp,
    channels: [2],
    log: () => {},
    // The first receiver report after half the interval (2.5 s), then every 2.5 s.
    random: () => 0,
  }).start();
  try {
    const login = await fetch(`${srv.url}/api/admin/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ password: "stage-left-42" }),
    });
    await login.body?.cancel();
    const cookie = (login.headers.get("set-cookie") ?? "").split(";")[0];
    let row: Record<string, number | null> | null = null;
    const end = Date.now() + 20_000;
    while (!row && Date.now() < end) {
      const list = await (await fetch(`${srv.url}/api/admin/clients`, { headers: { cookie } }))
        .json();
      row = list[0]?.rtcp ?? null;
      if (!row) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(row, "the client's receiver report is in the admin client list");
    assert.ok(c.rtcp!.srReceived >= 1, "the client took the server's SR");
    assert.equal(row.cumulative_lost, 0);
    assert.equal(row.fraction_lost, 0);
    // It echoed the SR: the server knows the round trip.
    assert.ok(typeof row.round_trip_ms === "number" && row.round_trip_ms >= 0, JSON.stringify(row));
    // The SR counted packets the client then had (loopback loses none).
    const sr = c.rtcp!.lastSr!;
    assert.ok(sr.packetCount > 0 && sr.packetCount <= c.receiver.seq.received, JSON.stringify(sr));
  } finally {
    await c.stop();
    await srv.close();
    await Deno.remove(dataDir, { recursive: true });
  }
  const s = c.summary();
  assert.ok(
    s.rtcp && s.rtcp.sender_reports >= 1 && s.rtcp.receiver_reports >= 1,
    JSON.stringify(s.rtcp),
  );
});
