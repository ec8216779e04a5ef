/**
 * A musician's saved mixes (issue 13, item 6): save the mix under a name and
 * bring it back, export it as a file and import it on another phone, and a
 * file that is not a mix is refused with a clear message.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import type { Page } from "playwright-core";
import {
  docScreenshot,
  expectMix,
  launchBrowser,
  openLive,
  PHONE,
  phoneTest,
  spectrum,
  waitStatus,
} from "./listener_helpers.ts";

const muted = (page: Page, id: number) =>
  page.getAttribute(`.strip[data-id="${id}"] .mute`, "aria-pressed");

async function openSettings(page: Page): Promise<void> {
  if (!(await page.getAttribute("details.settings", "open") !== null)) {
    await page.click("details.settings summary");
  }
}

phoneTest(
  "a mix saved under a name comes back, and an exported mix imports on another phone",
  4,
  async ({ ctx, url }) => {
    const phoneB = await launchBrowser(PHONE);
    try {
      const a = await ctx.newPage();
      await openLive(a, url);
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
      await openLive(a, url);
      await openSettings(a);
      assert.equal(await a.locator("#mix-list li").count(), 1);
      await a.locator("section.mixes").scrollIntoViewIfNeeded();
      await docScreenshot(a, "listener-my-mixes");

      // Exported as a file …
      await a.fill("#mix-name", "For phone B");
      const [download] = await Promise.all([a.waitForEvent("download"), a.click("#mix-export")]);
      const file = await download.path();
      assert.ok(file, "the export downloads a file");
      const text = await Deno.readTextFile(file!);
      assert.equal(JSON.parse(text).format, "m32-mix");

      // … and imported on another phone.
      const b = await phoneB.ctx.newPage();
      await openLive(b, url);
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
      await phoneB.ctx.close();
    }
  },
);

phoneTest(
  "a phone receives only the channels it picks, never none, and keeps the choice",
  4,
  async ({ server, ctx, url }) => {
    const page = await ctx.newPage();
    await openLive(page, url);
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
    await page.locator("section.receive").scrollIntoViewIfNeeded();
    await docScreenshot(page, "listener-receive");
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
    await openLive(page, url);
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
  },
);

phoneTest("more me lowers every channel but the musician's own", 4, async ({ ctx, url }) => {
  const page = await ctx.newPage();
  await openLive(page, url);
  const gapDb = async () => {
    await new Promise((r) => setTimeout(r, 1000)); // the analyser's window holds the new mix
    const s = await spectrum(page, [1, 2]);
    return s.get(1)! - s.get(2)!;
  };
  await expectMix(page, [1, 2, 3, 4], [], "every channel playing"); // the stream has settled
  const before = await gapDb();
  await page.click('.strip[data-id="1"] .me');
  await page.focus("input.more-me");
  await page.keyboard.press("End"); // 12 dB
  assert.equal(await page.getAttribute("input.more-me", "aria-valuetext"), "others −12 dB");
  // The analyser's window and the mixer's gain ramp take a moment: measured until it settles.
  let after = await gapDb();
  for (let i = 0; i < 8 && after - before <= 9; i++) after = await gapDb();
  console.log(`  more me at 12 dB: channel 2 ${(after - before).toFixed(1)} dB further below`);
  assert.ok(after - before > 9, `channel 2 went ${(after - before).toFixed(1)} dB below channel 1`);
  await docScreenshot(page, "listener-more-me");
});
