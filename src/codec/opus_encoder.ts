/**
 * One mono Opus encoder per channel (RFC 6716), in the restricted low-delay
 * (CELT-only) mode: no SILK look-ahead, 2.5 ms of algorithmic delay at 48 kHz.
 * Reads one channel of an interleaved, left-justified s32 period and writes
 * one Opus packet (one frame, RFC 6716 §3.1 code 0, or code 3 when CBR pads)
 * into a caller-owned buffer. Nothing is allocated per call.
 */

import {
  checkOpus,
  libopus,
  OPUS_APPLICATION_RESTRICTED_LOWDELAY,
  OPUS_BANDWIDTH_FULLBAND,
  OPUS_GET_LOOKAHEAD_REQUEST,
  OPUS_RESET_STATE,
  OPUS_SET_BITRATE_REQUEST,
  OPUS_SET_COMPLEXITY_REQUEST,
  OPUS_SET_MAX_BANDWIDTH_REQUEST,
  OPUS_SET_SIGNAL_REQUEST,
  OPUS_SET_VBR_CONSTRAINT_REQUEST,
  OPUS_SET_VBR_REQUEST,
  OPUS_SIGNAL_MUSIC,
} from "../../ffi/libopus.ts";

/** Input rates libopus accepts. */
export const OPUS_RATES = [8000, 12000, 16000, 24000, 48000] as const;
/** Frame durations available without SILK (the restricted low-delay mode). */
export const OPUS_FRAME_MS = [2.5, 5, 10, 20] as const;
/** RFC 6716 §3.2.1: no frame is longer than 1275 bytes. */
export const OPUS_MAX_FRAME_BYTES = 1275;
/** RFC 7587 §4.1: the RTP clock of Opus is always 48 kHz. */
export const OPUS_RTP_CLOCK = 48000;

/**
 * Per channel (mono), for live monitoring: 64 kbit/s is where CELT mono at
 * full band is near-transparent on music, and 32 channels × 5 ms then make
 * 32 × 40 bytes (+ 31 self-delimiting length bytes) = 1311 bytes of payload,
 * which with the 28-byte RTP header and extension still fits one 1400-byte
 * datagram.
 */
export const DEFAULT_OPUS_BITRATE = 64000;
/**
 * CELT complexity 0–10. Measured (bench/codec_bench.ts, 32 ch × 5 ms, 64 kbit/s):
 * 0 → 6 %, 2–4 → 9 %, 5 → 15 %, 10 → 17 % of one core for the encoders
 * alone on a music-like signal. Through the whole engine on the `tone`
 * signal (bench/opus_fanout_bench.ts) complexity 4 measured 15.3 % and
 * complexity 2 11.3 %: 2 keeps 32 channels inside the 15 % budget.
 */
export const DEFAULT_OPUS_COMPLEXITY = 2;
/**
 * CBR by default: every packet is exactly bitrate × frame time (40 bytes at
 * 64 kbit/s, 5 ms), so 32 channels always make a 1311-byte multistream packet
 * and never need splitting; constrained VBR averages the same but peaked at
 * 1844 bytes in the benchmark.
 */
export const DEFAULT_OPUS_RATE_CONTROL: OpusRateControl = "cbr";

/** `cbr`: every packet the same size; `cvbr`: constrained VBR; `vbr`: unconstrained. */
export type OpusRateControl = "cbr" | "cvbr" | "vbr";

export interface OpusEncoderOptions {
  /** One of OPUS_RATES. */
  sampleRate: number;
  /** One of OPUS_FRAME_MS. */
  frameMs: number;
  bitrate?: number;
  complexity?: number;
  rateControl?: OpusRateControl;
  /** An OPUS_BANDWIDTH_* value; default full band. */
  maxBandwidth?: number;
}

const S32_TO_FLOAT = 1 / 2 ** 31;

export class OpusMonoEncoder {
  readonly sampleRate: number;
  readonly frameMs: number;
  /** Samples per frame at `sampleRate` (e.g. 240 for 5 ms at 48 kHz). */
  readonly frameSize: number;
  readonly bitrate: number;
  /** Encoder look-ahead in samples at `sampleRate` (algorithmic delay). */
  readonly lookahead: number;
  #st: Deno.PointerValue;
  readonly #pcm: Float32Array<ArrayBuffer>;

  constructor(options: OpusEncoderOptions) {
    const { sampleRate, frameMs } = options;
    if (!(OPUS_RATES as readonly number[]).includes(sampleRate)) {
      throw new RangeError(`Opus encodes at ${OPUS_RATES.join("/")} Hz, not ${sampleRate}`);
    }
    if (!(OPUS_FRAME_MS as readonly number[]).includes(frameMs)) {
      throw new RangeError(
        `Opus low-delay frames are ${OPUS_FRAME_MS.join("/")} ms, not ${frameMs}`,
      );
    }
    this.sampleRate = sampleRate;
    this.frameMs = frameMs;
    this.frameSize = sampleRate * frameMs / 1000;
    this.bitrate = options.bitrate ?? DEFAULT_OPUS_BITRATE;
    this.#pcm = new Float32Array(new ArrayBuffer(this.frameSize * 4));

    const lib = libopus();
    const error = new Int32Array(1);
    this.#st = lib.opus_encoder_create(sampleRate, 1, OPUS_APPLICATION_RESTRICTED_LOWDELAY, error);
    if (!this.#st) checkOpus(error[0] || -1, "opus_encoder_create");
    try {
      const rc = options.rateControl ?? DEFAULT_OPUS_RATE_CONTROL;
      this.#ctl(OPUS_SET_BITRATE_REQUEST, this.bitrate, "OPUS_SET_BITRATE");
      this.#ctl(
        OPUS_SET_COMPLEXITY_REQUEST,
        options.complexity ?? DEFAULT_OPUS_COMPLEXITY,
        "OPUS_SET_COMPLEXITY",
      );
      this.#ctl(OPUS_SET_VBR_REQUEST, rc === "cbr" ? 0 : 1, "OPUS_SET_VBR");
      this.#ctl(OPUS_SET_VBR_CONSTRAINT_REQUEST, rc === "cvbr" ? 1 : 0, "OPUS_SET_VBR_CONSTRAINT");
      this.#ctl(OPUS_SET_SIGNAL_REQUEST, OPUS_SIGNAL_MUSIC, "OPUS_SET_SIGNAL");
      this.#ctl(
        OPUS_SET_MAX_BANDWIDTH_REQUEST,
        options.maxBandwidth ?? OPUS_BANDWIDTH_FULLBAND,
        "OPUS_SET_MAX_BANDWIDTH",
      );
      const la = new Int32Array(1);
      checkOpus(
        lib.opus_encoder_ctl_ptr(this.#st, OPUS_GET_LOOKAHEAD_REQUEST, la),
        "OPUS_GET_LOOKAHEAD",
      );
      this.lookahead = la[0];
    } catch (e) {
      this.close();
      throw e;
    }
  }

  /**
   * Encodes `frameSize` samples of one channel, read at `src[offset + i*stride]`
   * (left-justified s32), into `out[0..]`; returns the packet length in bytes.
   * `out` needs room for the packet (OPUS_MAX_FRAME_BYTES is always enough).
   */
  encode(src: Int32Array, offset: number, stride: number, out: Uint8Array): number {
    const n = this.frameSize;
    const last = offset + (n - 1) * stride;
    if (offset < 0 || last >= src.length) {
      throw new RangeError(
        `Opus frame of ${n} samples (stride ${stride}) needs index ${last}, got ${src.length} samples`,
      );
    }
    if (!this.#st) throw new Error("Opus encoder is closed");
    const pcm = this.#pcm;
    for (let i = 0, j = offset; i < n; i++, j += stride) pcm[i] = src[j] * S32_TO_FLOAT;
    const max = out.length < OPUS_MAX_FRAME_BYTES ? out.length : OPUS_MAX_FRAME_BYTES;
    return checkOpus(libopus().opus_encode_float(this.#st, pcm, n, out, max), "opus_encode_float");
  }

  /** Forgets the signal history (after a gap in the source). */
  reset(): void {
    if (this.#st) {
      checkOpus(libopus().opus_encoder_ctl_none(this.#st, OPUS_RESET_STATE), "OPUS_RESET_STATE");
    }
  }

  /** Frees the native encoder. Idempotent. */
  close(): void {
    if (this.#st) libopus().opus_encoder_destroy(this.#st);
    this.#st = null;
  }

  #ctl(request: number, value: number, name: string): void {
    checkOpus(libopus().opus_encoder_ctl_int(this.#st, request, value), `${name}(${value})`);
  }
}
