/**
 * WAV (RIFF/WAVE, PCM) header and sample packing, runtime-neutral. The client
 * writes its stereo mix with it (`--out mix.wav`); tests read files back.
 *
 *   offset  size  field
 *    0      4     "RIFF"
 *    4      4     36 + data bytes (LE)
 *    8      4     "WAVE"
 *   12      4     "fmt "
 *   16      4     16 (fmt chunk size)
 *   20      2     1 (PCM)
 *   22      2     channels
 *   24      4     sample rate
 *   28      4     byte rate = rate · channels · bits/8
 *   32      2     block align = channels · bits/8
 *   34      2     bits per sample (16 or 24)
 *   36      4     "data"
 *   40      4     data bytes
 *   44      …     samples, little-endian two's complement, interleaved
 */

export const WAV_HEADER_BYTES = 44;
const WAVE_FORMAT_PCM = 1;
const FMT_CHUNK_BYTES = 16;

export type WavBits = 16 | 24;

export interface WavData {
  sampleRate: number;
  channels: number;
  bits: number;
  frames: number;
  /** Interleaved, −1 … 1. */
  samples: Float32Array;
}

function ascii(v: DataView, at: number, s: string): void {
  for (let i = 0; i < s.length; i++) v.setUint8(at + i, s.charCodeAt(i));
}

/** Writes the 44-byte header for `dataBytes` of samples into `out[0..44]`. */
export function writeWavHeader(
  out: Uint8Array,
  sampleRate: number,
  channels: number,
  bits: WavBits,
  dataBytes: number,
): void {
  if (out.length < WAV_HEADER_BYTES) {
    throw new RangeError(`WAV header needs ${WAV_HEADER_BYTES} bytes, got ${out.length}`);
  }
  const v = new DataView(out.buffer, out.byteOffset, WAV_HEADER_BYTES);
  const block = channels * (bits / 8);
  ascii(v, 0, "RIFF");
  v.setUint32(4, 36 + dataBytes, true);
  ascii(v, 8, "WAVE");
  ascii(v, 12, "fmt ");
  v.setUint32(16, FMT_CHUNK_BYTES, true);
  v.setUint16(20, WAVE_FORMAT_PCM, true);
  v.setUint16(22, channels, true);
  v.setUint32(24, sampleRate, true);
  v.setUint32(28, sampleRate * block, true);
  v.setUint16(32, block, true);
  v.setUint16(34, bits, true);
  ascii(v, 36, "data");
  v.setUint32(40, dataBytes, true);
}

/** Packs `count` floats (clamped to ±1) as little-endian PCM at `out[offset…]`; returns bytes. */
export function floatToPcm(
  input: Float32Array,
  count: number,
  bits: WavBits,
  out: Uint8Array,
  offset = 0,
): number {
  const bytes = bits / 8;
  if (out.length < offset + count * bytes) {
    throw new RangeError(`PCM output needs ${offset + count * bytes} bytes, got ${out.length}`);
  }
  const full = bits === 16 ? 0x8000 : 0x80_0000;
  let p = offset;
  for (let i = 0; i < count; i++) {
    const x = input[i];
    let v = Math.round((x > 1 ? 1 : x < -1 ? -1 : x) * full);
    if (v >= full) v = full - 1;
    out[p++] = v & 0xff;
    out[p++] = (v >> 8) & 0xff;
    if (bytes === 3) out[p++] = (v >> 16) & 0xff;
  }
  return p - offset;
}

/** Parses a PCM WAV (16/24-bit); throws RangeError naming what is missing. */
export function parseWav(buf: Uint8Array): WavData {
  if (buf.length < WAV_HEADER_BYTES) {
    throw new RangeError(`WAV needs at least ${WAV_HEADER_BYTES} bytes, got ${buf.length}`);
  }
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const tag = (at: number) => String.fromCharCode(...buf.subarray(at, at + 4));
  if (tag(0) !== "RIFF" || tag(8) !== "WAVE") throw new RangeError("not a RIFF/WAVE file");
  let at = 12;
  let fmt: { channels: number; rate: number; bits: number } | null = null;
  while (at + 8 <= buf.length) {
    const id = tag(at);
    const size = v.getUint32(at + 4, true);
    const body = at + 8;
    if (id === "fmt ") {
      fmt = {
        channels: v.getUint16(body + 2, true),
        rate: v.getUint32(body + 4, true),
        bits: v.getUint16(body + 14, true),
      };
    } else if (id === "data") {
      if (fmt === null) throw new RangeError("WAV data chunk before its fmt chunk");
      if (body + size > buf.length) {
        throw new RangeError(`WAV data chunk needs ${body + size} bytes, got ${buf.length}`);
      }
      const bytes = fmt.bits / 8;
      const count = Math.floor(size / bytes);
      const samples = new Float32Array(count);
      const full = fmt.bits === 16 ? 0x8000 : 0x80_0000;
      for (let i = 0, p = body; i < count; i++, p += bytes) {
        samples[i] = bytes === 2
          ? v.getInt16(p, true) / full
          : ((buf[p] | (buf[p + 1] << 8) | (buf[p + 2] << 16)) << 8 >> 8) / full;
      }
      return {
        sampleRate: fmt.rate,
        channels: fmt.channels,
        bits: fmt.bits,
        frames: count / fmt.channels,
        samples,
      };
    }
    at = body + size + (size & 1);
  }
  throw new RangeError("WAV has no data chunk");
}
