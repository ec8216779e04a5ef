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

Deno.test({
  name:
    "the engineer's message stays in sight while the musician scrolls, with its time, until dismissed",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const { server, dataDir } = await startToneServer({ channels: 8 });
    const { ctx } = await launchBrowser(PHONE);
    try {
      const page = await ctx.newPage();
      await live(page, `${server.url}/?transport=websocket`);
      const sentAt = Date.now();
      server.ctx.sessions.broadcast({ type: "custom_message", text: "Soundcheck in 5 minutes" });
      await waitStatus(page, (s) => s.message === "Soundcheck in 5 minutes", "the message");

      // Scrolled to the last strip, the message is still on screen.
      await page.evaluate(() => {
        // deno-lint-ignore no-explicit-any
        const g = globalThis as any;
        g.scrollTo(0, g.document.body.scrollHeight);
      });
      // deno-lint-ignore no-explicit-any
      assert.ok(await page.evaluate(() => (globalThis as any).scrollY) > 0, "the page scrolls");
      const box = await page.locator("#message-bar").boundingBox();
      assert.ok(box && box.y >= 0 && box.y + box.height <= PHONE.height, JSON.stringify(box));
      // With the time it was sent.
      const when = Date.parse(await page.getAttribute("#msg-time", "datetime") ?? "");
      assert.ok(Math.abs(when - sentAt) < 60_000, `sent at ${new Date(when).toISOString()}`);
      assert.match(await page.textContent("#msg-time") ?? "", /\d{1,2}[:.]\d{2}/);
      if (Deno.env.get("M32_UPDATE_SCREENSHOTS")) {
        await page.screenshot({
          path: new URL("../docs/listener-engineer-message.png", import.meta.url).pathname,
        });
      }

      // A status of the connection does not replace it.
      server.ctx.sessions.broadcast({ type: "network_warning", reason: "packet loss 3 %" });
      await waitStatus(page, (s) => /packet loss/.test(s.banner), "the warning");
      assert.equal((await status(page)).message, "Soundcheck in 5 minutes");

      await page.click("#msg-dismiss");
      assert.equal((await status(page)).message, "", "dismissed");
    } finally {
      await ctx.close();
      await server.close();
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    }
  },
});
