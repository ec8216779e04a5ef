import assert from "node:assert/strict";
import { encodePcm } from "./pcm.ts";
import type { Period } from "../audio/source.ts";

function period(samples24: number[][], channels: number): Period {
  const frames = samples24.length;
  const data = new Int32Array(frames * channels);
  samples24.forEach((f, i) => f.forEach((s, c) => (data[i * channels + c] = s << 8)));
  return { data, frames, channels, sampleRate: 48000, frameIndex: 0, captureTimeMs: 0 };
}

Deno.test("L24 encoder writes big-endian 24-bit samples interleaved in the client's order", () => {
  const p = period([[0x123456, -2, 7], [1, 0x7fffff, -0x800000]], 3);
  const out = new Uint8Array(18);
  const n = encodePcm(p, Int32Array.from([2, 0]), "L24", out);
  assert.equal(n, 12);
  assert.deepEqual([...out.subarray(0, n)], [
    0x00,
    0x00,
    0x07,
    0x12,
    0x34,
    0x56, // frame 0: ch3, ch1
    0x80,
    0x00,
    0x00,
    0x00,
    0x00,
    0x01, // frame 1: ch3 (-0x800000), ch1
  ]);
});

Deno.test("L16 encoder keeps the top 16 bits exactly (sample >> 16)", () => {
  const p = period([[0x123456, -2]], 2);
  const out = new Uint8Array(4);
  encodePcm(p, Int32Array.from([0, 1]), "L16", out);
  const v = new DataView(out.buffer);
  assert.equal(v.getInt16(0), (0x123456 << 8) >> 16);
  assert.equal(v.getInt16(2), (-2 << 8) >> 16);
});
