/**
 * A peak limiter, runtime-neutral: instant attack (the gain drops in the same
 * sample to ceiling / |x|, so the output never exceeds the ceiling) and an
 * exponential release back to unity. Linked: one gain for all channels of a
 * frame, so the stereo image does not shift.
 *
 *   need  = ceiling / peak(frame)  when peak > ceiling, else 1
 *   gain  = min(need, gain + (1 − gain) · (1 − e^(−1 / (release · rate))))
 */

export const DEFAULT_LIMIT_DB = -1;
export const DEFAULT_RELEASE_MS = 80;

export function dbToLinear(db: number): number {
  return Math.pow(10, db / 20);
}

export class Limiter {
  readonly ceiling: number;
  /** The gain applied to the last frame (1 = not limiting). */
  gain = 1;
  private readonly releaseCoef: number;

  constructor(rate: number, thresholdDb = DEFAULT_LIMIT_DB, releaseMs = DEFAULT_RELEASE_MS) {
    if (!(rate > 0 && thresholdDb <= 0)) {
      throw new RangeError(`limiter needs rate > 0 and threshold <= 0 dBFS, got ${thresholdDb}`);
    }
    this.ceiling = dbToLinear(thresholdDb);
    this.releaseCoef = 1 - Math.exp(-1 / ((releaseMs / 1000) * rate));
  }

  /** Limits `channels`-interleaved `buf[0 .. frames·channels]` in place. */
  process(buf: Float32Array, frames: number, channels: number): void {
    let g = this.gain;
    const ceil = this.ceiling;
    for (let f = 0, o = 0; f < frames; f++, o += channels) {
      let peak = 0;
      for (let c = 0; c < channels; c++) {
        const a = Math.abs(buf[o + c]);
        if (a > peak) peak = a;
      }
      g += (1 - g) * this.releaseCoef;
      // Float32 rounding: aim a hair under the ceiling so the stored value never exceeds it.
      if (peak * g > ceil) g = (ceil / peak) * (1 - 1e-6);
      for (let c = 0; c < channels; c++) buf[o + c] *= g;
    }
    this.gain = g;
  }
}
