/**
 * Raw Deno FFI bindings for ALSA playback (libasound.so.2), used by the
 * reference client's `--play DEVICE` (src/client/alsa_output.ts). Kept apart
 * from ffi/libasound.ts (capture, another module's) so the two evolve
 * independently; the pointer helpers are shared from there.
 *
 * snd_pcm_set_params is alsa-lib's one-call setup (access, format, channels,
 * rate, soft resampling, latency in µs). snd_pcm_writei returns frames
 * written or a negative errno as a bigint (`snd_pcm_sframes_t`).
 */

export {
  alsaError,
  cellPointer,
  cString,
  EAGAIN,
  EPIPE,
  LIBASOUND_DEBIAN_PACKAGE,
  LIBASOUND_SONAME,
  pointerCell,
  SND_PCM_ACCESS_RW_INTERLEAVED,
  SND_PCM_NONBLOCK,
} from "./libasound.ts";
import { LIBASOUND_DEBIAN_PACKAGE, LIBASOUND_SONAME } from "./libasound.ts";

// snd_pcm_stream_t
export const SND_PCM_STREAM_PLAYBACK = 0;
// snd_pcm_format_t
export const SND_PCM_FORMAT_FLOAT_LE = 14;

const P = "pointer" as const;
const B = "buffer" as const;

const SYMBOLS = {
  snd_pcm_open: { parameters: [B, B, "i32", "i32"], result: "i32" },
  snd_pcm_set_params: {
    parameters: [P, "i32", "i32", "u32", "u32", "i32", "u32"],
    result: "i32",
  },
  snd_pcm_writei: { parameters: [P, B, "usize"], result: "isize" },
  snd_pcm_recover: { parameters: [P, "i32", "i32"], result: "i32" },
  snd_pcm_drain: { parameters: [P], result: "i32" },
  snd_pcm_drop: { parameters: [P], result: "i32" },
  snd_pcm_close: { parameters: [P], result: "i32" },
} as const satisfies Deno.ForeignLibraryInterface;

export type LibAsoundPlayback = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];

let lib: Deno.DynamicLibrary<typeof SYMBOLS> | undefined;

export function libasoundPlayback(): LibAsoundPlayback {
  if (lib) return lib.symbols;
  try {
    lib = Deno.dlopen(LIBASOUND_SONAME, SYMBOLS);
  } catch (e) {
    throw new Error(
      `cannot load ${LIBASOUND_SONAME} (install the Debian package ${LIBASOUND_DEBIAN_PACKAGE}): ${
        (e as Error).message
      }`,
    );
  }
  return lib.symbols;
}
