/** A fixed-size window of recent latency samples (ms) with percentiles; no allocation on add. */
export class LatencyWindow {
  private readonly values: Float64Array;
  private next = 0;
  private filled = 0;

  constructor(size: number) {
    this.values = new Float64Array(size);
  }

  add(ms: number): void {
    this.values[this.next] = ms;
    this.next = (this.next + 1) % this.values.length;
    if (this.filled < this.values.length) this.filled++;
  }

  get count(): number {
    return this.filled;
  }

  /** p in [0, 100]; NaN when empty. */
  percentile(p: number): number {
    if (this.filled === 0) return NaN;
    const sorted = this.values.slice(0, this.filled).sort();
    const idx = Math.min(this.filled - 1, Math.max(0, Math.ceil((p / 100) * this.filled) - 1));
    return sorted[idx];
  }

  reset(): void {
    this.next = 0;
    this.filled = 0;
  }
}
