/**
 * Builds the browser code the server embeds, offline, into web/gen/ (never
 * committed; `deno task build:web`, run by every task that needs it and by
 * .ci/setup):
 *
 *   web/gen/listener.js      the listener page's script: web/listener/listener.ts and
 *                            the runtime-neutral src/client/ modules it imports, plus
 *                            the Opus decoder's wasm
 *   web/gen/worklet.js       the AudioWorklet playout processor (web/listener/worklet.ts
 *                            with the shared jitter buffer and mixer)
 *   web/gen/audio_worker.js  the audio worker (web/listener/audio_worker.ts: WebTransport
 *                            receive and decode off the page's main thread)
 *   web/gen/sw.js            the listener's service worker (web/listener/sw.ts)
 *   web/gen/handoff.js       the mix handoff between the box's origins (web/listener/handoff.ts)
 *   web/gen/admin.js         the admin page's script (web/admin/admin.ts and its modules)
 *
 * Each is `deno bundle --platform browser --minify` of its entry: the same
 * sources give the same bytes (tests/web_build_test.ts).
 *
 *   deno run -A web/build.ts          write web/gen/ (only the files whose text changed)
 *   deno run -A web/build.ts --check  exit 1 if web/gen/ is missing or stale
 */
const ROOT = new URL("../", import.meta.url);
const WEB = new URL("web/", ROOT);
export const GEN_DIR = new URL("gen/", WEB).pathname;

export interface WebBundle {
  /** Entry point, relative to web/. */
  entry: string;
  /** Output file name in web/gen/. */
  output: string;
}

export const WEB_BUNDLES: readonly WebBundle[] = [
  { entry: "listener/listener.ts", output: "listener.js" },
  { entry: "listener/worklet.ts", output: "worklet.js" },
  { entry: "listener/audio_worker.ts", output: "audio_worker.js" },
  { entry: "listener/sw.ts", output: "sw.js" },
  { entry: "listener/handoff.ts", output: "handoff.js" },
  { entry: "admin/admin.ts", output: "admin.js" },
];

/** One bundle's text (header + minified code). */
export async function bundleWeb(b: WebBundle): Promise<string> {
  const entry = new URL(b.entry, WEB).pathname;
  const out = await Deno.makeTempFile({ suffix: ".js" });
  try {
    const r = await new Deno.Command(Deno.execPath(), {
      args: ["bundle", "--quiet", "--platform", "browser", "--minify", "--output", out, entry],
      cwd: ROOT.pathname,
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!r.success) {
      throw new Error(`deno bundle ${b.entry} failed: ${new TextDecoder().decode(r.stderr)}`);
    }
    const head = [
      "// deno-fmt-ignore-file",
      "// deno-lint-ignore-file",
      `// Built by web/build.ts from web/${b.entry} — do not edit, not committed.`,
      "",
    ].join("\n");
    return head + await Deno.readTextFile(out);
  } finally {
    await Deno.remove(out).catch(() => {});
  }
}

/**
 * Every bundle's text, built in parallel; if that fails (seen once on a first
 * setup of a fresh machine, where the parallel `deno bundle`s shared cold
 * caches), once more one at a time, so a first boot does not need a rerun.
 */
async function bundleAll(log?: (l: string) => void): Promise<string[]> {
  try {
    return await Promise.all(WEB_BUNDLES.map((b) => bundleWeb(b)));
  } catch (e) {
    log?.(`parallel bundling failed, building one at a time: ${(e as Error).message}`);
    const texts: string[] = [];
    for (const b of WEB_BUNDLES) texts.push(await bundleWeb(b));
    return texts;
  }
}

/** Builds every bundle; returns the outputs that were missing or stale. */
export async function buildWeb(opts: { check?: boolean; log?: (l: string) => void } = {}) {
  const stale: string[] = [];
  await Deno.mkdir(GEN_DIR, { recursive: true });
  const texts = await bundleAll(opts.log);
  for (const [i, b] of WEB_BUNDLES.entries()) {
    const path = GEN_DIR + b.output;
    const current = await Deno.readTextFile(path).catch(() => null);
    if (current === texts[i]) continue;
    stale.push(path);
    if (!opts.check) {
      await Deno.writeTextFile(path, texts[i]);
      opts.log?.(`wrote ${path} (${texts[i].length} bytes)`);
    }
  }
  return stale;
}

if (import.meta.main) {
  const check = Deno.args.includes("--check");
  const stale = await buildWeb({ check, log: (l) => console.error(l) });
  if (check && stale.length > 0) {
    console.error(`stale or missing: ${stale.join(", ")} — run deno task build:web`);
    Deno.exit(1);
  }
}
