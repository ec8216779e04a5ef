/**
 * Decodes our Opus RTP payloads (multistream packets, see ./opus_multistream.ts)
 * with libopus's own `opus_multistream_decode`: channel mapping family 255,
 * N mono streams, no coupled streams, mapping [0, 1, …, N−1] (RFC 7845 §5.1.1).
 * For the reference client and the tests; output is interleaved.
 */

import { checkOpus, libopus } from "../../ffi/libopus.ts";

/** The longest Opus packet is 120 ms: 5760 samples per channel at 48 kHz. */
const MAX_PACKET_MS = 120;

export interface OpusDecoderOptions {
  /** Output rate: 8000, 12000, 16000, 24000 or 48000 (independent of the encoder's rate). */
  sampleRate: number;
  /** Channels = streams (all mono). */
  channels: number;
}

export class OpusMultistreamDecoder {
  readonly sampleRate: number;
  readonly channels: number;
  /** Largest frames-per-channel one packet can decode to. */
  readonly maxFrames: number;
  #st: Deno.PointerValue;

  constructor(options: OpusDecoderOptions) {
    const { sampleRate, channels } = options;
    if (!(Number.isInteger(channels) && channels >= 1 && channels <= 255)) {
      throw new RangeError(`Opus multistream channels must be 1–255, got ${channels}`);
    }
    this.sampleRate = sampleRate;
    this.channels = channels;
    this.maxFrames = sampleRate * MAX_PACKET_MS / 1000;
    const mapping = new Uint8Array(channels).map((_, i) => i);
    const error = new Int32Array(1);
    this.#st = libopus().opus_multistream_decoder_create(
      sampleRate,
      channels,
      channels,
      0,
      mapping,
      error,
    );
    if (!this.#st) {
      checkOpus(
        error[0] || -1,
        `opus_multistream_decoder_create(${sampleRate} Hz, ${channels} streams)`,
      );
    }
  }

  /**
   * Decodes one packet into `pcm` (interleaved, `frames × channels` used); returns
   * frames per channel. `packet === null` asks libopus to conceal one lost packet
   * of `lostFrames` frames.
   */
  decodeInt16(packet: Uint8Array | null, length: number, pcm: Int16Array, lostFrames = 0): number {
    const frames = this.#capacity(pcm.length, packet === null ? lostFrames : this.maxFrames);
    return checkOpus(
      libopus().opus_multistream_decode(
        this.#handle(),
        packet,
        packet ? length : 0,
        pcm,
        frames,
        0,
      ),
      "opus_multistream_decode",
    );
  }

  /** As `decodeInt16`, into floats in [−1, 1]. */
  decodeFloat(
    packet: Uint8Array | null,
    length: number,
    pcm: Float32Array,
    lostFrames = 0,
  ): number {
    const frames = this.#capacity(pcm.length, packet === null ? lostFrames : this.maxFrames);
    return checkOpus(
      libopus().opus_multistream_decode_float(
        this.#handle(),
        packet,
        packet ? length : 0,
        pcm,
        frames,
        0,
      ),
      "opus_multistream_decode_float",
    );
  }

  /** Frees the native decoder. Idempotent. */
  close(): void {
    if (this.#st) libopus().opus_multistream_decoder_destroy(this.#st);
    this.#st = null;
  }

  #handle(): Deno.PointerObject {
    if (!this.#st) throw new Error("Opus decoder is closed");
    return this.#st;
  }

  #capacity(samples: number, wanted: number): number {
    const frames = Math.min(Math.floor(samples / this.channels), wanted);
    if (frames < 1) {
      throw new RangeError(
        `Opus output needs room for ${this.channels} samples per frame, got ${samples}`,
      );
    }
    return frames;
  }
}

/** A single-stream mono decoder, for checking packets one by one. */
export class OpusMonoDecoder {
  readonly sampleRate: number;
  #st: Deno.PointerValue;

  constructor(sampleRate: number) {
    this.sampleRate = sampleRate;
    const error = new Int32Array(1);
    this.#st = libopus().opus_decoder_create(sampleRate, 1, error);
    if (!this.#st) checkOpus(error[0] || -1, `opus_decoder_create(${sampleRate} Hz)`);
  }

  decodeInt16(packet: Uint8Array, length: number, pcm: Int16Array): number {
    if (!this.#st) throw new Error("Opus decoder is closed");
    return checkOpus(
      libopus().opus_decode(this.#st, packet, length, pcm, pcm.length, 0),
      "opus_decode",
    );
  }

  close(): void {
    if (this.#st) libopus().opus_decoder_destroy(this.#st);
    this.#st = null;
  }
}
