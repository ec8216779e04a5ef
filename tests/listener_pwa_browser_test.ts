/**
 * The listener installs as an app (issue 13, item 5): a manifest with the
 * box's name, full screen and icons a real PNG decoder reads; and with its
 * service worker the page opens while the box is unreachable and says it is
 * looking for the box, then finds it by itself.
 */
import assert from "node:assert/strict";
import {
  docScreenshot,
  launchBrowser,
  PHONE,
  phoneTest,
  startToneServer,
  status,
  waitStatus,
} from "./listener_helpers.ts";
import { boxName, manifest } from "../src/listener/pwa.ts";
import { drawIcon } from "../src/listener/icons.ts";

/** The RGBA pixels of a PNG, decoded by ffmpeg (an independent decoder). */
async function decodePng(png: Uint8Array): Promise<{ w: number; h: number; rgba: Uint8Array }> {
  const file = await Deno.makeTempFile({ suffix: ".png" });
  try {
    await Deno.writeFile(file, png);
    const probe = await new Deno.Command("ffprobe", {
      args: ["-v", "error", "-show_entries", "stream=width,height", "-of", "csv=p=0", file],
      stdout: "piped",
    }).output();
    const [w, h] = new TextDecoder().decode(probe.stdout).trim().split(",").map(Number);
    const raw = await new Deno.Command("ffmpeg", {
      args: ["-v", "error", "-i", file, "-f", "rawvideo", "-pix_fmt", "rgba", "-"],
      stdout: "piped",
    }).output();
    assert.ok(raw.success, "ffmpeg could not decode the icon");
    return { w, h, rgba: raw.stdout };
  } finally {
    await Deno.remove(file);
  }
}

phoneTest(
  "the listener's manifest names the box, opens full screen, and its icons decode as drawn",
  4,
  async ({ server, ctx }) => {
    const r = await fetch(`${server.url}/manifest.webmanifest`);
    assert.equal(r.status, 200);
    assert.match(r.headers.get("content-type") ?? "", /application\/manifest\+json/);
    const m = await r.json();
    assert.deepEqual(m, manifest());
    assert.ok(m.name.includes(boxName()), `the box's name in ${m.name}`);
    assert.equal(m.display, "fullscreen");
    const icons: { src: string; sizes: string; purpose?: string }[] = [
      ...m.icons,
      { src: "/listener/icon-180.png", sizes: "180x180" },
    ];
    for (const icon of icons) {
      const res = await fetch(`${server.url}${icon.src}`);
      assert.equal(res.status, 200, icon.src);
      assert.equal(res.headers.get("content-type"), "image/png");
      const png = new Uint8Array(await res.arrayBuffer());
      const { w, h, rgba } = await decodePng(png);
      assert.equal(`${w}x${h}`, icon.sizes, icon.src);
      const drawn = drawIcon(w, icon.purpose === "maskable");
      assert.ok(rgba.length === drawn.length && rgba.every((b, i) => b === drawn[i]), icon.src);
    }

    // The browser reads the same manifest from the page, without errors.
    const page = await ctx.newPage();
    await page.goto(`${server.url}/`);
    const cdp = await ctx.newCDPSession(page);
    const app = await cdp.send("Page.getAppManifest") as {
      url: string;
      errors: { message: string }[];
      parsed?: { name?: string };
    };
    assert.ok(app.url.endsWith("/manifest.webmanifest"), app.url);
    assert.deepEqual(app.errors, []);
    await page.goto(`${server.url}/listener/icon-512.png`);
    await docScreenshot(page, "listener-icon");
  },
);

Deno.test({
  name:
    "installed, the page opens while the box is unreachable, says it is looking for it, and finds it",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    let { server, dataDir } = await startToneServer({ channels: 4 });
    const port = server.httpPort;
    const { ctx } = await launchBrowser(PHONE);
    try {
      const page = await ctx.newPage();
      const url = `${server.url}/?transport=websocket`;
      await page.goto(url);
      // 127.0.0.1 is a secure context like HTTPS: the page registers its service worker.
      // deno-lint-ignore no-explicit-any
      await page.evaluate(() => (navigator as any).serviceWorker.ready.then(() => true));

      await server.close("box switched off");
      // Opened again (from the home screen): the shell comes from the service worker.
      const res = await page.goto(url);
      assert.ok(res !== null && res.ok(), "the page opens, not a browser error");
      const away = await waitStatus(page, (s) => s.badge === "Looking for the box…", "the search");
      assert.match(away.banner, /Looking for the box/);
      await docScreenshot(page, "listener-looking-for-box");

      ({ server, dataDir } = await startToneServer({ dataDir, port }));
      await waitStatus(page, (s) => s.badge === "Ready", "the box found");
      assert.equal((await status(page)).banner, "");
      await page.click("#start");
      await waitStatus(page, (s) => s.state === "streaming", "audio from the box found");
    } finally {
      await ctx.close();
      await server.close();
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    }
  },
});
