/**
 * The Source stage of the pipeline: something that delivers interleaved
 * multichannel periods with capture timestamps (the test signal, ALSA capture).
 *
 * Sample format inside the server: signed 32-bit, left-justified, exactly like
 * ALSA's S32_LE as the M32 delivers it. A 24-bit sample `s24` is `s24 << 8`;
 * L24 on the wire is `sample >> 8`, L16 is `sample >> 16`.
 */

export interface Period {
  /** Interleaved samples, `frames * channels` values used; reused by the source for the next period. */
  data: Int32Array;
  /** Frames in this period. */
  frames: number;
  /** Channels per frame (32, or 16/8/2 in the console's smaller USB modes). */
  channels: number;
  sampleRate: number;
  /** Index of this period's first frame on the source's timeline (frames at `sampleRate` since start). */
  frameIndex: number;
  /** Server wall-clock time (epoch ms, fractional) at which the first frame was captured. */
  captureTimeMs: number;
}

/** A period holding nothing yet: what a stage that reuses one output period starts from. */
export function emptyPeriod(): Period {
  return {
    data: new Int32Array(0),
    frames: 0,
    channels: 0,
    sampleRate: 0,
    frameIndex: 0,
    captureTimeMs: 0,
  };
}

/** Called synchronously for every period; the Period object is only valid during the call. */
export type PeriodSink = (period: Period) => void;

export interface SourceFormat {
  channels: number;
  sampleRate: number;
  framesPerPeriod: number;
  /** Human-readable description for logs and /health (device name, granted buffer sizes…). */
  description: string;
}

export interface SourceListener {
  /** The source failed while running (device vanished, read error). It has stopped itself. */
  onFault(error: Error): void;
}

export type SourceKind = "alsa" | "test" | "aes67";

export interface Source {
  readonly kind: SourceKind;
  /** Opens the device and starts delivering periods. Rejects if the device cannot be opened. */
  start(sink: PeriodSink, listener: SourceListener): Promise<SourceFormat>;
  /** Stops delivery and releases the device. Idempotent. */
  stop(): Promise<void>;
}

/** The USB channel count of the M32/X32 in its full mode. */
export const MAX_CHANNELS = 32;
