import assert from "node:assert/strict";
import { highShelf, lowShelf, magnitudeDb, peaking } from "./biquad.ts";
import { dbToLinear, Limiter } from "./limiter.ts";
import { audible, panGains, StereoMixer } from "./mixer.ts";
import { defaultChannelSettings } from "./settings.ts";

const near = (a: number, b: number, tol: number, what: string) =>
  assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b} (±${tol})`);

Deno.test("pan law is constant power: −3 dB at centre, hard left and right are 1/0", () => {
  const [cl, cr] = panGains(0);
  near(cl, Math.SQRT1_2, 1e-12, "centre L");
  near(cr, Math.SQRT1_2, 1e-12, "centre R");
  near(20 * Math.log10(cl), -3.0103, 1e-3, "centre dB");
  assert.deepEqual(panGains(-1).map((v) => Math.round(v * 1e9) / 1e9), [1, 0]);
  assert.deepEqual(panGains(1).map((v) => Math.round(v * 1e9) / 1e9), [0, 1]);
  for (const p of [-0.7, -0.2, 0.3, 0.9]) {
    const [l, r] = panGains(p);
    near(l * l + r * r, 1, 1e-12, `power at pan ${p}`);
  }
  near(panGains(0.5)[0], Math.cos((3 * Math.PI) / 8), 1e-12, "pan 0.5 L");
});

Deno.test("solo plays only soloed channels, and mute wins over solo", () => {
  const ch = (mute: boolean, solo: boolean) => ({ mute, solo });
  assert.deepEqual(audible([ch(false, false), ch(true, false), ch(false, false)]), [
    true,
    false,
    true,
  ]);
  assert.deepEqual(audible([ch(false, true), ch(false, false), ch(false, true)]), [
    true,
    false,
    true,
  ]);
  assert.deepEqual(audible([ch(true, true), ch(false, false)]), [false, true]); // muted solo: no solo
});

Deno.test("EQ magnitude: shelves and peak at their test frequencies", () => {
  const fs = 48000;
  const low = lowShelf(fs, 200, 6);
  near(magnitudeDb(low, 20, fs), 6, 0.1, "low shelf +6 at 20 Hz");
  near(magnitudeDb(low, 50, fs), 6, 0.35, "low shelf +6 at 50 Hz");
  near(magnitudeDb(low, 200, fs), 3, 0.1, "low shelf at f0 (half the gain in dB)");
  near(magnitudeDb(low, 10000, fs), 0, 0.05, "low shelf at 10 kHz");
  const high = highShelf(fs, 5000, -12);
  near(magnitudeDb(high, 18000, fs), -12, 0.5, "high shelf −12 at 18 kHz");
  near(magnitudeDb(high, 100, fs), 0, 0.05, "high shelf at 100 Hz");
  const mid = peaking(fs, 1000, 12);
  near(magnitudeDb(mid, 1000, fs), 12, 1e-6, "peak +12 at 1 kHz");
  near(magnitudeDb(mid, 20, fs), 0, 0.1, "peak at 20 Hz");
  near(magnitudeDb(mid, 15000, fs), 0, 0.3, "peak at 15 kHz");
});

/** Gain (dB) of a mono mixer strip for a sine at `freq`, measured on the output. */
function stripGainDb(settings: ReturnType<typeof defaultChannelSettings>, freq: number): number {
  const fs = 48000, n = 48000;
  const m = new StereoMixer(fs);
  m.configure([1], () => settings, { volume: 1, limit: false });
  const input = new Float32Array(n);
  for (let i = 0; i < n; i++) input[i] = 0.1 * Math.sin((2 * Math.PI * freq * i) / fs);
  const out = new Float32Array(2 * n);
  m.process(input, n, out);
  let e = 0, ei = 0;
  for (let i = n / 2; i < n; i++) {
    e += out[2 * i] ** 2 + out[2 * i + 1] ** 2;
    ei += input[i] ** 2;
  }
  return 10 * Math.log10(e / ei);
}

Deno.test("mixer EQ applies the RBJ curves to real signals", () => {
  const s = defaultChannelSettings(1);
  s.eq.low = 6;
  near(stripGainDb(s, 50), 6, 0.4, "+6 dB low shelf at 50 Hz");
  near(stripGainDb(s, 10000), 0, 0.1, "+6 dB low shelf at 10 kHz");
  const t = defaultChannelSettings(1);
  t.eq.mid = -12;
  near(stripGainDb(t, 1000), -12, 0.2, "−12 dB mid at 1 kHz");
});

Deno.test("mixer sums channels with volume and pan into stereo", () => {
  const a = { ...defaultChannelSettings(1), pan: -1, volume: 0.5 };
  const b = { ...defaultChannelSettings(2), pan: 1, volume: 2 };
  const c = { ...defaultChannelSettings(3), mute: true };
  const byId = new Map([[1, a], [2, b], [3, c]]);
  const m = new StereoMixer(48000);
  m.configure([1, 2, 3], (id) => byId.get(id), { volume: 1, limit: false });
  const out = new Float32Array(2);
  m.process(new Float32Array([0.2, 0.1, 0.9]), 1, out);
  near(out[0], 0.1, 1e-7, "L = 0.2·0.5");
  near(out[1], 0.2, 1e-7, "R = 0.1·2");
  m.configure([1, 2, 3], (id) => byId.get(id), { volume: 0.5, limit: false });
  m.process(new Float32Array([0.2, 0.1, 0.9]), 1, out);
  near(out[0], 0.05, 1e-7, "master volume");
  b.solo = true;
  m.configure([1, 2, 3], (id) => byId.get(id), { volume: 1, limit: false });
  m.process(new Float32Array([0.2, 0.1, 0.9]), 1, out);
  assert.equal(out[0], 0);
  near(out[1], 0.2, 1e-7, "solo");
});

Deno.test("limiter keeps a hot signal under its ceiling and releases smoothly", () => {
  const fs = 48000;
  const lim = new Limiter(fs, -6);
  const ceil = dbToLinear(-6);
  const buf = new Float32Array(fs);
  for (let i = 0; i < fs; i++) {
    buf[i] = (i < fs / 2 ? 4 : 0.1) * Math.sin((2 * Math.PI * 440 * i) / fs);
  }
  lim.process(buf, fs, 1);
  let peak = 0;
  for (const v of buf) peak = Math.max(peak, Math.abs(v));
  assert.ok(peak <= ceil, `peak ${peak} > ceiling ${ceil}`);
  assert.ok(peak > ceil * 0.95, `peak ${peak} reaches the ceiling`);
  assert.ok(lim.gain > 0.99, `released to ${lim.gain}`);
});

Deno.test("mixer master limiter (limit: true = −1 dBFS) holds a 32-channel hot mix", () => {
  const n = 4800, ch = 32;
  const m = new StereoMixer(48000);
  m.configure(
    Array.from({ length: ch }, (_, i) => i + 1),
    (id) => ({ ...defaultChannelSettings(id), volume: 2 }),
  );
  const input = new Float32Array(n * ch);
  for (let f = 0; f < n; f++) for (let c = 0; c < ch; c++) input[f * ch + c] = Math.sin(f / 10);
  const out = new Float32Array(2 * n);
  m.process(input, n, out);
  const ceil = dbToLinear(-1);
  assert.ok(out.every((v) => Math.abs(v) <= ceil), "never above −1 dBFS");
});
