/**
 * Raw Deno FFI bindings for libsamplerate (Secret Rabbit Code, Debian package
 * `libsamplerate0`), opened lazily on first use.
 *
 * SRC_DATA layout (LP64: x86-64, AArch64), from samplerate.h 0.2.2:
 *
 *   offset  field
 *    0      const float *data_in
 *    8      float *data_out
 *   16      long input_frames
 *   24      long output_frames
 *   32      long input_frames_used      (written by src_process)
 *   40      long output_frames_gen      (written by src_process)
 *   48      int end_of_input            (+4 bytes padding)
 *   56      double src_ratio            (output rate / input rate)
 *   64      (size)
 */

import { lazyLibrary } from "./load.ts";

const LIB_NAMES = ["libsamplerate.so.0", "libsamplerate.so"];
const DEBIAN_PACKAGE = "libsamplerate0";

export const SRC_SINC_BEST_QUALITY = 0;
export const SRC_SINC_MEDIUM_QUALITY = 1;
export const SRC_SINC_FASTEST = 2;

export const SRC_DATA_BYTES = 64;
export const SRC_DATA_IN = 0;
export const SRC_DATA_OUT = 8;
export const SRC_INPUT_FRAMES = 16;
export const SRC_OUTPUT_FRAMES = 24;
export const SRC_INPUT_FRAMES_USED = 32;
export const SRC_OUTPUT_FRAMES_GEN = 40;
export const SRC_END_OF_INPUT = 48;
export const SRC_RATIO = 56;

const SYMBOLS = {
  /** (converter_type, channels, int *error) → SRC_STATE* */
  src_new: { parameters: ["i32", "i32", "buffer"], result: "pointer" },
  src_delete: { parameters: ["pointer"], result: "pointer" },
  /** (state, SRC_DATA *data) → 0 or error code */
  src_process: { parameters: ["pointer", "buffer"], result: "i32" },
  src_reset: { parameters: ["pointer"], result: "i32" },
  src_strerror: { parameters: ["i32"], result: "pointer" },
  src_get_name: { parameters: ["i32"], result: "pointer" },
  /** out[i] = in[i] / 2^31 */
  src_int_to_float_array: { parameters: ["buffer", "buffer", "i32"], result: "void" },
  /** out[i] = lrint(clip(in[i] * 2^31)) */
  src_float_to_int_array: { parameters: ["buffer", "buffer", "i32"], result: "void" },
} as const;

export type LibSamplerate = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];

/** The libsamplerate symbols; opens the library on first call. Throws naming the Debian package if missing. */
export const libsamplerate: () => LibSamplerate = lazyLibrary(
  "libsamplerate",
  LIB_NAMES,
  DEBIAN_PACKAGE,
  SYMBOLS,
);

/** libsamplerate's message for an error code. */
export function srcStrerror(code: number): string {
  const p = libsamplerate().src_strerror(code);
  return p ? Deno.UnsafePointerView.getCString(p) : `libsamplerate error ${code}`;
}
