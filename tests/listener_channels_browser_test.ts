/**
 * The engineer's channel names and order reach every phone at once (issue
 * 13, 8d): a rename shows without a reconnect, and phones connected before
 * and after a reorder show the same order.
 */
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import {
  docScreenshot,
  openLive,
  PHONE,
  phoneTest,
  status,
  waitStatus,
} from "./listener_helpers.ts";

/** The strips as the musician sees them, top to bottom: "id:name". */
function strips(page: Page): Promise<string[]> {
  return page.$$eval(
    ".strip[data-id]",
    (els) =>
      els.map((e) => `${e.getAttribute("data-id")}:${e.querySelector(".ch-name")?.textContent}`),
  );
}

phoneTest(
  "the engineer's renames and order reach phones already connected, at once and alike",
  4,
  async ({ server, ctx, url }) => {
    const early = await ctx.newPage();
    await openLive(early, url);
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
    await openLive(late, url);
    assert.deepEqual(await strips(late), want, "a phone connected after the change");
  },
);

phoneTest(
  "the engineer's message stays in sight while the musician scrolls, with its time, until dismissed",
  8,
  async ({ server, ctx, url }) => {
    const page = await ctx.newPage();
    await openLive(page, url);
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
    await docScreenshot(page, "listener-engineer-message");

    // A status of the connection does not replace it.
    server.ctx.sessions.broadcast({ type: "network_warning", reason: "packet loss 3 %" });
    await waitStatus(page, (s) => /packet loss/.test(s.banner), "the warning");
    assert.equal((await status(page)).message, "Soundcheck in 5 minutes");

    await page.click("#msg-dismiss");
    assert.equal((await status(page)).message, "", "dismissed");
  },
);

phoneTest(
  "among many channels a musician finds one by name or number, and compact strips fit more on screen",
  16,
  async ({ ctx, url }) => {
    const page = await ctx.newPage();
    await openLive(page, url);
    const visible = () =>
      page.$$eval(".strip[data-id]:not([hidden])", (e) => e.map((x) => Number(x.dataset.id)));
    assert.equal((await visible()).length, 16);
    await page.fill("#strip-filter", "ch05");
    assert.deepEqual(await visible(), [5]);
    await page.fill("#strip-filter", "1");
    assert.deepEqual(await visible(), [1, 10, 11, 12, 13, 14, 15, 16]);
    await docScreenshot(page, "listener-filter");
    assert.equal(await page.textContent("#strip-count"), "8 of 16");
    await page.fill("#strip-filter", "");
    assert.equal((await visible()).length, 16);

    const height = async () => (await page.locator('.strip[data-id="3"]').boundingBox())!.height;
    const normal = await height();
    await page.click("#strip-compact");
    const compact = await height();
    await docScreenshot(page, "listener-compact");
    assert.ok(
      compact <= normal * 0.6,
      `a compact strip is ${compact} px high, a full one ${normal}`,
    );
    // The level stays usable in compact strips; the choice is kept.
    assert.ok(
      await page.locator('.strip[data-id="3"] input.vol').isVisible() ||
        await page.locator('.strip[data-id="3"] .fader').isVisible(),
    );
    await new Promise((r) => setTimeout(r, 500));
    await openLive(page, url);
    assert.equal(await page.getAttribute("#strip-compact", "aria-pressed"), "true");
  },
);
