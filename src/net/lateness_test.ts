import assert from "node:assert/strict";
import { Lateness, LATENESS_BIN_MS } from "./lateness.ts";

Deno.test("lateness quantiles are within one bin of the values, the maximum exact", () => {
  const l = new Lateness();
  for (let i = 0; i < 98; i++) l.add(0.2);
  l.add(7.3);
  l.add(31.26);
  const s = l.summary();
  assert.equal(s.count, 100);
  assert.ok(Math.abs(s.p50Ms - 0.2) <= LATENESS_BIN_MS + 1e-9, `p50 ${s.p50Ms}`);
  assert.ok(Math.abs(s.p99Ms - 7.3) <= LATENESS_BIN_MS + 1e-9, `p99 ${s.p99Ms}`);
  assert.equal(s.maxMs, 31.26);
  assert.equal(s.over1Ms, 0.02);
});

Deno.test("lateness: an empty record says 0, a merge adds counts and keeps the larger maximum", () => {
  const a = new Lateness(), b = new Lateness();
  assert.deepEqual(a.summary(), { count: 0, p50Ms: 0, p99Ms: 0, maxMs: 0, over1Ms: 0 });
  a.add(1);
  b.add(5000); // beyond the histogram: the overflow bin, the maximum exact
  a.merge(b);
  assert.equal(a.count, 2);
  assert.equal(a.maxMs, 5000);
  assert.equal(a.quantile(1), 5000);
  a.reset();
  assert.equal(a.count, 0);
});
