/**
 * A fixed-size window of recent latency samples (ms) with percentiles; no
 * allocation on add. Its numbers can live in a SharedArrayBuffer, so another
 * thread reads the window the audio plane writes (a reader may see a sample
 * being replaced: fine for statistics):
 *
 *   Float64Array view:  [0] next index  [1] filled  [2 …] samples
 */
const NEXT = 0;
const FILLED = 1;
const VALUES = 2;

export class LatencyWindow {
  private readonly v: Float64Array;
  private readonly size: number;

  /** Bytes a buffer for a window of `size` samples needs. */
  static bytes(size: number): number {
    return (VALUES + size) * Float64Array.BYTES_PER_ELEMENT;
  }

  constructor(size: number, buffer: ArrayBufferLike = new ArrayBuffer(LatencyWindow.bytes(size))) {
    this.size = size;
    this.v = new Float64Array(buffer, 0, VALUES + size);
  }

  add(ms: number): void {
    const next = this.v[NEXT];
    this.v[VALUES + next] = ms;
    this.v[NEXT] = (next + 1) % this.size;
    if (this.v[FILLED] < this.size) this.v[FILLED]++;
  }

  get count(): number {
    return this.v[FILLED];
  }

  /** p in [0, 100]; NaN when empty. */
  percentile(p: number): number {
    const filled = this.v[FILLED];
    if (filled === 0) return NaN;
    const sorted = this.v.slice(VALUES, VALUES + filled).sort();
    const idx = Math.min(filled - 1, Math.max(0, Math.ceil((p / 100) * filled) - 1));
    return sorted[idx];
  }

  reset(): void {
    this.v[NEXT] = 0;
    this.v[FILLED] = 0;
  }
}
