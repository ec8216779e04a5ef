/**
 * Minimum of a value over a sliding time window, runtime-neutral, in
 * `buckets` fixed sub-windows (so O(buckets) memory, no per-sample storage).
 * The jitter buffer tracks the fastest transit time with it: a sender clock
 * that runs fast makes transits fall (the minimum follows at once), one that
 * runs slow makes them rise (the minimum follows within one window).
 */

export class WindowedMin {
  private readonly mins: Float64Array;
  private bucketStart = -Infinity;
  private cur = 0;

  constructor(readonly windowMs: number, readonly buckets = 4) {
    if (!(windowMs > 0 && buckets >= 1)) {
      throw new RangeError(`window needs > 0 ms and >= 1 bucket, got ${windowMs}, ${buckets}`);
    }
    this.mins = new Float64Array(buckets).fill(Infinity);
  }

  add(value: number, atMs: number): void {
    const span = this.windowMs / this.buckets;
    if (atMs - this.bucketStart >= span) {
      // Open as many new buckets as whole spans passed (at most all of them).
      const steps = Number.isFinite(this.bucketStart)
        ? Math.min(this.buckets, Math.floor((atMs - this.bucketStart) / span))
        : this.buckets;
      for (let k = 0; k < steps; k++) {
        this.cur = (this.cur + 1) % this.buckets;
        this.mins[this.cur] = Infinity;
      }
      this.bucketStart = Number.isFinite(this.bucketStart) ? this.bucketStart + steps * span : atMs;
      if (atMs - this.bucketStart >= span) this.bucketStart = atMs;
    }
    if (value < this.mins[this.cur]) this.mins[this.cur] = value;
  }

  /** The minimum over the window (Infinity before any value). */
  get value(): number {
    let m = Infinity;
    for (let k = 0; k < this.buckets; k++) if (this.mins[k] < m) m = this.mins[k];
    return m;
  }

  clear(): void {
    this.mins.fill(Infinity);
    this.bucketStart = -Infinity;
  }
}
