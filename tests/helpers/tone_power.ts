/** Tone detection in decoded/mixed audio for tests (Goertzel). */

/** Goertzel power (≈ amplitude²) of `freq` in channel `ch` of interleaved `x`, frames [from, to). */
function goertzel(
  x: Float32Array,
  channels: number,
  ch: number,
  from: number,
  to: number,
  freq: number,
  rate: number,
): number {
  const k = 2 * Math.cos((2 * Math.PI * freq) / rate);
  let s1 = 0, s2 = 0;
  for (let f = from; f < to; f++) {
    const s0 = x[f * channels + ch] + k * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  const n = to - from;
  return (s1 * s1 + s2 * s2 - k * s1 * s2) / (n * n / 4);
}

/**
 * Upper-quartile Goertzel power over 50 ms blocks from `fromFrame` on: robust
 * to concealed gaps and skipped/repeated frames (phase jumps lower a block's
 * power) on a busy test machine.
 */
export function tonePower(
  x: Float32Array,
  channels: number,
  ch: number,
  fromFrame: number,
  freq: number,
  rate: number,
): number {
  const block = Math.round(rate * 0.05);
  const frames = Math.floor(x.length / channels);
  const p: number[] = [];
  for (let f = fromFrame; f + block <= frames; f += block) {
    p.push(goertzel(x, channels, ch, f, f + block, freq, rate));
  }
  p.sort((a, b) => a - b);
  return p.length ? p[Math.floor(p.length * 0.75)] : 0;
}
