/**
 * Capture sample formats the M32/X32 (and ALSA plugins in front of it) can
 * deliver, and their conversion to the server's internal format: signed
 * 32-bit LEFT-JUSTIFIED (src/audio/source.ts), so that L24 = sample >> 8 and
 * L16 = sample >> 16 exactly.
 *
 *   S32_LE   b0 b1 b2 b3  little endian int32      → as is
 *   S24_3LE  b0 b1 b2     little endian int24      → sign-extend, << 8
 *   S16_LE   b0 b1        little endian int16      → << 16
 *
 * Pure functions over byte buffers; no FFI here.
 */

export const SAMPLE_FORMATS = ["S32_LE", "S24_3LE", "S16_LE"] as const;
export type SampleFormatName = typeof SAMPLE_FORMATS[number];

/** Preference order when negotiating with the device. */
export const DEFAULT_FORMAT_PREFERENCE: readonly SampleFormatName[] = SAMPLE_FORMATS;
/** The console's USB channel modes, most preferred first. Never invent others. */
export const CHANNEL_MODES = [32, 16, 8, 2] as const;

export const BYTES_PER_SAMPLE: Readonly<Record<SampleFormatName, number>> = {
  S32_LE: 4,
  S24_3LE: 3,
  S16_LE: 2,
};

const S24_SHIFT = 8;
const S16_SHIFT = 16;

export function isSampleFormat(s: string): s is SampleFormatName {
  return (SAMPLE_FORMATS as readonly string[]).includes(s);
}

/**
 * Converts `samples` interleaved samples of `format` from `src` (raw bytes as
 * read from ALSA) into left-justified int32 in `dst`. Allocates nothing.
 */
export function toLeftJustifiedInt32(
  format: SampleFormatName,
  src: Uint8Array,
  dst: Int32Array,
  samples: number,
): void {
  const need = samples * BYTES_PER_SAMPLE[format];
  if (src.length < need) {
    throw new RangeError(`${format}: ${samples} samples need ${need} bytes, got ${src.length}`);
  }
  if (dst.length < samples) {
    throw new RangeError(`${format}: destination needs ${samples} samples, got ${dst.length}`);
  }
  switch (format) {
    case "S32_LE": {
      if (src.byteOffset % 4 === 0) {
        dst.set(new Int32Array(src.buffer, src.byteOffset, samples));
      } else {
        for (let i = 0, o = 0; i < samples; i++, o += 4) {
          dst[i] = src[o] | (src[o + 1] << 8) | (src[o + 2] << 16) | (src[o + 3] << 24);
        }
      }
      return;
    }
    case "S24_3LE":
      for (let i = 0, o = 0; i < samples; i++, o += 3) {
        // bytes into the top 24 bits: sign extension is implicit, low byte 0.
        dst[i] = (src[o] << S24_SHIFT) | (src[o + 1] << 16) | (src[o + 2] << 24);
      }
      return;
    case "S16_LE":
      for (let i = 0, o = 0; i < samples; i++, o += 2) {
        dst[i] = (src[o] << S16_SHIFT) | (src[o + 1] << 24);
      }
      return;
  }
}

/**
 * The inverse, used by the emulator and fixtures: writes left-justified int32
 * samples as `format` bytes (dropping the bits the format cannot carry).
 */
export function fromLeftJustifiedInt32(
  format: SampleFormatName,
  src: Int32Array,
  dst: Uint8Array,
  samples: number,
): void {
  const need = samples * BYTES_PER_SAMPLE[format];
  if (dst.length < need) {
    throw new RangeError(`${format}: ${samples} samples need ${need} bytes, got ${dst.length}`);
  }
  const bytes = BYTES_PER_SAMPLE[format];
  const skip = 4 - bytes;
  for (let i = 0, o = 0; i < samples; i++) {
    const v = src[i];
    for (let b = skip; b < 4; b++) dst[o++] = (v >>> (8 * b)) & 0xff;
  }
}

/**
 * Picks the first candidate the device accepts (`accepts` wraps
 * snd_pcm_hw_params_test_*), or null. Keeps negotiation logic testable.
 */
export function firstAccepted<T>(candidates: readonly T[], accepts: (c: T) => boolean): T | null {
  for (const c of candidates) if (accepts(c)) return c;
  return null;
}
