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
