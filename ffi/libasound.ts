/**
 * Raw Deno FFI bindings for libasound.so.2 (alsa-lib). Nothing but symbols,
 * constants and tiny pointer helpers; the capture logic lives in
 * src/audio/alsa_source.ts and src/audio/alsa_worker.ts.
 *
 * Every call here is synchronous. The blocking ones (snd_pcm_open on a FIFO
 * `file` PCM, snd_pcm_readi, snd_pcm_wait) are only called from the capture
 * Worker (src/audio/alsa_worker.ts), never from the main thread.
 *
 * Types: `snd_pcm_sframes_t` / `long` are "isize" and come back as bigint;
 * `snd_pcm_uframes_t` is "usize". Out-parameters are passed as typed arrays.
 */

import { lazyLibrary } from "./load.ts";

export const LIBASOUND_SONAME = "libasound.so.2";
export const LIBASOUND_DEBIAN_PACKAGE = "libasound2";

// snd_pcm_stream_t
export const SND_PCM_STREAM_PLAYBACK = 0;
export const SND_PCM_STREAM_CAPTURE = 1;
// snd_pcm_open mode bits
export const SND_PCM_NONBLOCK = 0x1;
// snd_pcm_access_t
export const SND_PCM_ACCESS_RW_INTERLEAVED = 3;
// snd_pcm_format_t
export const SND_PCM_FORMAT_S16_LE = 2;
export const SND_PCM_FORMAT_S32_LE = 10;
export const SND_PCM_FORMAT_S24_3LE = 32;
export const SND_PCM_FORMAT_FLOAT_LE = 14;
// snd_pcm_state_t
export const SND_PCM_STATE_OPEN = 0;
export const SND_PCM_STATE_SETUP = 1;
export const SND_PCM_STATE_PREPARED = 2;
export const SND_PCM_STATE_RUNNING = 3;
export const SND_PCM_STATE_XRUN = 4;
export const SND_PCM_STATE_SUSPENDED = 7;
export const SND_PCM_STATE_DISCONNECTED = 8;
// errno values alsa-lib returns negated
export const EIO = 5;
export const EAGAIN = 11;
export const ENODEV = 19;
export const EPIPE = 32;
export const EBADFD = 77;
export const ESTRPIPE = 86;

const P = "pointer" as const;
const B = "buffer" as const;

const SYMBOLS = {
  snd_strerror: { parameters: ["i32"], result: P },
  snd_pcm_open: { parameters: [B, B, "i32", "i32"], result: "i32" },
  snd_pcm_close: { parameters: [P], result: "i32" },
  snd_pcm_nonblock: { parameters: [P, "i32"], result: "i32" },
  snd_pcm_hw_params_malloc: { parameters: [B], result: "i32" },
  snd_pcm_hw_params_free: { parameters: [P], result: "void" },
  snd_pcm_hw_params_any: { parameters: [P, P], result: "i32" },
  snd_pcm_hw_params_set_access: { parameters: [P, P, "i32"], result: "i32" },
  snd_pcm_hw_params_test_format: { parameters: [P, P, "i32"], result: "i32" },
  snd_pcm_hw_params_set_format: { parameters: [P, P, "i32"], result: "i32" },
  snd_pcm_hw_params_test_channels: { parameters: [P, P, "u32"], result: "i32" },
  snd_pcm_hw_params_set_channels: { parameters: [P, P, "u32"], result: "i32" },
  snd_pcm_hw_params_test_rate: { parameters: [P, P, "u32", "i32"], result: "i32" },
  snd_pcm_hw_params_set_rate_near: { parameters: [P, P, B, B], result: "i32" },
  snd_pcm_hw_params_set_rate_resample: { parameters: [P, P, "u32"], result: "i32" },
  snd_pcm_hw_params_set_period_size_near: { parameters: [P, P, B, B], result: "i32" },
  snd_pcm_hw_params_set_buffer_size_near: { parameters: [P, P, B], result: "i32" },
  snd_pcm_hw_params_get_period_size: { parameters: [P, B, B], result: "i32" },
  snd_pcm_hw_params_get_buffer_size: { parameters: [P, B], result: "i32" },
  snd_pcm_hw_params_get_rate: { parameters: [P, B, B], result: "i32" },
  snd_pcm_hw_params_get_channels: { parameters: [P, B], result: "i32" },
  snd_pcm_hw_params: { parameters: [P, P], result: "i32" },
  snd_pcm_sw_params_malloc: { parameters: [B], result: "i32" },
  snd_pcm_sw_params_free: { parameters: [P], result: "void" },
  snd_pcm_sw_params_current: { parameters: [P, P], result: "i32" },
  snd_pcm_sw_params_set_avail_min: { parameters: [P, P, "usize"], result: "i32" },
  snd_pcm_sw_params_set_start_threshold: { parameters: [P, P, "usize"], result: "i32" },
  snd_pcm_sw_params: { parameters: [P, P], result: "i32" },
  snd_pcm_prepare: { parameters: [P], result: "i32" },
  snd_pcm_start: { parameters: [P], result: "i32" },
  snd_pcm_drop: { parameters: [P], result: "i32" },
  snd_pcm_state: { parameters: [P], result: "i32" },
  snd_pcm_wait: { parameters: [P, "i32"], result: "i32" },
  snd_pcm_readi: { parameters: [P, B, "usize"], result: "isize" },
  // playback, for the reference client's --play (src/client/alsa_output.ts):
  // one-call setup (access, format, channels, rate, soft resample, latency µs)
  snd_pcm_set_params: {
    parameters: [P, "i32", "i32", "u32", "u32", "i32", "u32"],
    result: "i32",
  },
  snd_pcm_writei: { parameters: [P, B, "usize"], result: "isize" },
  snd_pcm_drain: { parameters: [P], result: "i32" },
  snd_pcm_recover: { parameters: [P, "i32", "i32"], result: "i32" },
  snd_pcm_delay: { parameters: [P, B], result: "i32" },
  snd_pcm_name: { parameters: [P], result: P },
  snd_card_next: { parameters: [B], result: "i32" },
  snd_card_get_name: { parameters: ["i32", B], result: "i32" },
  snd_card_get_longname: { parameters: ["i32", B], result: "i32" },
  snd_ctl_open: { parameters: [B, B, "i32"], result: "i32" },
  snd_ctl_close: { parameters: [P], result: "i32" },
  snd_ctl_card_info_malloc: { parameters: [B], result: "i32" },
  snd_ctl_card_info_free: { parameters: [P], result: "void" },
  snd_ctl_card_info: { parameters: [P, P], result: "i32" },
  snd_ctl_card_info_get_id: { parameters: [P], result: P },
  free: { parameters: [P], result: "void", optional: true },
} as const satisfies Deno.ForeignLibraryInterface;

export type LibAsound = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];

/** Opens libasound on first use; a missing library names the Debian package. */
export const libasound: () => LibAsound = lazyLibrary(
  "libasound",
  [LIBASOUND_SONAME],
  LIBASOUND_DEBIAN_PACKAGE,
  SYMBOLS,
);

/** NUL-terminated UTF-8 copy of a string, for `const char *` parameters. */
export function cString(s: string): Uint8Array<ArrayBuffer> {
  const bytes = new TextEncoder().encode(s);
  const out = new Uint8Array(bytes.length + 1);
  out.set(bytes);
  return out;
}

/** Reads a `const char *` (null → ""). */
export function readCString(p: Deno.PointerValue): string {
  return p === null ? "" : new Deno.UnsafePointerView(p).getCString();
}

/** One pointer-sized out-parameter cell (`T **`). */
export function pointerCell(): BigUint64Array<ArrayBuffer> {
  return new BigUint64Array(1);
}

export function cellPointer(cell: BigUint64Array): Deno.PointerValue {
  return Deno.UnsafePointer.create(cell[0]);
}

/** Human text for a negative alsa-lib return code, e.g. "Broken pipe (-32)". */
export function alsaError(code: number): string {
  return `${readCString(libasound().snd_strerror(code))} (${code})`;
}
