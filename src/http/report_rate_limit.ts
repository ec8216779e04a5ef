/**
 * `/qos-metrics` rate limit per remote address (contract §3): at most
 * REPORTS_PER_WINDOW reports are admitted in any REPORT_WINDOW_MS (a sliding
 * window over the admitted reports' times; a refused one does not count, so a
 * client that slows down is served again at once). Time comes from an
 * injected clock. Memory is bounded: an address whose newest report has left
 * the window is forgotten at the next sweep (at most one per window), and no
 * more than MAX_TRACKED_ADDRESSES are kept (the longest-known dropped first).
 */
import type { Clock } from "../util/clock.ts";

/** "more than 10 reports a second from one address 429" (contract §3). */
export const REPORTS_PER_WINDOW = 10;
export const REPORT_WINDOW_MS = 1000;
/** Addresses remembered at most, so a flood of addresses cannot grow memory. */
export const MAX_TRACKED_ADDRESSES = 10_000;

/** The admit times of one address, oldest at `next` once the ring is full. */
interface Ring {
  times: Float64Array;
  next: number;
}

export type Admission = { ok: true } | { ok: false; retryAfterMs: number };

export class ReportRateLimiter {
  private readonly byAddress = new Map<string, Ring>();
  private lastSweep: number;

  constructor(
    private readonly clock: Clock,
    readonly perWindow = REPORTS_PER_WINDOW,
    readonly windowMs = REPORT_WINDOW_MS,
    readonly maxAddresses = MAX_TRACKED_ADDRESSES,
  ) {
    this.lastSweep = clock.now();
  }

  /** Addresses remembered now (for tests and the memory bound). */
  get size(): number {
    return this.byAddress.size;
  }

  /** Admits one report from `address`, or says how long until the next one would be. */
  admit(address: string): Admission {
    const now = this.clock.now();
    if (now - this.lastSweep >= this.windowMs) this.sweep(now);
    let ring = this.byAddress.get(address);
    if (!ring) {
      if (this.byAddress.size >= this.maxAddresses) {
        const oldest = this.byAddress.keys().next().value;
        if (oldest !== undefined) this.byAddress.delete(oldest);
      }
      ring = { times: new Float64Array(this.perWindow).fill(-Infinity), next: 0 };
      this.byAddress.set(address, ring);
    }
    const oldest = ring.times[ring.next];
    if (now - oldest < this.windowMs) {
      return { ok: false, retryAfterMs: this.windowMs - (now - oldest) };
    }
    ring.times[ring.next] = now;
    ring.next = (ring.next + 1) % this.perWindow;
    return { ok: true };
  }

  /** Forgets every address whose newest admitted report is older than the window. */
  private sweep(now: number): void {
    this.lastSweep = now;
    for (const [address, ring] of this.byAddress) {
      const newest = ring.times[(ring.next + this.perWindow - 1) % this.perWindow];
      if (now - newest >= this.windowMs) this.byAddress.delete(address);
    }
  }
}
