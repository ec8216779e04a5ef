/**
 * Workers that run from a single-file build. `deno bundle` and `deno compile`
 * leave `new Worker(new URL("./x.ts", import.meta.url))` pointing at a file the
 * build does not carry, so the build (.ci/bundle.ts) bundles each worker into
 * its own JavaScript and registers it here, by name, before the program starts.
 * From the source tree nothing is registered and the worker's own file is used,
 * so `deno task test` and `deno task start` run the source as written.
 */

const embedded = new Map<string, string>();
const urls = new Map<string, string>();

/** Registers the bundled code of worker `name` (called by the build's entry module). */
export function embedWorker(name: string, code: string): void {
  embedded.set(name, code);
  const old = urls.get(name);
  if (old) URL.revokeObjectURL(old);
  urls.delete(name);
}

/** Whether worker `name` runs from embedded code. */
export function isWorkerEmbedded(name: string): boolean {
  return embedded.has(name);
}

/**
 * The URL to start worker `name` from: a blob: URL of its embedded code in a
 * build, else `sourceUrl` (its file in the source tree). Pass a function when
 * the caller may itself run from a blob: URL (a worker in a build), where
 * `new URL("./x.ts", import.meta.url)` throws.
 */
export function workerUrl(name: string, sourceUrl: URL | (() => URL)): string | URL {
  const code = embedded.get(name);
  if (code === undefined) return typeof sourceUrl === "function" ? sourceUrl() : sourceUrl;
  let url = urls.get(name);
  if (!url) {
    url = URL.createObjectURL(new Blob([code], { type: "text/javascript" }));
    urls.set(name, url);
  }
  return url;
}

/** Every registered worker's code (a worker that starts workers of its own registers them too). */
export function embeddedWorkers(): Record<string, string> {
  return Object.fromEntries(embedded);
}
