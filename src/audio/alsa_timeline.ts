/**
 * Turns "a period of n frames finished reading at time t" into the period's
 * frameIndex and captureTimeMs, and recognises the two timing faults a
 * capture device can show:
 *
 * - gap: data came later than the device buffer could have held it (or the
 *   device reported an overrun). Frames were lost; frameIndex jumps by the
 *   lost frames (estimated from the clock) so the timeline keeps matching
 *   wall time (RTP timestamps stay in step with captureTimeMs).
 * - runaway: data comes faster than real time. A live device cannot do that;
 *   ALSA's `file` PCM does it when its input reached EOF (the writer went
 *   away: it keeps returning whole periods without waiting).
 *
 * captureTimeMs follows a smoothed anchor: the observed first-frame time
 * (t - period) is an upper bound of the truth (reads complete late, never
 * early), so the anchor moves quickly towards earlier observations and only
 * slowly towards later ones (which also follows device/system clock drift).
 * Pure: time comes in as numbers.
 */

/** Fraction of a negative error applied per period (observations earlier than predicted). */
export const EARLY_ALPHA = 0.1;
/** Fraction of a positive error applied per period (read-completion jitter is mostly positive). */
export const LATE_ALPHA = 0.002;
/** Slack on top of buffer + 2 periods before "faster than real time" is a fault. */
export const RUNAWAY_MARGIN_MS = 20;

export interface TimelineOptions {
  sampleRate: number;
  periodFrames: number;
  bufferFrames: number;
}

export type TimelineStep =
  | { kind: "period"; frameIndex: number; captureTimeMs: number; lostFrames: number }
  | { kind: "runaway"; aheadMs: number };

export class CaptureTimeline {
  readonly msPerFrame: number;
  /** A read later than this (ms past prediction) means frames were lost. */
  readonly lateLimitMs: number;
  /** Audio this far ahead of real time means the device is not a live source. */
  readonly runawayLimitMs: number;
  private started = false;
  private anchorMs = 0;
  private anchorFrame = 0;
  private nextFrame = 0;
  private lastDoneMs = 0;
  private aheadMs = 0;
  /** Periods with a gap (lost frames), including device-reported overruns. */
  gaps = 0;

  constructor(o: TimelineOptions) {
    this.msPerFrame = 1000 / o.sampleRate;
    const periodMs = o.periodFrames * this.msPerFrame;
    const bufferMs = o.bufferFrames * this.msPerFrame;
    this.lateLimitMs = bufferMs + periodMs;
    this.runawayLimitMs = bufferMs + 2 * periodMs + RUNAWAY_MARGIN_MS;
  }

  /**
   * @param doneMs clock time at which the read of this period completed
   * @param frames frames in the period
   * @param overrun the device reported (and we recovered) an overrun before it
   */
  step(doneMs: number, frames: number, overrun = false): TimelineStep {
    const durMs = frames * this.msPerFrame;
    const observedMs = doneMs - durMs;
    let lostFrames = 0;
    if (!this.started) {
      this.started = true;
      this.anchorMs = observedMs;
      this.anchorFrame = 0;
      this.nextFrame = 0;
    } else {
      this.aheadMs = Math.max(0, this.aheadMs + durMs - (doneMs - this.lastDoneMs));
      if (this.aheadMs > this.runawayLimitMs) return { kind: "runaway", aheadMs: this.aheadMs };
      const predictedMs = this.anchorMs + (this.nextFrame - this.anchorFrame) * this.msPerFrame;
      const errMs = observedMs - predictedMs;
      if (overrun || errMs > this.lateLimitMs) {
        lostFrames = Math.max(0, Math.round(errMs / this.msPerFrame));
        this.nextFrame += lostFrames;
        this.anchorMs = observedMs;
        this.anchorFrame = this.nextFrame;
        this.aheadMs = 0;
        this.gaps++;
      } else {
        this.anchorMs += errMs * (errMs < 0 ? EARLY_ALPHA : LATE_ALPHA);
      }
    }
    this.lastDoneMs = doneMs;
    const frameIndex = this.nextFrame;
    const captureTimeMs = this.anchorMs + (frameIndex - this.anchorFrame) * this.msPerFrame;
    this.nextFrame += frames;
    return { kind: "period", frameIndex, captureTimeMs, lostFrames };
  }
}
