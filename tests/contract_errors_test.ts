/**
 * Bad input always gets the contract's error shape and the server keeps serving.
 */
import assert from "node:assert/strict";
import { Probe } from "./helpers/probe.ts";
import { startTestServer } from "./helpers/server.ts";

function assertErrorShape(body: unknown, code: string) {
  const e = (body as { error?: { code?: string; message?: string } }).error;
  assert.ok(e, `error shape: ${JSON.stringify(body)}`);
  assert.equal(e.code, code);
  assert.equal(typeof e.message, "string");
  assert.ok(e.message!.length > 5);
  assert.doesNotMatch(e.message!, /at .*\.ts:\d+/, "no stack trace");
}

Deno.test("WebSocket: bad JSON, unknown types, bad payloads and unmapped channels get errors and the socket stays open", async () => {
  const srv = await startTestServer();
  try {
    const ch = srv.ctx.store.getChannels();
    ch[6].enabled = false; // channel 7 not mapped
    srv.ctx.store.setChannels(ch);
    const p = await Probe.connect(srv.url);
    const cases: [unknown, string, RegExp][] = [
      ["{not json", "bad_json", /JSON/],
      [[1, 2], "invalid_payload", /object/],
      [{ no: "type" }, "invalid_payload", /type/],
      [{ type: "dance" }, "unknown_type", /dance/],
      [
        { type: "client_config", payload: { channels: [{ id: 7 }] } },
        "invalid_payload",
        /channel 7 is not mapped/,
      ],
      [
        { type: "client_config", payload: { channels: [{ id: 33 }] } },
        "invalid_payload",
        /channels\.0\.id/,
      ],
      [
        { type: "client_config", payload: { sample_rate: 96000 } },
        "invalid_payload",
        /sample_rate/,
      ],
      [
        { type: "client_config", payload: { compression: "flac" } },
        "invalid_payload",
        /compression/,
      ],
      [{ type: "client_config" }, "invalid_payload", /payload/],
      [{ type: "ntp_request" }, "invalid_payload", /t1/],
    ];
    for (const [msg, code, re] of cases) {
      p.send(typeof msg === "string" ? msg : JSON.stringify(msg));
      const err = await p.next("error");
      assert.equal(err.code, code, JSON.stringify(msg));
      assert.match(String(err.message), re);
    }
    assert.equal(p.closeCode, null, "still open");
    p.send({ type: "heartbeat", timestamp: "2025-07-15T10:05:00Z" });
    await p.next("heartbeat_ack");
    await p.close();
  } finally {
    await srv.stop();
  }
});

Deno.test("WebSocket: a message over 64 KiB gets too_large and the connection is closed with 1009", async () => {
  const srv = await startTestServer();
  try {
    const p = await Probe.connect(srv.url);
    p.send(JSON.stringify({ type: "heartbeat", pad: "x".repeat(70 * 1024) }));
    const err = await p.next("error");
    assert.equal(err.code, "too_large");
    await p.until("close", () => p.closeCode !== null);
    assert.equal(p.closeCode, 1009);
    const q = await Probe.connect(srv.url); // server keeps serving
    await q.close();
    await p.close();
  } finally {
    await srv.stop();
  }
});

Deno.test("/request-audio rejects bad ports (400), missing sessions (409) and a full server (503)", async () => {
  const srv = await startTestServer();
  try {
    for (const port of ["", "80", "70000", "abc", "5004.5", "-1"]) {
      const r = await fetch(`${srv.url}/request-audio?udp_port=${port}`);
      assert.equal(r.status, 400, port);
      assertErrorShape(await r.json(), "invalid_port");
    }
    const r409 = await fetch(`${srv.url}/request-audio?udp_port=5004`);
    assert.equal(r409.status, 409);
    assertErrorShape(await r409.json(), "no_session");
    const r409b = await fetch(`${srv.url}/request-audio?udp_port=5004&client_id=nobody`);
    assert.equal(r409b.status, 409);
    assertErrorShape(await r409b.json(), "no_session");

    srv.ctx.store.patch({ network: { max_clients: 1 } });
    const a = await Probe.streaming(srv.url, { channels: [{ id: 1 }] });
    const b = await Probe.connect(srv.url);
    b.openUdp();
    const full = await b.requestAudio();
    assert.equal(full.status, 503);
    assertErrorShape(await full.json(), "server_full");
    // the streaming client is unaffected and may re-request
    assert.equal((await a.probe.requestAudio()).status, 200);
    await a.probe.close();
    await b.close();
  } finally {
    await srv.stop();
  }
});

Deno.test("/request-audio without client_id picks the newest WebSocket session from the same address", async () => {
  const srv = await startTestServer();
  try {
    const older = await Probe.connect(srv.url);
    const newer = await Probe.connect(srv.url);
    const r = await fetch(`${srv.url}/request-audio?udp_port=6000`, { method: "POST" });
    const body = await r.json();
    assert.equal(r.status, 200);
    assert.equal(body.client_id, newer.clientId);
    assert.equal(body.udp_port, 6000);
    await older.close();
    await newer.close();
  } finally {
    await srv.stop();
  }
});

Deno.test("HTTP: bad bodies, unknown paths and writes without a session get the error shape", async () => {
  const srv = await startTestServer();
  try {
    const post = (path: string, body: string) =>
      fetch(`${srv.url}${path}`, {
        method: "POST",
        body,
        headers: { "content-type": "application/json" },
      });
    let r = await post("/qos-metrics", "{oops");
    assert.equal(r.status, 400);
    assertErrorShape(await r.json(), "bad_json");
    r = await post(
      "/qos-metrics",
      JSON.stringify({ client_id: "x", metrics: { jitter_ms: "high" } }),
    );
    assert.equal(r.status, 400);
    assertErrorShape(await r.json(), "invalid_value");
    r = await post("/qos-metrics", "x".repeat(100 * 1024));
    assert.equal(r.status, 413);
    assertErrorShape(await r.json(), "too_large");
    r = await post("/jitter-thresholds", JSON.stringify({ interpolate: 1, drop: 2 }));
    assert.equal(r.status, 401);
    assertErrorShape(await r.json(), "unauthorized");
    assert.deepEqual(await (await fetch(`${srv.url}/jitter-thresholds`)).json(), {
      interpolate: 100,
      drop: 200,
    });
    r = await fetch(`${srv.url}/no-such-thing`);
    assert.equal(r.status, 404);
    assertErrorShape(await r.json(), "not_found");
    assert.equal((await fetch(`${srv.url}/health`)).status, 200, "still serving");
  } finally {
    await srv.stop();
  }
});

Deno.test("/qos-metrics is stored for the client and answered with real server figures", async () => {
  const srv = await startTestServer();
  try {
    const { probe } = await Probe.streaming(srv.url, { channels: [{ id: 1 }] });
    await probe.waitPackets(20);
    const report = {
      client_id: probe.clientId,
      timestamp: new Date().toISOString(),
      metrics: {
        packets_received: 20,
        packets_expected: 20,
        packet_loss_rate: 0,
        jitter_ms: 0.4,
        latency_ms: 6.1,
        bandwidth_mbps: 0.1,
      },
    };
    const r = await fetch(`${srv.url}/qos-metrics`, {
      method: "POST",
      body: JSON.stringify(report),
    });
    const body = await r.json();
    assert.equal(r.status, 200);
    assert.equal(body.status, "ok");
    const m = body.server_metrics;
    assert.equal(m.total_clients, 1);
    assert.ok(m.total_packets_sent >= 20);
    assert.ok(
      m.server_memory_usage > 10 && m.server_memory_usage < 4096,
      `${m.server_memory_usage} MiB`,
    );
    assert.ok(m.server_cpu_usage >= 0 && m.server_cpu_usage <= 200);
    assert.deepEqual(srv.ctx.sessions.get(probe.clientId)?.qos, report);
    await probe.close();
  } finally {
    await srv.stop();
  }
});
