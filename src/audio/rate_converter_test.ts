import assert from "node:assert/strict";
import { ResamplingConverter } from "./rate_converter.ts";
import { TestSignalSource } from "./test_signal.ts";
import type { Period } from "./source.ts";
import { ManualClock } from "../util/clock.ts";

const CHANNELS = 32;
/** The converter rates a session can ask for below the native rate (contract §7). */
const CONVERSIONS: [number, number][] = [
  [48000, 24000],
  [48000, 32000],
  [48000, 44100],
  [44100, 24000],
  [44100, 32000],
];

/** Worst |wire value − id| over every sample of `p`, at `bits` (contract §6: ≤ 1 after resampling). */
function worstIdError(p: Period, bits: 16 | 24): { worst: number; at: string } {
  let worst = 0;
  let at = "";
  for (let f = 0; f < p.frames; f++) {
    for (let c = 0; c < p.channels; c++) {
      const err = Math.abs((p.data[f * p.channels + c] >> (32 - bits)) - (c + 1));
      if (err > worst) {
        worst = err;
        at = `output frame ${p.frameIndex + f}, channel ${c + 1}`;
      }
    }
  }
  return { worst, at };
}

function idSource(clock: ManualClock, sampleRate: number, bits: 16 | 24): TestSignalSource {
  return new TestSignalSource({
    mode: "id",
    sampleRate,
    framesPerPeriod: Math.round(sampleRate * 0.005),
    bits,
    channels: CHANNELS,
    clock,
    ticker: { start: () => {}, stop: () => {} },
  });
}

/** Moves the clock `periods` packet times ahead, one at a time, delivering each period. */
function run(src: TestSignalSource, clock: ManualClock, periods: number): void {
  for (let k = 0; k < periods; k++) {
    clock.advance(5);
    src.produceDue(clock.now());
  }
}

Deno.test("every resampled sample of the id signal is within ±1 from the very first one", () => {
  for (const [from, to] of CONVERSIONS) {
    for (const bits of [24, 16] as const) {
      const conv = new ResamplingConverter(from, to, 4096);
      const clock = new ManualClock();
      const src = idSource(clock, from, bits);
      let inFrames = 0;
      let outFrames = 0;
      let nextIndex = 0;
      src.start((p) => {
        inFrames += p.frames;
        const out = conv.process(p);
        if (!out) return;
        const { worst, at } = worstIdError(out, bits);
        assert(worst <= 1, `${from} → ${to} Hz, L${bits}: off by ${worst} at ${at}`);
        assert.equal(out.frameIndex, nextIndex, "output frames follow each other without a gap");
        nextIndex += out.frames;
        outFrames += out.frames;
      }, { onFault: () => {} });
      run(src, clock, 40);
      // No frame is lost or invented: everything in, minus the filter's bounded look-ahead.
      const exact = (inFrames * to) / from;
      assert(outFrames <= exact && outFrames > exact - to * 0.004, `${from} → ${to}: ${outFrames}`);
      src.stop();
      conv.close();
    }
  }
});

Deno.test("a gap in the source mid-stream (a stalled test signal resyncs) keeps every sample within ±1", () => {
  for (const [from, to] of CONVERSIONS) {
    const conv = new ResamplingConverter(from, to, 4096);
    const clock = new ManualClock();
    const src = idSource(clock, from, 24);
    // Only what comes after the stall is checked here (the test above covers the start).
    let afterStall = false;
    let checked = 0;
    src.start((p) => {
      const out = conv.process(p);
      if (!out || !afterStall) return;
      checked += out.frames;
      const { worst, at } = worstIdError(out, 24);
      assert(worst <= 1, `${from} → ${to} Hz after the stall: off by ${worst} at ${at}`);
    }, { onFault: () => {} });
    run(src, clock, 24);
    // The main thread stalls for 300 ms (20 sessions rejoining after a config change): the test
    // signal drops the backlog and goes on from the current period, a jump in its frame index.
    clock.advance(300);
    afterStall = true;
    src.produceDue(clock.now());
    assert(src.skippedPeriods > 0, "the stall made the source skip periods");
    run(src, clock, 24);
    assert(checked > 0);
    src.stop();
    conv.close();
  }
});
