/**
 * Raw Deno FFI bindings for libopus (Debian package `libopus0`), opened lazily
 * on first use. Only what the server, the reference client and the tests need.
 *
 * `opus_encoder_ctl` is variadic; it is bound under fixed-arity names (one int
 * argument, one pointer argument, no argument). On x86-64 and AArch64 Linux a
 * variadic callee reads integer/pointer varargs from the same registers as
 * fixed ones, so these are safe for the integer CTLs used here.
 */

import { lazyLibrary } from "./load.ts";

const LIB_NAMES = ["libopus.so.0", "libopus.so"];
const DEBIAN_PACKAGE = "libopus0";

export const OPUS_OK = 0;
export const OPUS_APPLICATION_VOIP = 2048;
export const OPUS_APPLICATION_AUDIO = 2049;
export const OPUS_APPLICATION_RESTRICTED_LOWDELAY = 2051;

export const OPUS_SET_BITRATE_REQUEST = 4002;
export const OPUS_GET_BITRATE_REQUEST = 4003;
export const OPUS_SET_MAX_BANDWIDTH_REQUEST = 4004;
export const OPUS_SET_VBR_REQUEST = 4006;
export const OPUS_SET_BANDWIDTH_REQUEST = 4008;
export const OPUS_SET_COMPLEXITY_REQUEST = 4010;
export const OPUS_SET_VBR_CONSTRAINT_REQUEST = 4020;
export const OPUS_SET_SIGNAL_REQUEST = 4024;
export const OPUS_GET_LOOKAHEAD_REQUEST = 4027;
export const OPUS_RESET_STATE = 4028;

export const OPUS_AUTO = -1000;
export const OPUS_SIGNAL_MUSIC = 3002;

export const OPUS_BANDWIDTH_NARROWBAND = 1101;
export const OPUS_BANDWIDTH_MEDIUMBAND = 1102;
export const OPUS_BANDWIDTH_WIDEBAND = 1103;
export const OPUS_BANDWIDTH_SUPERWIDEBAND = 1104;
export const OPUS_BANDWIDTH_FULLBAND = 1105;

const SYMBOLS = {
  opus_get_version_string: { parameters: [], result: "pointer" },
  opus_strerror: { parameters: ["i32"], result: "pointer" },

  /** (Fs, channels, application, int *error) → OpusEncoder* */
  opus_encoder_create: { parameters: ["i32", "i32", "i32", "buffer"], result: "pointer" },
  opus_encoder_destroy: { parameters: ["pointer"], result: "void" },
  /** (st, const opus_int16 *pcm, frame_size, unsigned char *data, max_data_bytes) → bytes or error */
  opus_encode: {
    parameters: ["pointer", "buffer", "i32", "buffer", "i32"],
    result: "i32",
  },
  /** (st, const float *pcm, frame_size, unsigned char *data, max_data_bytes) → bytes or error */
  opus_encode_float: {
    parameters: ["pointer", "buffer", "i32", "buffer", "i32"],
    result: "i32",
  },
  opus_encoder_ctl_int: {
    name: "opus_encoder_ctl",
    parameters: ["pointer", "i32", "i32"],
    result: "i32",
  },
  opus_encoder_ctl_ptr: {
    name: "opus_encoder_ctl",
    parameters: ["pointer", "i32", "buffer"],
    result: "i32",
  },
  opus_encoder_ctl_none: {
    name: "opus_encoder_ctl",
    parameters: ["pointer", "i32"],
    result: "i32",
  },

  /** (Fs, channels, int *error) → OpusDecoder* */
  opus_decoder_create: { parameters: ["i32", "i32", "buffer"], result: "pointer" },
  opus_decoder_destroy: { parameters: ["pointer"], result: "void" },
  /** (st, data, len, opus_int16 *pcm, frame_size, decode_fec) → samples per channel or error */
  opus_decode: {
    parameters: ["pointer", "buffer", "i32", "buffer", "i32", "i32"],
    result: "i32",
  },
  opus_decode_float: {
    parameters: ["pointer", "buffer", "i32", "buffer", "i32", "i32"],
    result: "i32",
  },

  /** (Fs, channels, streams, coupled_streams, const unsigned char *mapping, int *error) */
  opus_multistream_decoder_create: {
    parameters: ["i32", "i32", "i32", "i32", "buffer", "buffer"],
    result: "pointer",
  },
  opus_multistream_decoder_destroy: { parameters: ["pointer"], result: "void" },
  opus_multistream_decode: {
    parameters: ["pointer", "buffer", "i32", "buffer", "i32", "i32"],
    result: "i32",
  },
  opus_multistream_decode_float: {
    parameters: ["pointer", "buffer", "i32", "buffer", "i32", "i32"],
    result: "i32",
  },

  opus_packet_get_nb_frames: { parameters: ["buffer", "i32"], result: "i32" },
  opus_packet_get_samples_per_frame: { parameters: ["buffer", "i32"], result: "i32" },
  opus_packet_get_bandwidth: { parameters: ["buffer"], result: "i32" },
} as const;

export type LibOpus = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];

/** The libopus symbols; opens the library on first call. Throws naming the Debian package if missing. */
export const libopus: () => LibOpus = lazyLibrary("libopus", LIB_NAMES, DEBIAN_PACKAGE, SYMBOLS);

/** libopus's message for an error code (negative return value). */
export function opusStrerror(code: number): string {
  const p = libopus().opus_strerror(code);
  return p ? Deno.UnsafePointerView.getCString(p) : `opus error ${code}`;
}

/** e.g. "libopus 1.3.1". */
export function opusVersion(): string {
  const p = libopus().opus_get_version_string();
  return p ? Deno.UnsafePointerView.getCString(p) : "libopus (unknown version)";
}

/** Throws `Error("<what>: <opus message> (<code>)")` when `code` is negative; returns it otherwise. */
export function checkOpus(code: number, what: string): number {
  if (code < 0) throw new Error(`${what}: ${opusStrerror(code)} (${code})`);
  return code;
}
