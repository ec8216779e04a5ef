import assert from "node:assert/strict";
import {
  libopus,
  OPUS_BANDWIDTH_FULLBAND,
  OPUS_BANDWIDTH_SUPERWIDEBAND,
} from "../../ffi/libopus.ts";
import {
  OPUS_FRAME_MS,
  OPUS_MAX_FRAME_BYTES,
  OPUS_RATES,
  OpusMonoEncoder,
} from "./opus_encoder.ts";
import { OpusMultistreamDecoder } from "./opus_decoder.ts";
import { multistreamByteLength, writeMultistream } from "./opus_multistream.ts";
import { db, fitTone } from "../audio/test_tone_check.ts";

const FULL_SCALE = 2 ** 31;

/** The `tone` test signal: channel id (1-based) carries id×100 Hz at −20 dBFS. */
function tone(
  channels: number,
  rate: number,
  start: number,
  frames: number,
  freq = (id: number) => id * 100,
) {
  const pcm = new Int32Array(frames * channels);
  for (let i = 0; i < frames; i++) {
    for (let c = 0; c < channels; c++) {
      pcm[i * channels + c] = Math.round(
        0.1 * FULL_SCALE * Math.sin(2 * Math.PI * freq(c + 1) * (start + i) / rate),
      );
    }
  }
  return pcm;
}

/** Encodes `seconds` of a period-interleaved signal per channel and decodes it as multistream. */
function roundTrip(
  channels: number,
  frameMs: number,
  seconds: number,
  options: { maxBandwidth?: number; freq?: (id: number) => number; decodeRate?: number } = {},
) {
  const rate = 48000;
  const encoders = Array.from(
    { length: channels },
    () => new OpusMonoEncoder({ sampleRate: rate, frameMs, maxBandwidth: options.maxBandwidth }),
  );
  const decodeRate = options.decodeRate ?? rate;
  const decoder = new OpusMultistreamDecoder({ sampleRate: decodeRate, channels });
  const frameSize = encoders[0].frameSize;
  const slots = Array.from({ length: channels }, () => new Uint8Array(OPUS_MAX_FRAME_BYTES));
  const lengths = new Int32Array(channels);
  const packet = new Uint8Array(channels * (OPUS_MAX_FRAME_BYTES + 2));
  const frames = Math.floor(seconds * rate / frameSize);
  const decoded = new Float32Array(frames * frameSize * channels * decodeRate / rate);
  const scratch = new Float32Array(decoder.maxFrames * channels);
  let bytes = 0, at = 0, bandwidth = 0;
  for (let f = 0; f < frames; f++) {
    const pcm = tone(channels, rate, f * frameSize, frameSize, options.freq);
    for (let c = 0; c < channels; c++) lengths[c] = encoders[c].encode(pcm, c, channels, slots[c]);
    bandwidth = libopus().opus_packet_get_bandwidth(slots[0]);
    const n = writeMultistream(packet, 0, slots, lengths);
    assert.equal(n, multistreamByteLength(slots, lengths));
    bytes += n;
    const got = decoder.decodeFloat(packet, n, scratch);
    decoded.set(scratch.subarray(0, got * channels), at * channels);
    at += got;
  }
  encoders.forEach((e) => e.close());
  decoder.close();
  return {
    decoded,
    frames: at,
    bytesPerPacket: bytes / frames,
    bandwidth,
    lookahead: encoders[0].lookahead,
  };
}

Deno.test("Opus encoder carries each channel's tone at −20 dBFS through encode and multistream decode", () => {
  const channels = 32;
  const { decoded, frames, bytesPerPacket, lookahead } = roundTrip(channels, 5, 0.5);
  const skip = 4800;
  let worstSnr = Infinity, worstLevel = -20;
  for (let c = 0; c < channels; c++) {
    const fit = fitTone(
      decoded,
      skip * channels + c,
      channels,
      frames - skip,
      (c + 1) * 100,
      48000,
    );
    const level = db(fit.amplitude, 1);
    const snr = db(fit.amplitude / Math.SQRT2, fit.residualRms);
    worstSnr = Math.min(worstSnr, snr);
    if (Math.abs(level + 20) > Math.abs(worstLevel + 20)) worstLevel = level;
    assert(Math.abs(level + 20) < 1.5, `channel ${c + 1}: tone at ${level.toFixed(2)} dBFS`);
    assert(snr > 10, `channel ${c + 1}: SNR ${snr.toFixed(1)} dB`);
  }
  console.log(
    `32 ch × 5 ms at 64 kbit/s: ${bytesPerPacket.toFixed(0)} bytes/packet, tone level within ${
      Math.abs(worstLevel + 20).toFixed(2)
    } dB of −20 dBFS, worst SNR ${worstSnr.toFixed(1)} dB, look-ahead ${lookahead} samples`,
  );
});

Deno.test("Opus encoder limited to super-wideband drops a 14 kHz tone and keeps 10 kHz", () => {
  const freqs = [10000, 14000];
  const swb = roundTrip(2, 5, 0.3, {
    maxBandwidth: OPUS_BANDWIDTH_SUPERWIDEBAND,
    freq: (id) => freqs[id - 1],
  });
  assert.equal(swb.bandwidth, OPUS_BANDWIDTH_SUPERWIDEBAND);
  const fb = roundTrip(2, 5, 0.3, {
    maxBandwidth: OPUS_BANDWIDTH_FULLBAND,
    freq: (id) => freqs[id - 1],
  });
  assert.equal(fb.bandwidth, OPUS_BANDWIDTH_FULLBAND);
  const level = (r: typeof swb, c: number) =>
    db(fitTone(r.decoded, 4800 * 2 + c, 2, r.frames - 4800, freqs[c], 48000).amplitude, 1);
  console.log(
    `SWB: 10 kHz ${level(swb, 0).toFixed(1)} dBFS, 14 kHz ${
      level(swb, 1).toFixed(1)
    } dBFS; FB: 14 kHz ${level(fb, 1).toFixed(1)} dBFS`,
  );
  assert(level(swb, 0) > -23);
  assert(level(swb, 1) < -50);
  assert(level(fb, 1) > -23);
});

Deno.test("Opus encoder makes frames of every low-delay size at every Opus rate", () => {
  for (const rate of OPUS_RATES) {
    for (const frameMs of OPUS_FRAME_MS) {
      const e = new OpusMonoEncoder({ sampleRate: rate, frameMs, bitrate: 32000 });
      assert.equal(e.frameSize, rate * frameMs / 1000);
      const pcm = tone(1, rate, 0, e.frameSize);
      const out = new Uint8Array(OPUS_MAX_FRAME_BYTES);
      const n = e.encode(pcm, 0, 1, out);
      assert(n >= 1 && n <= OPUS_MAX_FRAME_BYTES);
      assert.equal(libopus().opus_packet_get_samples_per_frame(out, 48000), 48000 * frameMs / 1000);
      e.close();
    }
  }
});

Deno.test("Opus encoder reads one channel at its stride and checks the period is long enough", () => {
  const e = new OpusMonoEncoder({ sampleRate: 48000, frameMs: 2.5 });
  const out = new Uint8Array(OPUS_MAX_FRAME_BYTES);
  assert.throws(() => e.encode(new Int32Array(120 * 4 - 1), 3, 4, out), {
    name: "RangeError",
    message: /needs index 479, got 479 samples/,
  });
  assert.throws(() => e.encode(new Int32Array(119), 0, 1, out), /needs index 119, got 119 samples/);
  assert(e.encode(new Int32Array(120 * 4), 3, 4, out) > 0);
  e.close();
  assert.throws(() => e.encode(new Int32Array(120), 0, 1, out), /closed/);
  assert.throws(() => new OpusMonoEncoder({ sampleRate: 44100, frameMs: 5 }), /not 44100/);
  assert.throws(() => new OpusMonoEncoder({ sampleRate: 48000, frameMs: 1 }), /not 1/);
});
