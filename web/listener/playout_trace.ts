/**
 * A timed record of what the playout did, for the Wi-Fi bench
 * (src/loadtest/wifi/): capture→playout latency samples and the jitter
 * buffer's concealment events (src/client/gap_log.ts), both on the wall
 * clock (epoch ms). The bench drains it through the test hook
 * (`__m32.drainTrace()`); a page nobody drains keeps only the newest
 * LATENCY_SAMPLES samples and GAP_EVENTS events (fixed rings: nothing grows).
 */

/** Latency samples kept between drains (one per SAMPLE_MS at most: 2 min). */
export const LATENCY_SAMPLES = 6000;
export const SAMPLE_MS = 20;
/** Gap events kept between drains. */
export const GAP_EVENTS = 1024;

/** What a drain hands over: flat (atMs, latencyMs) pairs and (atMs, packets, kind) triples. */
export interface TraceDrain {
  latency: number[];
  gaps: number[];
}

class Ring {
  private readonly data: Float64Array;
  private head = 0;
  private count = 0;

  constructor(private readonly capacity: number, private readonly width: number) {
    this.data = new Float64Array(capacity * width);
  }

  add(a: number, b: number, c = 0): void {
    const i = ((this.head + this.count) % this.capacity) * this.width;
    this.data[i] = a;
    this.data[i + 1] = b;
    if (this.width > 2) this.data[i + 2] = c;
    if (this.count < this.capacity) this.count++;
    else this.head = (this.head + 1) % this.capacity;
  }

  drain(): number[] {
    const out: number[] = [];
    for (let k = 0; k < this.count; k++) {
      const i = ((this.head + k) % this.capacity) * this.width;
      for (let w = 0; w < this.width; w++) out.push(this.data[i + w]);
    }
    this.head = 0;
    this.count = 0;
    return out;
  }
}

export class PlayoutTrace {
  private readonly lat = new Ring(LATENCY_SAMPLES, 2);
  private readonly gaps = new Ring(GAP_EVENTS, 3);
  private lastSampleMs = -Infinity;

  /** A capture→playout latency at wall time `atMs` (kept at most once per SAMPLE_MS). */
  latency(atMs: number, ms: number): void {
    if (atMs - this.lastSampleMs < SAMPLE_MS) return;
    this.lastSampleMs = atMs;
    this.lat.add(atMs, ms);
  }

  /** Flat (atMs, packets, kind) triples, as GapLog.drainInto writes them. */
  addGaps(flat: ArrayLike<number>): void {
    for (let i = 0; i + 2 < flat.length; i += 3) this.gaps.add(flat[i], flat[i + 1], flat[i + 2]);
  }

  drain(): TraceDrain {
    return { latency: this.lat.drain(), gaps: this.gaps.drain() };
  }
}
