import assert from "node:assert/strict";
import { CLIP_LEVEL, METER_DECAY, OutputMeter } from "./output_meter.ts";

const FRAMES = 240;

function block(value: number, at = 17): Float32Array {
  const b = new Float32Array(FRAMES * 2);
  b[at] = value;
  return b;
}

Deno.test("output meter holds the block's peak of either channel, then decays", () => {
  const m = new OutputMeter();
  m.note(block(-0.5, 1), FRAMES); // a right-channel sample, negative
  assert.equal(m.peak, 0.5);
  m.note(block(0), FRAMES);
  assert.ok(Math.abs(m.peak - 0.5 * METER_DECAY) < 1e-9);
  m.note(block(0.9), FRAMES);
  assert.ok(Math.abs(m.peak - 0.9) < 1e-6);
});

Deno.test("output meter counts a block that reaches full scale as a clip, not one below it", () => {
  const m = new OutputMeter();
  m.note(block(0.98), FRAMES);
  m.note(block(CLIP_LEVEL * 0.999), FRAMES);
  assert.equal(m.clips, 0);
  m.note(block(-1), FRAMES);
  m.note(block(1.7), FRAMES);
  assert.equal(m.clips, 2);
  m.note(block(0.2), FRAMES);
  assert.equal(m.clips, 2, "the count never goes back");
});

Deno.test("output meter reads only the frames it is given", () => {
  const m = new OutputMeter();
  const b = block(0.3, 0);
  b[FRAMES * 2 - 1] = 1.5; // beyond the 10 frames metered
  m.note(b, 10);
  assert.ok(Math.abs(m.peak - 0.3) < 1e-6);
  assert.equal(m.clips, 0);
});
