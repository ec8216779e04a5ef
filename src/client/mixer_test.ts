import assert from "node:assert/strict";
import { highShelf, lowShelf, magnitudeDb, peaking } from "./biquad.ts";
import { dbToLinear, Limiter } from "./limiter.ts";
import { audible, balanceGains, mixChannels, panGains, stereoGains, StereoMixer } from "./mixer.ts";
import {
  addGroup,
  defaultChannelSettings,
  defaultSettings,
  linkChannels,
  setChannelGroup,
  unlinkChannel,
} from "./settings.ts";

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

// ---- stereo links, groups (issue #13 item 6) --------------------------------

Deno.test("stereo link: width 0 is mono centre, 1 is full left/right, 0.5 between; balance turns a side down", () => {
  const at = (side: -1 | 1, width: number, balance = 0) =>
    stereoGains({ side, width, balance }).map((v) => Math.round(v * 1e4) / 1e4);
  // Width 0: both sides in the centre, at the mono pan law's −3 dB.
  assert.deepEqual(at(-1, 0), [0.7071, 0.7071]);
  assert.deepEqual(at(1, 0), [0.7071, 0.7071]);
  // Width 1: the first channel hard left, the second hard right.
  assert.deepEqual(at(-1, 1), [1, 0]);
  assert.deepEqual(at(1, 1), [0, 1]);
  // Width 0.5: each side panned halfway out (cos/sin of 3π/8), constant power.
  assert.deepEqual(at(-1, 0.5), [0.9239, 0.3827]);
  assert.deepEqual(at(1, 0.5), [0.3827, 0.9239]);
  // Balance +0.5 halves the left; −1 leaves only the left.
  assert.deepEqual(at(-1, 1, 0.5), [0.5, 0]);
  assert.deepEqual(at(1, 1, 0.5), [0, 1]);
  assert.deepEqual(at(1, 0, -1), [0.7071, 0]);
  assert.deepEqual(balanceGains(0), [1, 1]);
});

function linkedSettings() {
  const s = defaultSettings("box");
  s.channels = [6, 7, 8].map((id) => defaultChannelSettings(id));
  assert.ok(linkChannels(s, 7, 8));
  return s;
}

/** The stereo output of a configured mixer for one sample of 1.0 on each channel in `on`. */
function outputOf(
  s: ReturnType<typeof defaultSettings>,
  ids: number[],
  on: number[],
): [number, number] {
  const m = new StereoMixer(48000);
  const eff = mixChannels(s);
  m.configure(ids, (id) => eff.get(id), { volume: 1, limit: false });
  const input = new Float32Array(ids.length);
  ids.forEach((id, i) => (input[i] = on.includes(id) ? 1 : 0));
  const out = new Float32Array(2);
  m.process(input, 1, out);
  return [Math.round(out[0] * 1e4) / 1e4, Math.round(out[1] * 1e4) / 1e4];
}

Deno.test("a linked pair is one strip: the first channel's level and mute drive both, placed by width", () => {
  const s = linkedSettings();
  const [, seven, eight] = s.channels;
  eight.volume = 0.1; // the second's own fader is ignored while linked …
  eight.mute = true;
  seven.volume = 0.5;
  assert.deepEqual(outputOf(s, [6, 7, 8], [7]), [0.5, 0], "7 hard left at width 1");
  assert.deepEqual(outputOf(s, [6, 7, 8], [8]), [0, 0.5], "8 hard right, at 7's level, unmuted");
  seven.link!.width = 0;
  assert.deepEqual(outputOf(s, [6, 7, 8], [7, 8]), [0.7071, 0.7071], "width 0: mono centre");
  seven.mute = true;
  assert.deepEqual(outputOf(s, [6, 7, 8], [7, 8]), [0, 0], "one mute for the pair");
  seven.mute = false;
  seven.solo = true;
  assert.deepEqual(outputOf(s, [6, 7, 8], [6]), [0, 0], "the pair's solo silences 6");
  assert.deepEqual(outputOf(s, [6, 7, 8], [8]), [0.3536, 0.3536], "and keeps 8");
  // … and is back when unlinked: two strips again, each its own.
  seven.solo = false;
  unlinkChannel(s, 7);
  assert.deepEqual(outputOf(s, [6, 7, 8], [8]), [0, 0], "8 muted by its own mute again");
  eight.mute = false;
  assert.deepEqual(outputOf(s, [6, 7, 8], [8]), [0.0707, 0.0707], "8 at its own level, centre");
});

Deno.test("a group is a VCA: member gain × group gain, group mute silences the members only", () => {
  const s = defaultSettings("box");
  s.channels = [1, 2, 3].map((id) => defaultChannelSettings(id));
  s.channels.forEach((c) => (c.pan = -1)); // hard left: output L = gain
  const drums = addGroup(s, "Drums")!;
  setChannelGroup(s, 1, drums.id);
  setChannelGroup(s, 2, drums.id);
  s.channels[0].volume = 0.8;
  drums.volume = 0.5;
  assert.deepEqual(outputOf(s, [1, 2, 3], [1]), [0.4, 0], "0.8 × 0.5");
  assert.deepEqual(outputOf(s, [1, 2, 3], [2]), [0.5, 0], "1 × 0.5");
  assert.deepEqual(outputOf(s, [1, 2, 3], [3]), [1, 0], "3 is not in the group");
  assert.equal(s.channels[0].volume, 0.8, "the member keeps its own fader");
  drums.mute = true;
  assert.deepEqual(outputOf(s, [1, 2, 3], [1, 2, 3]), [1, 0], "group mute: only 3 plays");
  // A channel is in one group at most; moving it takes it out of the other.
  const keys = addGroup(s, "Keys")!;
  setChannelGroup(s, 2, keys.id);
  assert.deepEqual(drums.members, [1]);
  assert.deepEqual(keys.members, [2]);
  // More me and the group multiply.
  drums.mute = false;
  s.channels[2].me = true;
  s.master.more_me_db = 6;
  assert.deepEqual(outputOf(s, [1, 2, 3], [1]), [0.2005, 0], "0.8 × 0.5 × −6 dB");
});

Deno.test("a linked pair in a group follows the group by its first channel", () => {
  const s = linkedSettings();
  const g = addGroup(s, "Keys")!;
  setChannelGroup(s, 8, g.id); // the second of a pair cannot join on its own
  assert.deepEqual(g.members, []);
  setChannelGroup(s, 7, g.id);
  g.volume = 0.5;
  assert.deepEqual(outputOf(s, [6, 7, 8], [8]), [0, 0.5]);
});
