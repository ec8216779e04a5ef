/**
 * A rate stream's converter: native-rate periods in, periods at another rate
 * out (band-limited, libsamplerate via src/audio/resampler.ts), shared by every
 * client at that rate. Output periods carry their own frame index on the
 * output timeline and the capture time of the input instant they represent.
 */
import { Resampler } from "./resampler.ts";
import type { Period } from "./source.ts";

/** Turns native-rate periods into periods at another rate (issue: resampling). */
export interface RateConverter {
  /** The source rate it was made for: a source restarting at another rate gets a new one. */
  readonly inputRate: number;
  readonly outputRate: number;
  /** Converted period, or null while the converter is still filling. */
  process(period: Period): Period | null;
  close(): void;
}

export type RateConverterFactory = (inputRate: number, outputRate: number) => RateConverter;

export class ResamplingConverter implements RateConverter {
  private rs: Resampler | null = null;
  private readonly out: Period;
  /** Source frame index and capture time of the first input frame since (re)start. */
  private inputOrigin = 0;
  private originCaptureMs = 0;
  private expected = -1;

  constructor(
    readonly inputRate: number,
    readonly outputRate: number,
    private readonly maxInputFrames: number,
  ) {
    this.out = {
      data: new Int32Array(0),
      frames: 0,
      channels: 0,
      sampleRate: outputRate,
      frameIndex: 0,
      captureTimeMs: 0,
    };
  }

  process(p: Period): Period | null {
    let rs = this.rs;
    if (!rs || rs.channels !== p.channels || p.frames > rs.maxInputFrames) {
      rs?.close();
      rs = this.rs = new Resampler({
        inputRate: this.inputRate,
        outputRate: this.outputRate,
        channels: p.channels,
        maxInputFrames: Math.max(this.maxInputFrames, p.frames),
      });
      this.out.channels = p.channels;
      this.out.data = new Int32Array(rs.maxOutputFrames * p.channels);
      this.expected = -1;
    }
    if (p.frameIndex !== this.expected) {
      // A gap in the source (start, overrun): restart the filter on the new timeline.
      rs.reset();
      this.inputOrigin = p.frameIndex;
      this.originCaptureMs = p.captureTimeMs;
    }
    this.expected = p.frameIndex + p.frames;
    const firstOut = rs.framesOut;
    const n = rs.process(p.data, p.frames, this.out.data);
    if (n === 0) return null;
    const out = this.out;
    out.frames = n;
    // On the output timeline, continuing across gaps like the source's own index does.
    out.frameIndex = Math.round((this.inputOrigin * this.outputRate) / this.inputRate) + firstOut;
    out.captureTimeMs = this.originCaptureMs + (rs.inputFrameOf(firstOut) * 1000) / this.inputRate;
    return out;
  }

  close(): void {
    this.rs?.close();
    this.rs = null;
  }
}
