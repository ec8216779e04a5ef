/**
 * PCM encoder: L16 / L24 big-endian (network order, RFC 3551 §4.5.11,
 * RFC 3190 §4), channels interleaved in the client's order.
 *
 *   L24, 2 channels:  | c1 b23..16 | c1 b15..8 | c1 b7..0 | c2 b23..16 | ... next frame
 *   L16, 2 channels:  | c1 b15..8 | c1 b7..0 | c2 b15..8 | c2 b7..0 | ... next frame
 *
 * Input samples are left-justified signed 32-bit (src/audio/source.ts), so the
 * top 3 (L24) or 2 (L16) bytes of each sample are exactly `s >> 8` / `s >> 16`.
 */
import type { Encoding } from "../config/types.ts";
import type { Period } from "../audio/source.ts";

/**
 * Interleaves `channelIndexes` (0-based indexes into the period's frames) of
 * `period` into `out` as L16/L24 BE; returns the bytes written.
 */
export function encodePcm(
  period: Period,
  channelIndexes: Int32Array,
  encoding: Encoding,
  out: Uint8Array,
): number {
  const { data, frames, channels } = period;
  const nch = channelIndexes.length;
  let o = 0;
  if (encoding === "L24") {
    for (let f = 0; f < frames; f++) {
      const base = f * channels;
      for (let c = 0; c < nch; c++) {
        const s = data[base + channelIndexes[c]];
        out[o] = s >>> 24;
        out[o + 1] = (s >>> 16) & 0xff;
        out[o + 2] = (s >>> 8) & 0xff;
        o += 3;
      }
    }
  } else {
    for (let f = 0; f < frames; f++) {
      const base = f * channels;
      for (let c = 0; c < nch; c++) {
        const s = data[base + channelIndexes[c]];
        out[o] = s >>> 24;
        out[o + 1] = (s >>> 16) & 0xff;
        o += 2;
      }
    }
  }
  return o;
}
