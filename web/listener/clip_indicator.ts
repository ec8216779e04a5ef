/**
 * The master strip's clip indicator: lights when the playout's clip count
 * (src/client/output_meter.ts: blocks of the mix that reached full scale)
 * moves, stays lit CLIP_HOLD_MS after the last clip so a one-block clip is
 * seen, and goes dark early when tapped. Time is passed in (ms).
 */

/** How long the indicator stays lit after the last clipped block. */
export const CLIP_HOLD_MS = 2000;

export class ClipIndicator {
  private seen = 0;
  private litUntil = -Infinity;

  /** Whether the indicator is lit at `nowMs`, given the playout's clip count then. */
  update(clips: number, nowMs: number): boolean {
    // A new playout (reload of the engine) starts counting from 0 again.
    if (clips < this.seen) this.seen = clips;
    if (clips > this.seen) {
      this.seen = clips;
      this.litUntil = nowMs + CLIP_HOLD_MS;
    }
    return nowMs < this.litUntil;
  }

  /** A tap: dark until the next clip. */
  clear(): void {
    this.litUntil = -Infinity;
  }
}
