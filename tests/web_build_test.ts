/**
 * The browser code the server embeds is built from web/ (web/build.ts), not
 * committed: what the server serves is today's sources, and a build is
 * reproducible (the same sources give the same bytes).
 */
import assert from "node:assert/strict";
import { bundleWeb, GEN_DIR, WEB_BUNDLES } from "../web/build.ts";
import { startServer } from "../src/server.ts";

const ROOT = new URL("../", import.meta.url).pathname;

Deno.test("no built bundle is committed, and web/gen/ is ignored by git", async () => {
  const r = await new Deno.Command("git", {
    args: ["ls-files", "--", "web/gen", "*.gen.js"],
    cwd: ROOT,
    stdout: "piped",
  }).output();
  assert.equal(new TextDecoder().decode(r.stdout).trim(), "", "committed build output");
  const ignored = await new Deno.Command("git", {
    args: ["check-ignore", "-q", "web/gen/listener.js"],
    cwd: ROOT,
  }).output();
  assert.ok(ignored.success, "web/gen/ is not in .gitignore");
});

Deno.test("every bundle in web/gen/ is the build of today's web/ sources, byte for byte", async () => {
  for (const b of WEB_BUNDLES) {
    const fresh = await bundleWeb(b);
    const built = await Deno.readTextFile(GEN_DIR + b.output);
    assert.ok(built === fresh, `web/gen/${b.output} is stale: deno task build:web`);
  }
});

Deno.test("the server serves the built bundles and the web/ pages", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "m32-webbuild-" });
  const srv = await startServer({
    httpPort: 0,
    rtpPort: 0,
    hostname: "127.0.0.1",
    dataDir,
    source: "test",
  });
  try {
    const served: [string, string][] = [
      ["/listener/listener.js", `${GEN_DIR}listener.js`],
      ["/listener/worklet.js", `${GEN_DIR}worklet.js`],
      ["/listener/audio-worker.js", `${GEN_DIR}audio_worker.js`],
      ["/admin/admin.js", `${GEN_DIR}admin.js`],
      ["/", `${ROOT}web/listener/index.html`],
      ["/listener/listener.css", `${ROOT}web/listener/listener.css`],
      ["/admin/", `${ROOT}web/admin/index.html`],
      ["/admin/admin.css", `${ROOT}web/admin/admin.css`],
    ];
    for (const [path, file] of served) {
      const r = await fetch(`${srv.url}${path}`);
      assert.equal(r.status, 200, path);
      assert.equal(await r.text(), await Deno.readTextFile(file), path);
    }
  } finally {
    await srv.close("test done");
    await Deno.remove(dataDir, { recursive: true });
  }
});
