/**
 * L16 / L24 PCM payload decoding (RFC 3551 §4.5.11, RFC 3190 §4),
 * runtime-neutral. Samples are big-endian two's complement, channels
 * interleaved frame by frame in the order of `client_config_ack.channels`:
 *
 *   L24, 3 channels:
 *   | ch1 s0 (3 B) | ch2 s0 (3 B) | ch3 s0 (3 B) | ch1 s1 | ch2 s1 | ch3 s1 | …
 *   L16: the same with 2-byte samples.
 */

export type PcmEncoding = "L16" | "L24";

export const L16_BYTES = 2;
export const L24_BYTES = 3;
const L16_FULL_SCALE = 0x8000;
const L24_FULL_SCALE = 0x80_0000;

export function pcmSampleBytes(encoding: PcmEncoding): 2 | 3 {
  return encoding === "L16" ? L16_BYTES : L24_BYTES;
}

/** Full-scale magnitude: the integer that maps to −1.0. */
export function pcmFullScale(encoding: PcmEncoding): number {
  return encoding === "L16" ? L16_FULL_SCALE : L24_FULL_SCALE;
}

/**
 * Decodes `buf[offset .. offset+length]` into `out` as signed integers,
 * interleaved. Returns the number of frames. Throws RangeError when the length
 * is not whole frames or `out` is too small (both numbers in the message).
 */
export function decodePcmInto(
  buf: Uint8Array,
  offset: number,
  length: number,
  encoding: PcmEncoding,
  channels: number,
  out: Int32Array,
): number {
  const bytes = pcmSampleBytes(encoding);
  const frameBytes = bytes * channels;
  if (!(channels >= 1)) throw new RangeError(`PCM needs at least 1 channel, got ${channels}`);
  if (length % frameBytes !== 0) {
    throw new RangeError(
      `${encoding} payload of ${length} bytes is not whole ${frameBytes}-byte frames (${channels} channels)`,
    );
  }
  if (offset + length > buf.length) {
    throw new RangeError(`PCM payload needs ${offset + length} bytes, got ${buf.length}`);
  }
  const samples = length / bytes;
  if (out.length < samples) {
    throw new RangeError(`PCM output needs ${samples} samples, got ${out.length}`);
  }
  if (bytes === L16_BYTES) {
    for (let i = 0, p = offset; i < samples; i++, p += 2) {
      out[i] = ((buf[p] << 24) | (buf[p + 1] << 16)) >> 16;
    }
  } else {
    for (let i = 0, p = offset; i < samples; i++, p += 3) {
      out[i] = ((buf[p] << 24) | (buf[p + 1] << 16) | (buf[p + 2] << 8)) >> 8;
    }
  }
  return samples / channels;
}

/** Encodes interleaved integers as big-endian PCM (fixtures and tests); returns bytes written. */
export function encodePcmInto(
  samples: ArrayLike<number>,
  encoding: PcmEncoding,
  out: Uint8Array,
  offset = 0,
): number {
  const bytes = pcmSampleBytes(encoding);
  const need = offset + samples.length * bytes;
  if (out.length < need) throw new RangeError(`PCM buffer needs ${need} bytes, got ${out.length}`);
  let p = offset;
  for (let i = 0; i < samples.length; i++) {
    const v = samples[i];
    if (bytes === L24_BYTES) out[p++] = (v >> 16) & 0xff;
    out[p++] = (v >> 8) & 0xff;
    out[p++] = v & 0xff;
  }
  return p - offset;
}

/** Integer sample → float in [−1, 1). */
export function pcmToFloat(value: number, encoding: PcmEncoding): number {
  return value / pcmFullScale(encoding);
}

/** Decodes into a buffer it owns, growing it only when a payload is larger than any before. */
export class PcmDecoder {
  samples = new Int32Array(1024);
  frames = 0;
  channels = 0;

  decode(
    buf: Uint8Array,
    offset: number,
    length: number,
    encoding: PcmEncoding,
    channels: number,
  ): number {
    const need = Math.ceil(length / pcmSampleBytes(encoding));
    if (this.samples.length < need) this.samples = new Int32Array(need);
    this.channels = channels;
    this.frames = decodePcmInto(buf, offset, length, encoding, channels, this.samples);
    return this.frames;
  }
}
