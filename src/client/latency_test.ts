import assert from "node:assert/strict";
import { LatencyMeter } from "./latency.ts";

Deno.test("latency is receive time plus clock offset minus capture time", () => {
  const m = new LatencyMeter(48000);
  // Client clock 200 ms behind the server: offset +200.
  assert.equal(m.measure(1000, 1_000_000, 999_812, 200), 12);
  assert.deepEqual([m.count, m.lastMs, m.minMs, m.maxMs, m.meanMs], [1, 12, 12, 12, 12]);
});

Deno.test("latency waits for the first extension, then extrapolates from the RTP timestamp", () => {
  const m = new LatencyMeter(48000);
  assert.ok(Number.isNaN(m.measure(0, -1, 5, 0)));
  assert.equal(m.measure(4800, 10_000, 10_003, 0), 3); // anchor
  // 240 ticks later = captured 5 ms later; received 6 ms later.
  assert.equal(m.measure(5040, -1, 10_009, 0), 4);
  assert.equal(m.meanMs, 3.5);
  assert.equal(m.takeInterval(), 3.5);
  assert.ok(Number.isNaN(m.takeInterval()));
});

Deno.test("capture time of a timestamp comes from the anchor, without recording a sample", () => {
  const m = new LatencyMeter(48000);
  assert.ok(Number.isNaN(m.captureTimeOf(0)));
  m.measure(4800, 10_000, 10_003, 0);
  assert.equal(m.captureTimeOf(4800 + 480), 10_010);
  assert.equal(m.captureTimeOf(4800 - 48), 9_999);
  assert.equal(m.count, 1);
});

Deno.test("latency extrapolation survives the 32-bit RTP timestamp wrap", () => {
  const m = new LatencyMeter(48000);
  m.measure(0xffff_ff10, 50_000, 50_002, 0); // anchor 240 ticks before the wrap
  assert.equal(m.measure(0x30, -1, 50_007, 0), 1); // 240 + 48 ticks → captured +6 ms; received +5
});

Deno.test("latency restart drops the anchor but keeps the totals", () => {
  const m = new LatencyMeter(48000);
  m.measure(0, 100, 110, 0);
  m.restart(24000);
  assert.ok(Number.isNaN(m.measure(0, -1, 200, 0)));
  assert.equal(m.measure(24, 300, 301, 0), 1);
  assert.deepEqual([m.count, m.meanMs], [2, 5.5]);
});
