/**
 * A forgetting histogram of packet lateness (ms), runtime-neutral: the jitter
 * buffer's delay estimate is a high quantile of it (as WebRTC NetEq's
 * DelayManager does), so one wild packet does not move the buffer while a
 * sustained rise does.
 *
 * Each observation adds weight w, and w grows by 1/FORGET per observation, so
 * an observation n packets old counts FORGET^n as much as a new one (memory
 * ≈ 1 / (1 − FORGET) packets). Weights are renormalised before they overflow.
 */

export const DEFAULT_BIN_MS = 1;
/** ~500 packets of memory: 2.5 s at the default 5 ms packet time. */
export const DEFAULT_FORGET = 0.998;
const RENORM_AT = 1e200;

export class LatenessHistogram {
  private readonly bins: Float64Array;
  private weight = 1;
  private total = 0;
  count = 0;

  constructor(
    readonly maxMs: number,
    readonly binMs = DEFAULT_BIN_MS,
    private readonly forget = DEFAULT_FORGET,
  ) {
    if (!(maxMs > 0 && binMs > 0)) {
      throw new RangeError(`histogram needs max > 0 ms and bin > 0 ms, got ${maxMs}, ${binMs}`);
    }
    if (!(forget > 0 && forget < 1)) {
      throw new RangeError(`forgetting factor must be in (0, 1), got ${forget}`);
    }
    this.bins = new Float64Array(Math.ceil(maxMs / binMs) + 1);
  }

  /** Records one lateness (ms, clamped to [0, maxMs]). */
  add(latenessMs: number): void {
    const v = latenessMs > 0 ? Math.min(latenessMs, this.maxMs) : 0;
    const i = Math.min(this.bins.length - 1, Math.floor(v / this.binMs));
    this.bins[i] += this.weight;
    this.total += this.weight;
    this.count++;
    this.weight /= this.forget;
    if (this.weight > RENORM_AT) {
      for (let k = 0; k < this.bins.length; k++) this.bins[k] /= this.weight;
      this.total /= this.weight;
      this.weight = 1;
    }
  }

  /** The upper edge (ms) of the bin holding quantile `q` (0 when empty). */
  quantile(q: number): number {
    if (this.total === 0) return 0;
    const want = q * this.total;
    let acc = 0;
    for (let i = 0; i < this.bins.length; i++) {
      acc += this.bins[i];
      if (acc >= want) return (i + 1) * this.binMs;
    }
    return this.maxMs;
  }

  clear(): void {
    this.bins.fill(0);
    this.weight = 1;
    this.total = 0;
    this.count = 0;
  }
}
