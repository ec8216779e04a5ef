/**
 * Clock synchronisation over the WebSocket (contract §8, the NTP on-wire
 * calculation of RFC 5905 §8 with ms timestamps), runtime-neutral.
 *
 *   client                server
 *     t1 ──ntp_request──▶  t2
 *     t4 ◀─ntp_response──  t3
 *
 *   round_trip = (t4 − t1) − (t3 − t2)
 *   offset     = ((t2 − t1) + (t3 − t4)) / 2     (server clock − client clock)
 *
 * Samples with a round trip above MAX_RTT_MS are discarded. Of the last
 * `window` accepted samples the one with the lowest round trip gives the
 * offset: its path was the least queued, so its asymmetry error is smallest.
 */

export const MAX_RTT_MS = 100;
export const DEFAULT_SYNC_WINDOW = 8;

export interface ClockSample {
  offsetMs: number;
  rttMs: number;
  /** Client time t4 at which the sample was taken. */
  atMs: number;
}

/** The on-wire calculation for one exchange. */
export function clockSample(t1: number, t2: number, t3: number, t4: number): ClockSample {
  return { rttMs: (t4 - t1) - (t3 - t2), offsetMs: ((t2 - t1) + (t3 - t4)) / 2, atMs: t4 };
}

export class ClockSync {
  accepted = 0;
  discarded = 0;
  /**
   * Largest round trip of any sample the offset has come from so far: every
   * offset used was within ± half of it of the truth (the on-wire bound).
   */
  worstUsedRttMs = 0;
  private readonly samples: ClockSample[] = [];
  private best: ClockSample | null = null;

  constructor(
    private readonly window = DEFAULT_SYNC_WINDOW,
    private readonly maxRttMs = MAX_RTT_MS,
  ) {
    if (!(window >= 1)) {
      throw new RangeError(`clock sync window must be >= 1 sample, got ${window}`);
    }
  }

  /** Adds one exchange; returns the sample, or null when it was discarded. */
  add(t1: number, t2: number, t3: number, t4: number): ClockSample | null {
    const s = clockSample(t1, t2, t3, t4);
    if (!(s.rttMs >= 0 && s.rttMs <= this.maxRttMs)) {
      this.discarded++;
      return null;
    }
    this.accepted++;
    this.samples.push(s);
    if (this.samples.length > this.window) this.samples.shift();
    let best = this.samples[0];
    for (const c of this.samples) if (c.rttMs < best.rttMs) best = c;
    this.best = best;
    if (best.rttMs > this.worstUsedRttMs) this.worstUsedRttMs = best.rttMs;
    return s;
  }

  get synced(): boolean {
    return this.best !== null;
  }

  /** Server time minus client time, ms (0 until the first accepted sample). */
  get offsetMs(): number {
    return this.best?.offsetMs ?? 0;
  }

  /** Round trip of the sample the offset comes from, ms (NaN before any). */
  get rttMs(): number {
    return this.best?.rttMs ?? NaN;
  }

  /** Converts a client timestamp to server time. */
  toServerTime(clientMs: number): number {
    return clientMs + this.offsetMs;
  }
}
