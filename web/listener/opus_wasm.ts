/**
 * The page's Opus decoder: libopus compiled to wasm (npm "opus-decoder",
 * bundled into the page) behind the shared `OpusFrameDecoder` interface of
 * src/client/opus.ts, so the page decodes through the same receiver
 * (src/client/receiver.ts) as the Deno client, whose decoder is libopus over
 * FFI (src/client/opus_ffi.ts). One decoder per channel group: family 255,
 * N mono streams, no coupled streams, mapping [0 … N−1].
 *
 * Making a wasm decoder is asynchronous (the module instantiates) and the
 * receiver's factory is not, so decoders are made ahead: `prepare(counts,
 * rate)` when an ack names the stream, then `factory` hands them out.
 *
 * Decoding calls the library's libopus wrapper on the decoder's own wasm
 * buffers, allocating nothing (its public `decodeFrame` copies every channel
 * twice into new arrays per packet):
 *
 *   opus_frame_decode_float_deinterleaved(decoder, in, length, out) → frames
 *   out: planar, channel c at out[c·frames …], frame size 120 ms
 *
 * Concealment: an empty packet would conceal the wrapper's whole 120 ms. A
 * packet of N zero-length frames does what `opus_multistream_decode(NULL, 0,
 * frames)` does (RFC 6716 §3.2.1: a 0-byte frame is lost; libopus conceals it
 * for the duration its TOC names), so each stream conceals exactly one frame:
 *
 *   concealment packet, N streams (RFC 7845 §5.1.1, RFC 6716 appendix B framing)
 *   +-----+-----+-----+-----+ … +-----+
 *   | TOC |  0  | TOC |  0  |   | TOC |   TOC = the group's last packet's, code 0
 *   +-----+-----+-----+-----+ … +-----+   (else CELT-only full band of that duration)
 *    stream 0    stream 1        stream N−1 (not self-delimited: the rest, 0 bytes)
 */
import { OpusDecoder } from "opus-decoder";
import type { OpusDecoderFactory, OpusFrameDecoder } from "../../src/client/opus.ts";

/** Rates libopus decodes at (opus-decoder silently takes 48000 for any other). */
const OPUS_DECODE_RATES = [8000, 12000, 16000, 24000, 48000] as const;
type DecodeRate = typeof OPUS_DECODE_RATES[number];
/** RFC 6716 §3.1: the TOC's low two bits say how many frames; 0 = one. */
const TOC_CODE_MASK = 0x03;
const TOC_CONFIG_SHIFT = 3;
/** RFC 6716 table 2: configurations 28–31 are CELT-only full band, 2.5/5/10/20 ms. */
const CELT_FULLBAND_CONFIG = 28;
const CELT_FRAME_MS = [2.5, 5, 10, 20];

/** What opus-decoder 0.7 keeps inside a decoder (the version is pinned in deno.json). */
interface DecoderInternals {
  _common: {
    wasm: {
      opus_frame_decode_float_deinterleaved(
        decoder: number,
        input: number,
        length: number,
        output: number,
      ): number;
    };
  };
  _decoder: number;
  _input: { ptr: number; len: number; buf: Uint8Array };
  _output: { ptr: number; len: number; buf: Float32Array };
}

function internalsOf(d: OpusDecoder<DecodeRate>): DecoderInternals {
  const i = d as unknown as Partial<DecoderInternals>;
  const ok = typeof i._common?.wasm?.opus_frame_decode_float_deinterleaved === "function" &&
    typeof i._decoder === "number" && i._input?.buf instanceof Uint8Array &&
    i._output?.buf instanceof Float32Array;
  if (!ok) throw new Error("opus-decoder's internals are not those of version 0.7");
  return i as DecoderInternals;
}

/** Frame duration (ms) a TOC byte names (RFC 6716 §3.1, table 2). */
export function tocFrameMs(toc: number): number {
  const config = toc >> TOC_CONFIG_SHIFT;
  if (config < 12) return [10, 20, 40, 60][config & 3]; // SILK-only
  if (config < 16) return [10, 20][config & 1]; // hybrid
  return CELT_FRAME_MS[config & 3]; // CELT-only
}

/** One group's decoder on opus-decoder's wasm. */
export class WasmOpusFrameDecoder implements OpusFrameDecoder {
  readonly channels: number;
  readonly sampleRate: number;
  private readonly dec: OpusDecoder<DecodeRate>;
  private readonly inner: DecoderInternals;
  /** The concealment packet (its TOC bytes written per use). */
  private readonly plc: Uint8Array;
  /** TOC of the last packet decoded, −1 before the first. */
  private lastToc = -1;
  private closed = false;

  private constructor(dec: OpusDecoder<DecodeRate>, channels: number, sampleRate: number) {
    this.dec = dec;
    this.inner = internalsOf(dec);
    this.channels = channels;
    this.sampleRate = sampleRate;
    this.plc = new Uint8Array(2 * channels - 1);
  }

  /** A decoder of `channels` mono streams at `sampleRate`, once its wasm runs. */
  static async create(channels: number, sampleRate: number): Promise<WasmOpusFrameDecoder> {
    if (!(Number.isInteger(channels) && channels >= 1 && channels <= 255)) {
      throw new RangeError(`Opus multistream channels must be 1–255, got ${channels}`);
    }
    if (!(OPUS_DECODE_RATES as readonly number[]).includes(sampleRate)) {
      throw new RangeError(`Opus decodes at ${OPUS_DECODE_RATES.join("/")} Hz, not ${sampleRate}`);
    }
    const dec = new OpusDecoder({
      channels,
      streamCount: channels,
      coupledStreamCount: 0,
      channelMappingTable: Array.from({ length: channels }, (_, i) => i),
      sampleRate: sampleRate as DecodeRate,
      preSkip: 0,
    });
    try {
      await dec.ready;
      return new WasmOpusFrameDecoder(dec, channels, sampleRate);
    } catch (e) {
      try {
        dec.free();
      } catch { /* never instantiated */ }
      throw e;
    }
  }

  decode(payload: Uint8Array | null, out: Float32Array, lostFrames: number): number {
    if (this.closed) throw new Error("Opus decoder is closed");
    const input = this.inner._input;
    let length: number;
    if (payload === null) {
      length = this.writeConcealment(lostFrames);
      input.buf.set(this.plc);
    } else {
      length = payload.length;
      if (length < 1 || length > input.len) {
        throw new RangeError(`Opus packet must be 1–${input.len} bytes, got ${length}`);
      }
      input.buf.set(payload);
    }
    const frames = this.inner._common.wasm.opus_frame_decode_float_deinterleaved(
      this.inner._decoder,
      input.ptr,
      length,
      this.inner._output.ptr,
    );
    if (frames < 0) {
      throw new Error(`opus_multistream_decode_float failed: libopus error ${frames}`);
    }
    const n = this.channels;
    if (frames * n > out.length) {
      throw new RangeError(`Opus output needs ${frames * n} samples, got room for ${out.length}`);
    }
    const planar = this.inner._output.buf;
    for (let c = 0; c < n; c++) {
      const from = c * frames;
      for (let f = 0; f < frames; f++) out[f * n + c] = planar[from + f];
    }
    if (payload !== null) this.lastToc = payload[0];
    return frames;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.dec.free();
  }

  /** Writes the concealment packet for one lost frame of `frames`; returns its length. */
  private writeConcealment(frames: number): number {
    const ms = (frames * 1000) / this.sampleRate;
    let toc = this.lastToc & ~TOC_CODE_MASK;
    if (this.lastToc < 0 || tocFrameMs(toc) !== ms) {
      const size = CELT_FRAME_MS.indexOf(ms);
      if (size < 0) {
        throw new RangeError(`Opus conceals frames of ${CELT_FRAME_MS.join("/")} ms, not ${ms}`);
      }
      toc = (CELT_FULLBAND_CONFIG + size) << TOC_CONFIG_SHIFT;
    }
    const p = this.plc;
    for (let s = 0; s < this.channels - 1; s++) {
      p[2 * s] = toc;
      p[2 * s + 1] = 0; // self-delimiting length: 0 bytes
    }
    p[p.length - 1] = toc;
    return p.length;
  }
}

/**
 * Decoders made ahead for the receiver's factory. `prepare` frees what an
 * earlier one made and nobody took; a newer `prepare` wins over one still
 * running.
 */
export class WasmOpusDecoders {
  private ready: WasmOpusFrameDecoder[] = [];
  private generation = 0;
  private error = "";

  /** Makes one decoder per group (`counts` channels each) at `sampleRate`. Never rejects. */
  async prepare(counts: readonly number[], sampleRate: number): Promise<void> {
    const gen = ++this.generation;
    this.freeReady();
    let made: WasmOpusFrameDecoder[] = [];
    let error = "";
    const all = await Promise.allSettled(
      counts.map((c) => WasmOpusFrameDecoder.create(c, sampleRate)),
    );
    for (const r of all) {
      if (r.status === "fulfilled") made.push(r.value);
      else error ||= (r.reason as Error).message;
    }
    if (error !== "" || gen !== this.generation) {
      for (const d of made) d.close();
      made = [];
    }
    if (gen !== this.generation) return;
    this.ready = made;
    this.error = error;
  }

  /** Hands out a prepared decoder; throws when none of that shape was prepared. */
  readonly factory: OpusDecoderFactory = (channels, sampleRate) => {
    const i = this.ready.findIndex((d) => d.channels === channels && d.sampleRate === sampleRate);
    if (i < 0) {
      throw new Error(
        this.error || `no Opus decoder of ${channels} channels at ${sampleRate} Hz was prepared`,
      );
    }
    return this.ready.splice(i, 1)[0];
  };

  /** Frees the decoders nobody took (the receiver closes those it took). */
  close(): void {
    this.generation++;
    this.freeReady();
  }

  private freeReady(): void {
    for (const d of this.ready) d.close();
    this.ready = [];
  }
}
