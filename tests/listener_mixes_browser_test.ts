/**
 * A musician's saved mixes (issue 13, item 6): save the mix under a name and
 * bring it back, export it as a file and import it on another phone, and a
 * file that is not a mix is refused with a clear message.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import type { Page } from "playwright-core";
import { launchBrowser, startToneServer, waitStatus } from "./listener_helpers.ts";

const PHONE = { width: 390, height: 844 };

const muted = (page: Page, id: number) =>
  page.getAttribute(`.strip[data-id="${id}"] .mute`, "aria-pressed");

async function live(page: Page, url: string): Promise<void> {
  await page.goto(url);
  await page.click("#start");
  await waitStatus(page, (s) => s.state === "streaming", "streaming");
}

async function openSettings(page: Page): Promise<void> {
  if (!(await page.getAttribute("details.settings", "open") !== null)) {
    await page.click("details.settings summary");
  }
}

Deno.test({
  name: "a mix saved under a name comes back, and an exported mix imports on another phone",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const { server, dataDir } = await startToneServer({ channels: 4 });
    const phoneA = await launchBrowser(PHONE);
    const phoneB = await launchBrowser(PHONE);
    try {
      const url = `${server.url}/?transport=websocket`;
      const a = await phoneA.ctx.newPage();
      await live(a, url);
      await a.click('.strip[data-id="2"] .mute');
      await a.click('.strip[data-id="4"] .mute');
      await openSettings(a);
      await a.fill("#mix-name", "Sunday set");
      await a.click("#mix-save");
      assert.match(await a.textContent("#mix-status") ?? "", /Saved “Sunday set”/);

      // Changed afterwards, then loaded back.
      await a.click('.strip[data-id="2"] .mute');
      assert.equal(await muted(a, 2), "false");
      await a.click('button[aria-label="Load mix Sunday set"]');
      assert.equal(await muted(a, 2), "true");
      assert.equal(await muted(a, 4), "true");
      // Saved presets survive a reload.
      await live(a, url);
      await openSettings(a);
      assert.equal(await a.locator("#mix-list li").count(), 1);

      // Exported as a file …
      await a.fill("#mix-name", "For phone B");
      const [download] = await Promise.all([a.waitForEvent("download"), a.click("#mix-export")]);
      const file = await download.path();
      assert.ok(file, "the export downloads a file");
      const text = await Deno.readTextFile(file!);
      assert.equal(JSON.parse(text).format, "m32-mix");

      // … and imported on another phone.
      const b = await phoneB.ctx.newPage();
      await live(b, url);
      assert.equal(await muted(b, 2), "false");
      await openSettings(b);
      await b.setInputFiles("#mix-import", {
        name: "for-phone-b.json",
        mimeType: "application/json",
        buffer: Buffer.from(text),
      });
      await b.waitForFunction(() =>
        // deno-lint-ignore no-explicit-any
        (globalThis as any).document.querySelector("#mix-status")?.textContent.includes("Loaded")
      );
      assert.equal(await muted(b, 2), "true");
      assert.equal(await muted(b, 4), "true");

      // A file that is not a mix: refused, and the mix is untouched.
      await b.setInputFiles("#mix-import", {
        name: "photo.json",
        mimeType: "application/json",
        buffer: Buffer.from('{"format":"something-else"}'),
      });
      await b.waitForFunction(() =>
        // deno-lint-ignore no-explicit-any
        (globalThis as any).document.querySelector("#mix-status")?.dataset.kind === "error"
      );
      assert.match(await b.textContent("#mix-status") ?? "", /photo\.json: this file is not a mix/);
      assert.equal(await muted(b, 2), "true");
    } finally {
      await phoneA.ctx.close();
      await phoneB.ctx.close();
      await server.close();
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    }
  },
});

Deno.test({
  name: "a phone receives only the channels it picks, never none, and keeps the choice",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const { server, dataDir } = await startToneServer({ channels: 4 });
    const { ctx } = await launchBrowser(PHONE);
    try {
      const url = `${server.url}/?transport=websocket`;
      const page = await ctx.newPage();
      await live(page, url);
      await openSettings(page);
      assert.match(await page.textContent("#receive-count") ?? "", /Receiving 4 of 4/);
      await page.uncheck('#receive-list input[data-id="2"]');
      await page.uncheck('#receive-list input[data-id="3"]');
      const st = await waitStatus(
        page,
        (s) => s.state === "streaming" && JSON.stringify(s.ack?.channels) === "[1,4]",
        "the stream of channels 1 and 4",
      );
      assert.deepEqual(st.ack.channels, [1, 4]);
      const sessions = server.ctx.sessions.list();
      assert.equal(sessions.length, 1);
      const strips = await page.$$eval(".strip[data-id]", (e) => e.map((x) => x.dataset.id));
      assert.deepEqual(strips, ["1", "4"], "strips only for what is received");
      // The last one cannot be switched off (an empty list would mean every channel).
      await page.uncheck('#receive-list input[data-id="4"]');
      assert.equal(await page.isChecked('#receive-list input[data-id="1"]'), true);
      await page.click('#receive-list input[data-id="1"]');
      assert.equal(
        await page.isChecked('#receive-list input[data-id="1"]'),
        true,
        "last one stays",
      );
      // Kept across a reload.
      await new Promise((r) => setTimeout(r, 1000));
      await live(page, url);
      await waitStatus(
        page,
        (s) => JSON.stringify(s.ack?.channels) === "[1]",
        "the choice kept after a reload",
      );
      await openSettings(page);
      await page.click("#receive-all");
      await waitStatus(
        page,
        (s) => JSON.stringify(s.ack?.channels) === "[1,2,3,4]",
        "every channel again",
      );
    } finally {
      await ctx.close();
      await server.close();
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    }
  },
});
