/** The embedded page script (src/listener/page.gen.js) is the bundle of today's listener/ sources. */
import assert from "node:assert/strict";
import {
  AUDIO_WORKER_OUTPUT,
  bundleAudioWorker,
  bundlePage,
  bundleWorklet,
  OUTPUT,
  WORKLET_OUTPUT,
} from "../src/listener/build_page.ts";

Deno.test("src/listener/page.gen.js is up to date with listener/ (run src/listener/build_page.ts)", async () => {
  const fresh = await bundlePage();
  const committed = await Deno.readTextFile(OUTPUT);
  assert.ok(
    committed === fresh,
    "page.gen.js is stale: deno run -A src/listener/build_page.ts",
  );
});

Deno.test("src/listener/worklet.gen.js is up to date with listener/worklet.ts (run src/listener/build_page.ts)", async () => {
  const fresh = await bundleWorklet();
  const committed = await Deno.readTextFile(WORKLET_OUTPUT);
  assert.ok(
    committed === fresh,
    "worklet.gen.js is stale: deno run -A src/listener/build_page.ts",
  );
});

Deno.test("src/listener/audio_worker.gen.js is up to date with listener/audio_worker.ts (run src/listener/build_page.ts)", async () => {
  const fresh = await bundleAudioWorker();
  const committed = await Deno.readTextFile(AUDIO_WORKER_OUTPUT);
  assert.ok(
    committed === fresh,
    "audio_worker.gen.js is stale: deno run -A src/listener/build_page.ts",
  );
});
