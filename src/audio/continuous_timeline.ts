/**
 * One frame timeline for every source the capture controller opens while
 * clients stream. A source counts its frames from its own start (0 after
 * every open), but RTP timestamps are `timestampBase + frameIndex`, so a
 * reopened device (a fault and a retry, a USB glitch, a fallback source)
 * would send every phone that kept its session back in time: its jitter
 * buffer takes the new packets for very late ones until it resyncs.
 *
 * Here a new open's first period is placed where the old timeline would be
 * by its capture time: after the last period delivered, plus the wall time
 * that passed without audio, at the new source's rate:
 *
 *   end    = last.frameIndex + last.frames           (rescaled by newRate / lastRate)
 *   gap    = (first.captureTimeMs − end's capture time) · newRate / 1000   (≥ 1 frame)
 *   offset = end + gap − first.frameIndex            (added to all of this open's periods)
 *
 * So a receiver sees a gap, a loss of that duration, never a jump backwards,
 * and RTP time keeps tracking the capture clock (the capture-time extension
 * and the timestamps agree again). The gap is at least one frame, so the
 * reblocker and the rate converters see a discontinuity (they drop a partial
 * block and restart their filter on it, as after an overrun). Jumps inside
 * one open (an overrun) pass through unchanged. When nobody streams, the
 * next source starts its own timeline again.
 *
 * Allocation-free per period: the same Period object is handed on every
 * time, carrying the source's samples.
 */
import { emptyPeriod, type Period } from "./source.ts";

export class ContinuousTimeline {
  private readonly out: Period = emptyPeriod();
  /** The open whose periods are being placed (0: none yet). */
  private openId = 0;
  /** Added to the current open's frame indexes. */
  private offset = 0;
  /** A period was delivered since the timeline (re)started. */
  private begun = false;
  /** The frame after the last period delivered, its capture time and rate. */
  private endIndex = 0;
  private endCaptureMs = 0;
  private endRate = 0;
  /** The gap (ms) the last reopen put in the timeline, for the log. */
  lastGapMs = 0;

  /** Nobody streams: the next source starts its own timeline. */
  restart(): void {
    this.begun = false;
    this.openId = 0;
    this.offset = 0;
  }

  /** `p` (from the open `openId`) on the continuous timeline; valid during the call only. */
  place(openId: number, p: Period): Period {
    if (openId !== this.openId) {
      this.openId = openId;
      this.offset = this.begun ? this.continueAt(p) - p.frameIndex : 0;
    }
    const out = this.out;
    out.data = p.data;
    out.frames = p.frames;
    out.channels = p.channels;
    out.sampleRate = p.sampleRate;
    out.frameIndex = p.frameIndex + this.offset;
    out.captureTimeMs = p.captureTimeMs;
    this.begun = true;
    this.endIndex = out.frameIndex + p.frames;
    this.endCaptureMs = p.captureTimeMs + (p.frames * 1000) / p.sampleRate;
    this.endRate = p.sampleRate;
    return out;
  }

  /** Where a new open's first period goes: after the last one, plus the time without audio. */
  private continueAt(p: Period): number {
    const rate = p.sampleRate;
    const end = rate === this.endRate
      ? this.endIndex
      : Math.round((this.endIndex * rate) / this.endRate);
    const gap = Math.max(1, Math.round(((p.captureTimeMs - this.endCaptureMs) * rate) / 1000));
    this.lastGapMs = (gap * 1000) / rate;
    return end + gap;
  }
}
