import assert from "node:assert/strict";
import { LatenessHistogram } from "./lateness.ts";

Deno.test("lateness percentiles are bin upper edges and the maximum is exact", () => {
  const h = new LatenessHistogram();
  for (let i = 0; i < 998; i++) h.add(0.305);
  h.add(4.005);
  h.add(250); // beyond the last bin: counted, and the exact maximum kept
  const s = h.summary();
  assert.equal(s.count, 1000);
  assert.ok(Math.abs(s.p50 - 0.31) < 1e-9);
  assert.ok(Math.abs(s.p99 - 0.31) < 1e-9);
  assert.ok(Math.abs(s.p999 - 4.01) < 1e-9);
  assert.equal(s.max, 250);
  assert.equal(h.countAbove(5), 1);
  assert.equal(h.countAbove(1), 2);
});

Deno.test("early periods count as on time and a shared buffer is read by a second view", () => {
  const sab = new SharedArrayBuffer(new LatenessHistogram().buffer.byteLength);
  const writer = new LatenessHistogram(sab);
  const reader = new LatenessHistogram(sab);
  writer.add(-0.2);
  assert.equal(reader.summary().count, 1);
  assert.equal(reader.summary().max, 0);
  reader.reset();
  assert.equal(writer.summary().count, 0);
  assert.ok(Number.isNaN(writer.summary().p50));
});

Deno.test("runs pooled from their counts give the percentiles of all their periods together", () => {
  const a = new LatenessHistogram();
  const b = new LatenessHistogram();
  for (let i = 0; i < 999; i++) a.add(0.5);
  a.add(7.25);
  for (let i = 0; i < 1000; i++) b.add(1.5);
  const pooled = new LatenessHistogram();
  // Through JSON, as the bench gets them from the server.
  pooled.merge(JSON.parse(JSON.stringify(a)));
  pooled.merge(JSON.parse(JSON.stringify(b)));
  const s = pooled.summary();
  assert.equal(s.count, 2000);
  assert.ok(Math.abs(pooled.percentile(49.95) - 0.51) < 1e-9); // rank 999: a's last 0.5 ms
  assert.ok(Math.abs(s.p50 - 1.51) < 1e-9); // rank 1000: b's first
  assert.ok(Math.abs(s.p999 - 1.51) < 1e-9); // rank 1998
  assert.equal(s.max, 7.25);
  assert.equal(pooled.countAbove(5), 1);
  pooled.merge(new LatenessHistogram().toJSON()); // an empty run changes nothing
  assert.equal(pooled.summary().max, 7.25);
  assert.throws(() => pooled.merge({ max: 1, bins: [[-1, 3]] }), RangeError);
});
