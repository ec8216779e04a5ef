/**
 * Turns periods of whatever size a device grants (ALSA may give 256 frames
 * when 240 were asked) into periods of exactly one packet time (or of one
 * Opus frame, for the Opus encoders), keeping
 * frame indexes and capture times exact. Periods that already have the right
 * size pass straight through (no copy). A jump in the source's frame index
 * (an overrun lost frames) drops the partial block and restarts at the jump.
 */
import { framesPerPacketTime } from "../rtp/packetizer.ts";
import { emptyPeriod, type Period, type PeriodSink } from "./source.ts";

export class Reblocker {
  private readonly out: Period = emptyPeriod();
  private fill = 0;
  /** The source frame index the next incoming period should start at. */
  private expected = -1;
  /** Frames dropped at discontinuities. */
  droppedFrames = 0;

  /** `blockFrames(rate)`: frames per output period at that rate (a packet time, an Opus frame). */
  constructor(
    private readonly blockFrames: (sampleRate: number) => number,
    private readonly sink: PeriodSink,
  ) {}

  /** Blocks of one packet time of `ptimeMs` (read at every period, so it may change). */
  static packetTimes(ptimeMs: () => number, sink: PeriodSink): Reblocker {
    return new Reblocker((rate) => framesPerPacketTime(rate, ptimeMs()), sink);
  }

  readonly push = (p: Period): void => {
    const size = this.blockFrames(p.sampleRate);
    const out = this.out;
    if (out.channels !== p.channels || out.sampleRate !== p.sampleRate || out.frames !== size) {
      out.channels = p.channels;
      out.sampleRate = p.sampleRate;
      out.frames = size;
      out.data = new Int32Array(size * p.channels);
      this.fill = 0;
    }
    if (this.expected !== p.frameIndex) {
      this.droppedFrames += this.fill;
      this.fill = 0;
    }
    this.expected = p.frameIndex + p.frames;
    if (this.fill === 0 && p.frames === size) {
      this.sink(p);
      return;
    }
    const ch = p.channels;
    const msPerFrame = 1000 / p.sampleRate;
    let taken = 0;
    while (taken < p.frames) {
      if (this.fill === 0) {
        out.frameIndex = p.frameIndex + taken;
        out.captureTimeMs = p.captureTimeMs + taken * msPerFrame;
      }
      const n = Math.min(size - this.fill, p.frames - taken);
      out.data.set(p.data.subarray(taken * ch, (taken + n) * ch), this.fill * ch);
      this.fill += n;
      taken += n;
      if (this.fill === size) {
        this.fill = 0;
        this.sink(out);
      }
    }
  };

  reset(): void {
    this.fill = 0;
    this.expected = -1;
  }
}
