import assert from "node:assert/strict";
import { Resampler } from "./resampler.ts";
import { db, fitTone } from "./test_tone_check.ts";

const PERIOD_MS = 5;
const CONVERSIONS: [number, number][] = [
  [48000, 44100],
  [48000, 32000],
  [48000, 24000],
  [44100, 48000],
  [44100, 32000],
  [44100, 24000],
];

/** Runs `seconds` of `gen(frame, channel)` through `rs` in 5 ms periods; returns all output. */
function runSignal(
  rs: Resampler,
  seconds: number,
  gen: (frame: number, channel: number) => number,
): { out: Int32Array; frames: number } {
  const ch = rs.channels;
  const period = Math.round(rs.inputRate * PERIOD_MS / 1000);
  const total = Math.round(rs.inputRate * seconds);
  const input = new Int32Array(period * ch);
  const chunk = new Int32Array(rs.maxOutputFrames * ch);
  const out = new Int32Array((Math.ceil(total / period) + 1) * rs.maxOutputFrames * ch);
  let frames = 0;
  for (let start = 0; start < total; start += period) {
    const n = Math.min(period, total - start);
    for (let i = 0; i < n; i++) {
      for (let c = 0; c < ch; c++) input[i * ch + c] = gen(start + i, c);
    }
    const got = rs.process(input, n, chunk);
    out.set(chunk.subarray(0, got * ch), frames * ch);
    frames += got;
  }
  return { out, frames };
}

Deno.test("resampler keeps the id test signal within ±1 LSB of L24 and L16 from the first frame", () => {
  for (const [inputRate, outputRate] of CONVERSIONS) {
    // Channels 0–31 carry id<<8 (L24 id), channels 32–63 carry id<<16 (L16 id), id = 1..32.
    const rs = new Resampler({ inputRate, outputRate, channels: 64, maxInputFrames: 256 });
    const expected = (c: number) => c < 32 ? (c + 1) << 8 : (c - 31) << 16;
    const { out, frames } = runSignal(rs, 0.5, (_f, c) => expected(c));
    let worst = 0;
    for (let f = 0; f < frames; f++) {
      for (let c = 0; c < 64; c++) {
        const s = out[f * 64 + c];
        const id = c < 32 ? c + 1 : c - 31;
        const wire = c < 32 ? s >> 8 : s >> 16;
        assert(
          Math.abs(wire - id) <= 1,
          `${inputRate}→${outputRate} ch ${c}: wire ${wire}, id ${id}`,
        );
        worst = Math.max(worst, Math.abs(s - expected(c)));
      }
    }
    console.log(
      `${inputRate}→${outputRate}: constant off by at most ${worst} (s32 units; 1 L24 LSB = 256)`,
    );
    assert(worst <= 256, `${inputRate}→${outputRate}: constant off by ${worst} > 256`);
    rs.close();
  }
});

Deno.test("resampler priming holds the first frame: a constant is within 1 L24 LSB at every quality", () => {
  for (const quality of ["fastest", "medium", "best"] as const) {
    for (const [inputRate, outputRate] of CONVERSIONS) {
      const rs = new Resampler({
        inputRate,
        outputRate,
        channels: 2,
        maxInputFrames: 256,
        quality,
      });
      const { out, frames } = runSignal(rs, 0.05, (_f, c) => (c + 1) << 16);
      assert(frames > 0);
      for (let i = 0; i < frames * 2; i++) {
        const err = Math.abs(out[i] - (((i % 2) + 1) << 16));
        assert(err <= 256, `${quality} ${inputRate}→${outputRate} sample ${i} off by ${err}`);
      }
      assert.equal(
        (rs.primeFrames * outputRate) % inputRate,
        0,
        "priming spans whole output frames",
      );
      rs.close();
    }
  }
});

Deno.test("resampler passband is flat and the stopband rejects aliases (sine sweep)", () => {
  for (const [inputRate, outputRate] of CONVERSIONS) {
    const nyquist = Math.min(inputRate, outputRate) / 2;
    // Passband up to 85 % of the lower Nyquist; stopband from 2 % above the output Nyquist.
    const pass = [0.002, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.75, 0.8, 0.85]
      .map((r) => nyquist * r + 0.37);
    const stop = outputRate < inputRate
      ? [1.02, 1.05, 1.1, 1.2, 1.4, 1.7, 2.0].map((r) => outputRate / 2 * r)
        .filter((f) => f < inputRate / 2 * 0.98)
      : [];
    const freqs = [...pass, ...stop];
    const ch = freqs.length;
    const amplitude = 2 ** 30;
    const rs = new Resampler({ inputRate, outputRate, channels: ch, maxInputFrames: 256 });
    const { out, frames } = runSignal(
      rs,
      1,
      (f, c) => Math.round(amplitude * Math.sin(2 * Math.PI * freqs[c] * f / inputRate)),
    );
    const skip = 1000;
    const count = frames - skip - 10;
    const gains = pass.map((f, c) =>
      db(fitTone(out, skip * ch + c, ch, count, f, outputRate).amplitude, amplitude)
    );
    const ripple = Math.max(...gains) - Math.min(...gains);
    const leaks = stop.map((f, j) => {
      const fit = fitTone(out, skip * ch + pass.length + j, ch, count, f, outputRate);
      return db(fit.rms * Math.SQRT2, amplitude);
    });
    const worstLeak = leaks.length ? Math.max(...leaks) : -Infinity; // upsampling: no aliases
    console.log(
      `${inputRate}→${outputRate}: passband 0–${(0.85 * nyquist / 1000).toFixed(1)} kHz ripple ${
        ripple.toFixed(4)
      } dB; stopband ≥${(1.02 * outputRate / 2000).toFixed(1)} kHz worst ${
        worstLeak.toFixed(1)
      } dB`,
    );
    assert(ripple < 0.02, `${inputRate}→${outputRate}: ripple ${ripple} dB`);
    assert(worstLeak < -100, `${inputRate}→${outputRate}: alias at ${worstLeak} dB`);
    rs.close();
  }
});

Deno.test("resampler output is time-aligned: an impulse at input frame i comes out at i·out/in", () => {
  for (const [inputRate, outputRate] of CONVERSIONS) {
    const rs = new Resampler({ inputRate, outputRate, channels: 1, maxInputFrames: 256 });
    const at = 3001;
    const { out, frames } = runSignal(rs, 0.2, (f) => f === at ? 1 << 30 : 0);
    let peak = 0, peakAt = -1;
    for (let i = 0; i < frames; i++) {
      if (Math.abs(out[i]) > peak) [peak, peakAt] = [Math.abs(out[i]), i];
    }
    const ideal = at * outputRate / inputRate;
    assert(
      Math.abs(peakAt - ideal) <= 1,
      `${inputRate}→${outputRate}: peak ${peakAt}, ideal ${ideal}`,
    );
    assert(Math.abs(rs.inputFrameOf(peakAt) - at) <= inputRate / outputRate + 1e-9);
    rs.close();
  }
});

Deno.test("resampler accounts every frame over 2 minutes of periods without drift", () => {
  for (const [inputRate, outputRate] of [[48000, 44100], [48000, 32000], [44100, 48000]]) {
    const period = Math.round(inputRate * PERIOD_MS / 1000);
    const rs = new Resampler({ inputRate, outputRate, channels: 1, maxInputFrames: period });
    const input = new Int32Array(period);
    const output = new Int32Array(rs.maxOutputFrames);
    const periods = 2 * 60 * 1000 / PERIOD_MS;
    let minLatency = Infinity, maxLatency = -Infinity, latencyAt1s = 0;
    for (let p = 1; p <= periods; p++) {
      const n = rs.process(input, period, output);
      assert(n <= rs.maxOutputFrames);
      if (p * PERIOD_MS === 1000) latencyAt1s = rs.latencyMs();
      if (p * PERIOD_MS >= 1000) {
        minLatency = Math.min(minLatency, rs.latencyMs());
        maxLatency = Math.max(maxLatency, rs.latencyMs());
      }
    }
    const expectedOut = rs.framesIn * outputRate / inputRate;
    const lookaheadFrames = expectedOut - rs.framesOut;
    console.log(
      `${inputRate}→${outputRate}: ${rs.framesIn} in, ${rs.framesOut} out, look-ahead ${
        lookaheadFrames.toFixed(2)
      } frames; latency ${minLatency.toFixed(3)}–${maxLatency.toFixed(3)} ms`,
    );
    assert.deepEqual(rs.framesIn, periods * period);
    // The look-ahead is constant to within one output frame from the first second to the end.
    assert(Math.abs(rs.latencyMs() - latencyAt1s) <= 1000 / outputRate + 1e-9);
    assert(maxLatency - minLatency <= 1000 / outputRate + 1e-9);
    assert(maxLatency < 2.5, `latency ${maxLatency} ms`);
    rs.close();
  }
});

Deno.test("resampler emits every period's share, not bursts, for odd period sizes", () => {
  const rs = new Resampler({
    inputRate: 48000,
    outputRate: 44100,
    channels: 32,
    maxInputFrames: 1024,
  });
  const sizes = [240, 48, 1024, 1, 17, 333, 120, 960];
  const output = new Int32Array(rs.maxOutputFrames * 32);
  const input = new Int32Array(1024 * 32).fill(5 << 8);
  for (let round = 0; round < 20; round++) {
    for (const n of sizes) {
      const got = rs.process(input, n, output);
      if (rs.framesIn > 2000) {
        assert(Math.abs(got - n * 44100 / 48000) <= 2, `got ${got} for ${n}`);
      }
    }
  }
  const lookahead = rs.framesIn * 44100 / 48000 - rs.framesOut;
  assert(lookahead > 0 && lookahead < 100, `look-ahead ${lookahead} frames`);
  rs.close();
});

Deno.test("resampler at equal rates copies samples unchanged", () => {
  const rs = new Resampler({ inputRate: 48000, outputRate: 48000, channels: 2, maxInputFrames: 4 });
  const out = new Int32Array(8);
  assert.deepEqual(
    rs.process(Int32Array.from([1, -2, 3, 2147483647, -2147483648, 6, 7, 8]), 4, out),
    4,
  );
  assert.deepEqual([...out], [1, -2, 3, 2147483647, -2147483648, 6, 7, 8]);
  assert.deepEqual(rs.latencyMs(), 0);
});

Deno.test("resampler rejects oversized input and short buffers naming both numbers", () => {
  const rs = new Resampler({
    inputRate: 48000,
    outputRate: 24000,
    channels: 2,
    maxInputFrames: 240,
  });
  const out = new Int32Array(rs.maxOutputFrames * 2);
  assert.throws(() => rs.process(new Int32Array(241 * 2), 241, out), {
    name: "RangeError",
    message: /at most 240 frames, got 241/,
  });
  assert.throws(() => rs.process(new Int32Array(10), 240, out), {
    name: "RangeError",
    message: /needs 480 samples/,
  });
  assert.throws(() => rs.process(new Int32Array(480), 240, new Int32Array(4)), {
    name: "RangeError",
    message: /got 4$/,
  });
  assert.throws(
    () => new Resampler({ inputRate: 48000, outputRate: 1000, channels: 1, maxInputFrames: 1 }),
    RangeError,
  );
  rs.close();
});
