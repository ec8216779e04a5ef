import assert from "node:assert/strict";
import { Reblocker } from "./reblocker.ts";
import type { Period } from "./source.ts";

function feed(sizes: number[], startIndex = 0, channels = 2) {
  const got: { frameIndex: number; captureTimeMs: number; frames: number; first: number }[] = [];
  const rb = Reblocker.packetTimes(() => 5, (p) =>
    got.push({
      frameIndex: p.frameIndex,
      captureTimeMs: p.captureTimeMs,
      frames: p.frames,
      first: p.data[0],
    }));
  let idx = startIndex;
  for (const n of sizes) {
    const data = new Int32Array(n * channels);
    for (let f = 0; f < n; f++) data[f * channels] = idx + f; // channel 1 carries the frame index
    const p: Period = {
      data,
      frames: n,
      channels,
      sampleRate: 48000,
      frameIndex: idx,
      captureTimeMs: 1000 + (idx * 1000) / 48000,
    };
    rb.push(p);
    idx += n;
  }
  return { got, rb };
}

Deno.test("reblocker turns 256-frame device periods into exact 240-frame packet times", () => {
  const { got } = feed([256, 256, 256, 256, 256]);
  assert.equal(got.length, 5); // 1280 frames → 5 × 240 (+80 pending)
  got.forEach((g, i) => {
    assert.equal(g.frames, 240);
    assert.equal(g.frameIndex, i * 240);
    assert.equal(g.first, i * 240, "samples stay aligned with their frame index");
    assert.ok(Math.abs(g.captureTimeMs - (1000 + i * 5)) < 1e-9);
  });
});

Deno.test("reblocker passes right-sized periods through untouched", () => {
  const { got } = feed([240, 240, 240]);
  assert.deepEqual(got.map((g) => g.frameIndex), [0, 240, 480]);
});

Deno.test("reblocker restarts at a frame-index jump and drops the partial block", () => {
  const got: number[] = [];
  const rb = Reblocker.packetTimes(() => 5, (p) => got.push(p.frameIndex));
  const mk = (frameIndex: number, frames: number): Period => ({
    data: new Int32Array(frames * 2),
    frames,
    channels: 2,
    sampleRate: 48000,
    frameIndex,
    captureTimeMs: 0,
  });
  rb.push(mk(0, 100));
  rb.push(mk(100, 100)); // 200 pending
  rb.push(mk(1000, 240)); // overrun: 700 frames lost
  assert.deepEqual(got, [1000]);
  assert.equal(rb.droppedFrames, 200);
});
