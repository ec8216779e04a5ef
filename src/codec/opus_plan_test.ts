import assert from "node:assert/strict";
import { OPUS_BANDWIDTH_FULLBAND, OPUS_BANDWIDTH_SUPERWIDEBAND } from "../../ffi/libopus.ts";
import { opusFrameMsFor, opusPlanFor } from "./opus_plan.ts";

Deno.test("opusPlanFor maps each asked rate to its Opus rate, band and bitrate tier", () => {
  const table = [48000, 44100, 32000, 24000].map((r) => {
    const p = opusPlanFor(r, 48000);
    return [r, p.sampleRate, p.maxBandwidth, p.bitrate, p.encodeRate, p.resampleFrom];
  });
  assert.deepEqual(table, [
    [48000, 48000, OPUS_BANDWIDTH_FULLBAND, 64000, 48000, null],
    [44100, 48000, OPUS_BANDWIDTH_FULLBAND, 56000, 48000, null],
    [32000, 24000, OPUS_BANDWIDTH_SUPERWIDEBAND, 48000, 48000, null],
    [24000, 24000, OPUS_BANDWIDTH_SUPERWIDEBAND, 40000, 48000, null],
  ]);
});

Deno.test("opusPlanFor on a 44.1 kHz console resamples to 48 kHz and caps a 48 kHz request", () => {
  const p = opusPlanFor(48000, 44100);
  assert.equal(p.resampleFrom, 44100);
  assert.equal(p.encodeRate, 48000);
  assert.equal(p.bitrate, 56000);
  assert.match(p.reason, /capped at the native 44100/);
  assert.equal(opusPlanFor(24000, 44100).sampleRate, 24000);
});

Deno.test("opusPlanFor lowers the bitrate at every step down the rate ladder", () => {
  const rates = [48000, 44100, 32000, 24000].map((r) => opusPlanFor(r, 48000).bitrate);
  for (let i = 1; i < rates.length; i++) assert(rates[i] < rates[i - 1]);
});

Deno.test("opusPlanFor rejects rates outside the contract", () => {
  assert.throws(() => opusPlanFor(16000, 48000), /got 16000/);
  assert.throws(() => opusPlanFor(48000, 96000), /got 96000/);
});

Deno.test("opusFrameMsFor picks the shortest Opus frame covering the packet time", () => {
  assert.deepEqual([1, 2.5, 5, 10, 20].map(opusFrameMsFor), [2.5, 2.5, 5, 10, 20]);
});
