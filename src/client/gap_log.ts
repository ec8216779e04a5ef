/**
 * What a jitter buffer concealed, and when, runtime-neutral: a fixed ring of
 * events (no allocation per event) that a bench or a page drains to tell
 * gaps inside a network spike from gaps outside it (docs/loadtest/wifi/).
 *
 * Each event is (atMs, packets, kind), `atMs` on the clock of the packets'
 * arrival times:
 *
 *   GAP_CONCEALED  `packets` missing packets whose slot was interpolated or
 *                  faded; atMs = when the first of them would have arrived at
 *                  the fastest transit seen (transit minimum + its timestamp),
 *                  i.e. about when it left the sender plus the path's minimum
 *   GAP_SILENT     the same, left silent (jitter at or over the drop threshold)
 *   RESYNC         the read position jumped (a click); atMs = the read's or
 *                  the arrival's time, packets = 0
 *
 * When more events come than the ring holds before a drain, the oldest are
 * overwritten and counted in `overwritten`.
 */

export const GAP_CONCEALED = 0;
export const GAP_SILENT = 1;
export const RESYNC = 2;
export type GapKind = typeof GAP_CONCEALED | typeof GAP_SILENT | typeof RESYNC;

export const DEFAULT_GAP_LOG_EVENTS = 256;

export class GapLog {
  /** Events lost to a full ring (never drained in time). */
  overwritten = 0;
  private readonly data: Float64Array;
  private head = 0;
  private count = 0;

  constructor(readonly capacity = DEFAULT_GAP_LOG_EVENTS) {
    if (!(capacity >= 1)) throw new RangeError(`gap log needs capacity >= 1, got ${capacity}`);
    this.data = new Float64Array(capacity * 3);
  }

  get size(): number {
    return this.count;
  }

  add(atMs: number, packets: number, kind: GapKind): void {
    const i = ((this.head + this.count) % this.capacity) * 3;
    this.data[i] = atMs;
    this.data[i + 1] = packets;
    this.data[i + 2] = kind;
    if (this.count < this.capacity) this.count++;
    else {
      this.head = (this.head + 1) % this.capacity;
      this.overwritten++;
    }
  }

  /** Appends the events to `out` as flat (atMs, packets, kind) triples, oldest first, and forgets them. */
  drainInto(out: number[]): void {
    for (let k = 0; k < this.count; k++) {
      const i = ((this.head + k) % this.capacity) * 3;
      out.push(this.data[i], this.data[i + 1], this.data[i + 2]);
    }
    this.head = 0;
    this.count = 0;
  }

  clear(): void {
    this.head = 0;
    this.count = 0;
  }
}
