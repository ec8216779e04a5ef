import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { CaptureTimeline, type TimelineStep } from "./alsa_timeline.ts";

const RATE = 48000;
const PERIOD = 240; // 5 ms
const PERIOD_MS = 5;
const T0 = 1_700_000_000_000;

function timeline() {
  return new CaptureTimeline({ sampleRate: RATE, periodFrames: PERIOD, bufferFrames: 4 * PERIOD });
}

function period(s: TimelineStep) {
  if (s.kind !== "period") throw new Error(`expected a period, got ${JSON.stringify(s)}`);
  return s;
}

Deno.test("steady periods get consecutive frame indexes and capture times one period apart", () => {
  const t = timeline();
  for (let i = 0; i < 10; i++) {
    const p = period(t.step(T0 + (i + 1) * PERIOD_MS, PERIOD));
    assertEquals(p.frameIndex, i * PERIOD);
    assert(Math.abs(p.captureTimeMs - (T0 + i * PERIOD_MS)) < 1e-6);
    assertEquals(p.lostFrames, 0);
  }
});

Deno.test("capture time stays on the earliest observation despite late read jitter", () => {
  const t = timeline();
  const jitter = [0, 3, 1, 4, 0.5, 2, 3.5, 0, 1];
  let last = 0;
  jitter.forEach((j, i) => {
    last = period(t.step(T0 + (i + 1) * PERIOD_MS + j, PERIOD)).captureTimeMs;
  });
  const truth = T0 + (jitter.length - 1) * PERIOD_MS;
  assert(last - truth >= 0 && last - truth < 0.1, `capture time off by ${last - truth} ms`);
});

Deno.test("a read later than the device buffer is a gap that skips the lost frames", () => {
  const t = timeline();
  period(t.step(T0 + 5, PERIOD));
  period(t.step(T0 + 10, PERIOD));
  // device stalled 100 ms: next period completes at 115 instead of 15
  const p = period(t.step(T0 + 115, PERIOD));
  assertEquals(p.lostFrames, 100 * RATE / 1000);
  assertEquals(p.frameIndex, 2 * PERIOD + 4800);
  assertEquals(p.captureTimeMs, T0 + 110);
  assertEquals(t.gaps, 1);
  assertEquals(period(t.step(T0 + 120, PERIOD)).frameIndex, 3 * PERIOD + 4800);
});

Deno.test("a device-reported overrun counts as a gap even when timing looks fine", () => {
  const t = timeline();
  period(t.step(T0 + 5, PERIOD));
  const p = period(t.step(T0 + 10, PERIOD, true));
  assertEquals(t.gaps, 1);
  assertEquals(p.frameIndex, PERIOD);
});

Deno.test("draining a full buffer after a late wake-up is not a fault", () => {
  const t = timeline();
  period(t.step(T0 + 5, PERIOD));
  // woke 15 ms late, then read the 3 queued periods at once
  for (let i = 0; i < 4; i++) assertEquals(t.step(T0 + 25, PERIOD).kind, "period");
  assertEquals(t.gaps, 0);
});

Deno.test("periods arriving faster than real time are reported as runaway", () => {
  const t = timeline();
  period(t.step(T0 + 5, PERIOD));
  let step: TimelineStep = { kind: "runaway", aheadMs: 0 };
  let n = 0;
  for (; n < 100; n++) {
    step = t.step(T0 + 5 + n * 0.01, PERIOD);
    if (step.kind === "runaway") break;
  }
  assertEquals(step.kind, "runaway");
  assert(n <= 10, `runaway noticed only after ${n} periods`);
});
