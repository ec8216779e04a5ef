/**
 * How late a relay let its held datagrams go (send time − due time, ms): the
 * runtime's timers and the host's scheduling, which the Wi-Fi bench must
 * tell apart from the profile it models (docs/wifi-relay.md). A fixed
 * histogram (BIN_MS bins up to MAX_MS, one overflow bin), allocated once;
 * the maximum is kept exact.
 */

export const LATENESS_BIN_MS = 0.05;
export const LATENESS_MAX_MS = 1000;

export interface LatenessSummary {
  count: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Share of datagrams more than 1 ms late. */
  over1Ms: number;
}

export class Lateness {
  count = 0;
  maxMs = 0;
  private over1 = 0;
  private readonly bins = new Uint32Array(Math.ceil(LATENESS_MAX_MS / LATENESS_BIN_MS) + 1);

  add(lateMs: number): void {
    const v = lateMs > 0 ? lateMs : 0;
    const i = Math.min(this.bins.length - 1, Math.floor(v / LATENESS_BIN_MS));
    this.bins[i]++;
    this.count++;
    if (v > this.maxMs) this.maxMs = v;
    if (v > 1) this.over1++;
  }

  /** The q-quantile (upper edge of its bin, at most the maximum); 0 when empty. */
  quantile(q: number): number {
    if (this.count === 0) return 0;
    const want = Math.ceil(q * this.count);
    let seen = 0;
    for (let i = 0; i < this.bins.length; i++) {
      seen += this.bins[i];
      if (seen >= want) {
        return i === this.bins.length - 1
          ? this.maxMs
          : Math.min(this.maxMs, (i + 1) * LATENESS_BIN_MS);
      }
    }
    return this.maxMs;
  }

  summary(): LatenessSummary {
    return {
      count: this.count,
      p50Ms: this.quantile(0.5),
      p99Ms: this.quantile(0.99),
      maxMs: this.maxMs,
      over1Ms: this.count ? this.over1 / this.count : 0,
    };
  }

  /** Adds another's counts (relays summed per run). */
  merge(o: Lateness): void {
    for (let i = 0; i < this.bins.length; i++) this.bins[i] += o.bins[i];
    this.count += o.count;
    this.over1 += o.over1;
    if (o.maxMs > this.maxMs) this.maxMs = o.maxMs;
  }

  reset(): void {
    this.bins.fill(0);
    this.count = 0;
    this.over1 = 0;
    this.maxMs = 0;
  }
}
