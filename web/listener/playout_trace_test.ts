import assert from "node:assert/strict";
import { GAP_EVENTS, LATENCY_SAMPLES, PlayoutTrace, SAMPLE_MS } from "./playout_trace.ts";

Deno.test("playout trace: one latency sample per SAMPLE_MS, gaps as given, drained once", () => {
  const t = new PlayoutTrace();
  for (let ms = 0; ms < 100; ms += 5) t.latency(1000 + ms, ms);
  t.addGaps([1050, 3, 0, 1060, 0, 2]);
  const d = t.drain();
  const times = d.latency.filter((_, i) => i % 2 === 0);
  assert.deepEqual(times, [1000, 1020, 1040, 1060, 1080].filter((x) => x - 1000 < 100));
  assert.ok(times.every((x, i) => i === 0 || x - times[i - 1] >= SAMPLE_MS));
  assert.deepEqual(d.gaps, [1050, 3, 0, 1060, 0, 2]);
  assert.deepEqual(t.drain(), { latency: [], gaps: [] });
});

Deno.test("playout trace nobody drains keeps only the newest samples and events", () => {
  const t = new PlayoutTrace();
  for (let k = 0; k < LATENCY_SAMPLES + 10; k++) t.latency(k * SAMPLE_MS, k);
  for (let k = 0; k < GAP_EVENTS + 10; k++) t.addGaps([k, 1, 0]);
  const d = t.drain();
  assert.equal(d.latency.length, LATENCY_SAMPLES * 2);
  assert.equal(d.latency[1], 10); // the 10 oldest went
  assert.equal(d.gaps.length, GAP_EVENTS * 3);
  assert.equal(d.gaps[0], 10);
});
