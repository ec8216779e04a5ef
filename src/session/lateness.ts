/**
 * Period lateness: how long after a period's scheduled time (the moment its
 * last frame was captured, `captureTimeMs + frames / rate`) its last datagram
 * was handed to the kernel. A fixed histogram (10 µs bins up to 200 ms, then
 * one overflow bin and the exact maximum) so every period of a run counts —
 * p99.9 and max need them all, not a window — and recording allocates nothing.
 *
 * The counts can live in a SharedArrayBuffer, so a thread other than the one
 * recording (the control plane reading the audio plane's figures) reads them
 * without a message:
 *
 *   Float64Array view:  [0] max ms  [1] total count  [2 …] per-bin counts
 */

export const LATENESS_BIN_MS = 0.01;
export const LATENESS_BINS = 20_000;
const MAX = 0;
const COUNT = 1;
const BINS = 2;
export const LATENESS_BYTES = (BINS + LATENESS_BINS + 1) * Float64Array.BYTES_PER_ELEMENT;

export interface LatenessSummary {
  count: number;
  p50: number;
  p99: number;
  p999: number;
  max: number;
}

export class LatenessHistogram {
  private readonly v: Float64Array;

  constructor(buffer: ArrayBufferLike = new ArrayBuffer(LATENESS_BYTES)) {
    this.v = new Float64Array(buffer, 0, LATENESS_BYTES / Float64Array.BYTES_PER_ELEMENT);
  }

  get buffer(): ArrayBufferLike {
    return this.v.buffer;
  }

  add(ms: number): void {
    const x = ms > 0 ? ms : 0;
    const bin = Math.min(LATENESS_BINS, Math.floor(x / LATENESS_BIN_MS));
    this.v[BINS + bin]++;
    this.v[COUNT]++;
    if (x > this.v[MAX]) this.v[MAX] = x;
  }

  /** The upper edge of the bin holding percentile `p` (0–100); the maximum for the overflow bin. */
  percentile(p: number): number {
    const n = this.v[COUNT];
    if (n === 0) return NaN;
    // (p · n) / 100, not p / 100 · n: 99.9 / 100 · 1000 rounds up to 999.0000000000001.
    const rank = Math.max(1, Math.ceil((p * n) / 100));
    let seen = 0;
    for (let b = 0; b <= LATENESS_BINS; b++) {
      seen += this.v[BINS + b];
      if (seen >= rank) {
        return b === LATENESS_BINS ? this.v[MAX] : Math.min((b + 1) * LATENESS_BIN_MS, this.v[MAX]);
      }
    }
    return this.v[MAX];
  }

  /** Periods later than `ms` (to the bin: 10 µs). */
  countAbove(ms: number): number {
    let n = 0;
    for (let b = Math.max(0, Math.floor(ms / LATENESS_BIN_MS)); b <= LATENESS_BINS; b++) {
      n += this.v[BINS + b];
    }
    return n;
  }

  summary(): LatenessSummary {
    return {
      count: this.v[COUNT],
      p50: this.percentile(50),
      p99: this.percentile(99),
      p999: this.percentile(99.9),
      max: this.v[COUNT] > 0 ? this.v[MAX] : NaN,
    };
  }

  reset(): void {
    this.v.fill(0);
  }

  /** The counts so far, sparse: [bin, count] pairs of the non-empty bins, and the maximum. */
  toJSON(): LatenessCounts {
    const bins: [number, number][] = [];
    for (let b = 0; b <= LATENESS_BINS; b++) {
      const n = this.v[BINS + b];
      if (n > 0) bins.push([b, n]);
    }
    return { max: this.v[MAX], bins };
  }

  /** Adds another run's counts (`toJSON()` of a histogram of the same bins) to these. */
  merge(other: LatenessCounts): void {
    for (const [b, n] of other.bins) {
      if (!(Number.isInteger(b) && b >= 0 && b <= LATENESS_BINS && n > 0)) {
        throw new RangeError(`lateness bin ${b} (count ${n}) out of range`);
      }
      this.v[BINS + b] += n;
      this.v[COUNT] += n;
    }
    if (other.bins.length > 0 && other.max > this.v[MAX]) this.v[MAX] = other.max;
  }
}

/** A histogram's counts as data (to send between processes and pool runs). */
export interface LatenessCounts {
  max: number;
  bins: [number, number][];
}
