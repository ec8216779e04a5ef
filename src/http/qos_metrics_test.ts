/**
 * `/qos-metrics` acceptance (contract §3) in-process, on a stub context: only
 * a report for a known session, from that session's address, within the rate
 * limit, is stored and reaches the adaptation hook (`ctx.onQos`).
 */
import assert from "node:assert/strict";
import type { QosReport } from "./schemas.ts";
import type { ServerContext } from "./context.ts";
import { createApp } from "./app.ts";
import { ManualClock } from "../util/clock.ts";
import { getLogger } from "../util/log.ts";
import { REPORTS_PER_WINDOW } from "./report_rate_limit.ts";

function rig() {
  const clock = new ManualClock();
  const sessions = new Map([["c1-a", { id: "c1-a", ip: "192.168.1.20" }]]);
  const reached: QosReport[] = [];
  const stored: string[] = [];
  const ctx = {
    clock,
    log: getLogger("test"),
    sessions: {
      get: (id: string) => sessions.get(id),
      recordQos: (r: QosReport) => {
        stored.push(r.client_id);
        return sessions.get(r.client_id);
      },
      streamingCount: 1,
    },
    engine: { totalPackets: 0 },
    metrics: { cpuPercent: 0 },
    onQos: (r: QosReport) => reached.push(r),
  } as unknown as ServerContext;
  const app = createApp(ctx);
  const post = (clientId: string, from: string) =>
    app.request("/qos-metrics", {
      method: "POST",
      body: JSON.stringify({
        client_id: clientId,
        timestamp: "2026-12-04T07:00:00Z",
        metrics: {
          packets_received: 100,
          packets_expected: 100,
          packet_loss_rate: 0,
          jitter_ms: 1,
          latency_ms: 900,
          bandwidth_mbps: 1,
        },
      }),
    }, { remoteAddr: { hostname: from, port: 40000, transport: "tcp" } });
  return { clock, app, post, reached, stored };
}

Deno.test("rejected /qos-metrics reports (unknown client, other address, over the rate) never reach the adaptation", async () => {
  const r = rig();
  let res = await r.post("c9-nobody", "192.168.1.20");
  assert.equal(res.status, 404);
  assert.equal((await res.json()).error.code, "unknown_client");
  res = await r.post("c1-a", "192.168.1.66");
  assert.equal(res.status, 403);
  assert.equal((await res.json()).error.code, "wrong_address");
  res = await r.post("c1-a", "::ffff:192.168.1.66");
  assert.equal(res.status, 403, "an IPv4-mapped address is that IPv4 address");
  await res.body?.cancel();
  assert.equal(r.reached.length, 0);
  assert.equal(r.stored.length, 0);

  r.clock.advance(1000); // the refused ones above used up 2 of the other address's 10 only
  for (let i = 0; i < REPORTS_PER_WINDOW; i++) {
    res = await r.post("c1-a", "192.168.1.20");
    assert.equal(res.status, 200, `report ${i + 1}`);
    await res.body?.cancel();
  }
  res = await r.post("c1-a", "192.168.1.20");
  assert.equal(res.status, 429);
  const body = await res.json();
  assert.equal(body.error.code, "too_many_requests");
  assert.equal(typeof body.error.message, "string");
  assert.equal(r.reached.length, REPORTS_PER_WINDOW, "the 11th did not reach the policy");
  assert.equal(r.stored.length, REPORTS_PER_WINDOW);

  r.clock.advance(1000);
  res = await r.post("c1-a", "::ffff:192.168.1.20");
  assert.equal(res.status, 200, "accepted again a second later");
  await res.body?.cancel();
  assert.equal(r.reached.length, REPORTS_PER_WINDOW + 1);
});
