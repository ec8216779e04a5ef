/**
 * When the scheduled-buffer engine (./playout.ts, plain http) renders its
 * blocks, and with what lead: pure, on the audio clock (seconds), so the
 * policy is tested without a browser.
 *
 * Each tick (a 5 ms timer) plans the blocks to render now: block k starts at
 * `next` and plays [next, next + dur). It is read from the jitter buffer as
 * due at its end minus the lead — `readAt(start)` — so the read-to-play
 * distance, which adds to the jitter buffer's delay in the page's latency, is
 * the lead and nothing more; a block is planned only once its read time has
 * come (a read never asks for the future).
 *
 * The lead covers the main thread's timer (a tick late) and the audio
 * thread's render bursts: when the schedule runs dry (`underrun`) it grows by
 * LEAD_STEP_MS; after LEAD_QUIET_S without one it steps down by
 * LEAD_SHRINK_MS, not below a floor. An underrun right after a step down
 * means that step was one too many: the floor rises to the lead before it,
 * so the lead does not keep shrinking into the next underrun (a click each
 * time); after FLOOR_QUIET_S without an underrun the floor steps back down
 * towards LEAD_START_MS. Underruns in a row while the lead grows (a page
 * loading) leave the floor alone, so the lead comes back down from them at
 * LEAD_SHRINK_MS per LEAD_QUIET_S.
 */

/** Block length (ms of media per AudioBufferSourceNode). */
export const BLOCK_MS = 5;
/** The lead a stream starts with and the lowest it goes (ms). */
export const LEAD_START_MS = 20;
export const LEAD_MAX_MS = 120;
export const LEAD_STEP_MS = 10;
export const LEAD_QUIET_S = 10;
export const LEAD_SHRINK_MS = 5;
export const FLOOR_QUIET_S = 60;
/** The schedule is dry when its end is this close to the audio clock (s). */
const DRY_S = 0.002;

export class BlockSchedule {
  leadMs = LEAD_START_MS;
  /** The lowest lead it shrinks back to (raised by underruns). */
  floorMs = LEAD_START_MS;
  underruns = 0;
  /** Start of the next block to render (context s; 0: none yet). */
  next = 0;
  private steadySince = 0;
  private floorSince = 0;
  /** The last lead change was a step down (an underrun now raises the floor). */
  private shrank = false;

  constructor(public dur = BLOCK_MS / 1000) {}

  /** A new stream (its block length, s): the schedule starts afresh (the lead it learnt is kept). */
  restart(dur = this.dur): void {
    this.dur = dur;
    this.next = 0;
  }

  /**
   * Plans this tick at context time `now`: start times of the blocks to render, in order, into
   * `out` (cleared first).
   */
  plan(now: number, out: number[]): void {
    out.length = 0;
    if (this.next < now + DRY_S) {
      if (this.next !== 0) {
        this.underruns++;
        if (this.shrank) {
          this.floorMs = Math.min(
            LEAD_MAX_MS,
            Math.max(this.floorMs, this.leadMs + LEAD_SHRINK_MS),
          );
        }
        this.shrank = false;
        this.leadMs = Math.min(LEAD_MAX_MS, this.leadMs + LEAD_STEP_MS);
        this.floorSince = now;
      } else if (this.floorSince === 0) this.floorSince = now;
      this.next = now + this.leadMs / 1000 - this.dur;
      this.steadySince = now;
    } else if (now - this.steadySince > LEAD_QUIET_S && this.leadMs > this.floorMs) {
      // Quiet again: give latency back (the schedule drains to the smaller lead).
      this.leadMs = Math.max(this.floorMs, this.leadMs - LEAD_SHRINK_MS);
      this.steadySince = now;
      this.shrank = true;
    }
    if (now - this.floorSince > FLOOR_QUIET_S && this.floorMs > LEAD_START_MS) {
      this.floorMs = Math.max(LEAD_START_MS, this.floorMs - LEAD_SHRINK_MS);
      this.floorSince = now;
    }
    // Read as due at its end − lead: planned once that time has come.
    const horizon = now + this.leadMs / 1000 + 1e-9;
    while (this.next + this.dur <= horizon) {
      out.push(this.next);
      this.next += this.dur;
    }
  }

  /** The context time a block starting at `start` is read as due at (the jitter buffer's now). */
  readAt(start: number): number {
    return start + this.dur - this.leadMs / 1000;
  }
}
