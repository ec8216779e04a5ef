import assert from "node:assert/strict";
import type { ClientSession } from "../session/sessions.ts";
import { QosHistory, samplePoint } from "./history.ts";

function session(
  streaming: boolean,
  qosAt: number | null,
  loss: number,
  jitter: number,
  latency: number,
) {
  return {
    stream: streaming ? {} : null,
    qosAt: qosAt ?? 0,
    qos: qosAt === null ? null : {
      client_id: "x",
      metrics: {
        packets_received: 0,
        packets_expected: 0,
        packet_loss_rate: loss,
        jitter_ms: jitter,
        latency_ms: latency,
        bandwidth_mbps: 0,
      },
    },
  } as unknown as ClientSession;
}

Deno.test("a history point takes the worst fresh figure over streaming clients", () => {
  const now = 100_000;
  const p = samplePoint([
    session(true, now - 1000, 0.01, 4, 30),
    session(true, now - 2000, 0.002, 9, 20),
    session(true, now - 60_000, 0.5, 99, 999), // stale report
    session(false, now, 0.9, 99, 999), // not streaming
  ], now);
  assert.equal(p.clients, 3);
  assert.equal(p.loss_pct, 1);
  assert.equal(p.jitter_ms, 9);
  assert.equal(p.latency_ms, 30);
});

Deno.test("with no fresh report the point has no figures", () => {
  const p = samplePoint([session(true, null, 0, 0, 0)], 5000);
  assert.deepEqual([p.clients, p.loss_pct, p.jitter_ms, p.latency_ms], [1, null, null, null]);
});

Deno.test("the history ring keeps only the newest points", () => {
  const h = new QosHistory(3);
  for (let t = 1; t <= 5; t++) {
    h.push({ t, clients: 0, loss_pct: null, jitter_ms: null, latency_ms: null });
  }
  assert.deepEqual(h.all().map((p) => p.t), [3, 4, 5]);
  assert.equal(h.latest?.t, 5);
});
