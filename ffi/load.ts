/**
 * Opens a native library on first use, trying each soname in turn; a missing
 * library is an Error naming the Debian package that provides it.
 */
export function lazyLibrary<S extends Deno.ForeignLibraryInterface>(
  what: string,
  sonames: readonly string[],
  debianPackage: string,
  symbols: S,
): () => Deno.DynamicLibrary<S>["symbols"] {
  let lib: Deno.DynamicLibrary<S> | null = null;
  return () => {
    if (lib) return lib.symbols;
    if (typeof Deno.dlopen !== "function") {
      throw new Error(`${what}: Deno FFI is not available in this runtime (run with --allow-ffi)`);
    }
    const errors: string[] = [];
    for (const name of sonames) {
      try {
        lib = Deno.dlopen(name, symbols);
        return lib.symbols;
      } catch (e) {
        errors.push(`${name}: ${(e as Error).message}`);
      }
    }
    throw new Error(
      `${what} is not available (install the Debian package ${debianPackage}): ${
        errors.join("; ")
      }`,
    );
  };
}
