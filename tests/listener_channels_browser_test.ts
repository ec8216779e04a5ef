/**
 * The engineer's channel names and order reach every phone at once (issue
 * 13, 8d): a rename shows without a reconnect, and phones connected before
 * and after a reorder show the same order.
 */
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { launchBrowser, startToneServer, status, waitStatus } from "./listener_helpers.ts";

const PHONE = { width: 390, height: 844 };

/** The strips as the musician sees them, top to bottom: "id:name". */
function strips(page: Page): Promise<string[]> {
  return page.$$eval(
    ".strip[data-id]",
    (els) =>
      els.map((e) => `${e.getAttribute("data-id")}:${e.querySelector(".ch-name")?.textContent}`),
  );
}

async function live(page: Page, url: string): Promise<void> {
  await page.goto(url);
  await page.click("#start");
  await waitStatus(page, (s) => s.state === "streaming", "streaming");
}

Deno.test({
  name: "the engineer's renames and order reach phones already connected, at once and alike",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const { server, dataDir } = await startToneServer({ channels: 4 });
    const { ctx } = await launchBrowser(PHONE);
    try {
      const url = `${server.url}/?transport=websocket`;
      const early = await ctx.newPage();
      await live(early, url);
      assert.deepEqual(await strips(early), ["1:CH01", "2:CH02", "3:CH03", "4:CH04"]);
      const reconnects = (await status(early)).reconnects;

      // A rename: on the phone at once, without a new session.
      const store = server.ctx.store;
      const renamed = store.getChannels();
      renamed[1].name = "Snare";
      store.setChannels(renamed);
      const deadline = Date.now() + 10_000;
      while (!(await strips(early)).includes("2:Snare") && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.deepEqual(await strips(early), ["1:CH01", "2:Snare", "3:CH03", "4:CH04"]);
      assert.equal((await status(early)).reconnects, reconnects, "a rename cuts no audio");

      // A reorder: channel 3 first. The early phone and one that connects now agree.
      const reordered = store.getChannels();
      const order = [3, 1, 2, 4];
      for (const c of reordered) if (order.includes(c.id)) c.order = order.indexOf(c.id) + 1;
      store.setChannels(reordered);
      const want = ["3:CH03", "1:CH01", "2:Snare", "4:CH04"];
      const until = Date.now() + 10_000;
      while (JSON.stringify(await strips(early)) !== JSON.stringify(want) && Date.now() < until) {
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.deepEqual(await strips(early), want, "the phone connected before the change");
      await waitStatus(early, (s) => s.state === "streaming", "streaming again");
      assert.deepEqual(await strips(early), want, "and after its reconnect");
      const late = await ctx.newPage();
      await live(late, url);
      assert.deepEqual(await strips(late), want, "a phone connected after the change");
    } finally {
      await ctx.close();
      await server.close();
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    }
  },
});
