/**
 * Native library preflight: before the server starts, try to load every
 * shared library it reaches through FFI and name the Debian package for any
 * that is missing, instead of failing later with a bare dlopen error.
 */

export interface NativeLibrary {
  /** soname passed to dlopen. */
  file: string;
  /** Debian package that ships it (Debian 13 renamed some with a t64 suffix; apt maps them). */
  pkg: string;
  /** What the server loses without it. */
  purpose: string;
  /** "always": the server cannot run; "alsa": needed to capture; "optional": a feature is off. */
  need: "always" | "alsa" | "optional";
}

export const NATIVE_LIBRARIES: readonly NativeLibrary[] = [
  { file: "libc.so.6", pkg: "libc6", purpose: "UDP batching and DSCP marking", need: "always" },
  {
    file: "libasound.so.2",
    pkg: "libasound2",
    purpose: "capturing the console over USB (ALSA)",
    need: "alsa",
  },
  { file: "libopus.so.0", pkg: "libopus0", purpose: "Opus compression", need: "optional" },
  {
    file: "libsamplerate.so.0",
    pkg: "libsamplerate0",
    purpose: "sample rates below the console's",
    need: "optional",
  },
  {
    file: "libcrypto.so.3",
    pkg: "libssl3",
    purpose: "the DataChannel's record encryption at its full rate (else node:crypto, slower)",
    need: "optional",
  },
];

export interface PreflightResult {
  /** Problems that stop the server (one line each, naming the package). */
  fatal: string[];
  /** Features that are off (one line each, naming the package). */
  warnings: string[];
}

/** Loads `file` and closes it again; returns the error message or null. */
export function tryDlopen(file: string): string | null {
  try {
    Deno.dlopen(file, {}).close();
    return null;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}

export function missingMessage(lib: NativeLibrary, error: string): string {
  return `${lib.file} cannot be loaded (${error.split("\n")[0]}): ` +
    `install the Debian package ${lib.pkg} (sudo apt-get install ${lib.pkg}); needed for ${lib.purpose}`;
}

/** Checks the libraries for `source` (auto | alsa | test). */
export function preflight(
  source: string,
  open: (file: string) => string | null = tryDlopen,
  libraries: readonly NativeLibrary[] = NATIVE_LIBRARIES,
): PreflightResult {
  const result: PreflightResult = { fatal: [], warnings: [] };
  for (const lib of libraries) {
    const error = open(lib.file);
    if (error === null) continue;
    const msg = missingMessage(lib, error);
    const fatal = lib.need === "always" || (lib.need === "alsa" && source === "alsa");
    (fatal ? result.fatal : result.warnings).push(msg);
  }
  return result;
}
