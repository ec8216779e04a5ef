/**
 * The musician's own strips (issue 13, item 6): colour, picture, name and
 * place set on the phone and kept by channel id across the engineer's
 * renames and a reload; stereo-linked pairs as one strip; groups with one
 * fader over their members; a mix moved to another phone by its QR link.
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
  status,
  UI_TIMEOUT_MS,
  waitStatus,
} from "./listener_helpers.ts";

/** The channel strips top to bottom: "id:name". */
function strips(page: Page): Promise<string[]> {
  return page.$$eval(
    ".strip[data-id]",
    (els) =>
      els.map((e) => `${e.getAttribute("data-id")}:${e.querySelector(".ch-name")?.textContent}`),
  );
}

async function until(what: string, pred: () => Promise<boolean>): Promise<void> {
  const end = Date.now() + UI_TIMEOUT_MS;
  while (!(await pred())) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const stored = (page: Page) =>
  page.evaluate(() => {
    // deno-lint-ignore no-explicit-any
    const ls = (globalThis as any).localStorage;
    for (let i = 0; i < ls.length; i++) {
      const k = ls.key(i);
      if (k.startsWith("m32-client-settings:box:")) return JSON.parse(ls.getItem(k));
    }
    return null;
  });

/** expectMix, with the playout's state in the failure (a loaded machine's underruns show there). */
async function expectMixSaying(page: Page, audible: number[], silent: number[], what: string) {
  const before = await status(page);
  try {
    await expectMix(page, audible, silent, what);
  } catch (e) {
    const after = await status(page);
    throw new Error(
      `${(e as Error).message}; underruns ${before.underruns} → ${after.underruns}, ` +
        `state ${after.state}, jitter buffer ${JSON.stringify(after.jb)}`,
    );
  }
}

/** A 300 × 200 PNG photo stand-in, made by the page's canvas. */
async function photo(page: Page): Promise<Buffer> {
  const b64 = await page.evaluate(() => {
    // deno-lint-ignore no-explicit-any
    const c = (globalThis as any).document.createElement("canvas");
    c.width = 300;
    c.height = 200;
    const g = c.getContext("2d");
    g.fillStyle = "#c03030";
    g.fillRect(0, 0, 300, 200);
    g.fillStyle = "#f0e040";
    g.beginPath();
    g.arc(150, 100, 70, 0, 7);
    g.fill();
    return c.toDataURL("image/png").split(",")[1];
  });
  return Buffer.from(b64, "base64");
}

phoneTest(
  "a strip's name, colour, picture and place are the musician's, kept by id over the engineer's renames",
  4,
  async ({ server, ctx, url }) => {
    const page = await ctx.newPage();
    await openLive(page, url);
    await page.click('.strip[data-id="3"] .edit');
    await page.fill("#sheet-name", "My keys");
    await page.press("#sheet-name", "Enter");
    await page.click('.swatch[data-color="#3f7fff"]');
    await page.setInputFiles("#sheet-picture", {
      name: "keys.png",
      mimeType: "image/png",
      buffer: await photo(page),
    });
    await page.waitForSelector('.strip[data-id="3"] img.ch-img');
    await page.click("#sheet-up");
    await page.click("#sheet-up");
    assert.ok(await page.isVisible("#strip-sheet"), "the sheet stays open while moving");
    await docScreenshot(page, "listener-strip-edit");
    await page.click("#sheet-done");
    assert.deepEqual(await strips(page), ["3:My keys", "1:CH01", "2:CH02", "4:CH04"]);
    assert.equal(await page.getAttribute('.strip[data-id="3"]', "data-color"), "#3f7fff");
    const img = await page.getAttribute('.strip[data-id="3"] img.ch-img', "src");
    assert.match(img ?? "", /^data:image\/jpeg;base64,/);
    const size = await page.evaluate(async (src) => {
      // deno-lint-ignore no-explicit-any
      const im = new (globalThis as any).Image();
      im.src = src;
      await im.decode();
      return [im.naturalWidth, im.naturalHeight];
    }, img);
    assert.deepEqual(size, [96, 96], "the picture is made small on the phone");
    console.log(`  strip picture: ${img!.length} characters in the settings`);
    await page.$eval('.strip[data-id="3"]', (e) => e.scrollIntoView({ block: "center" }));
    await docScreenshot(page, "listener-strip-colours");

    // The engineer renames 1 and 3 and moves 4 first: 1 follows, 3 and the order stay the musician's.
    const store = server.ctx.store;
    const renamed = store.getChannels();
    renamed[0].name = "Kick";
    renamed[2].name = "Piano";
    store.setChannels(renamed);
    await until("the engineer's rename", async () => (await strips(page)).includes("1:Kick"));
    assert.deepEqual(await strips(page), ["3:My keys", "1:Kick", "2:CH02", "4:CH04"]);

    // Kept across a reload, by channel id.
    await page.waitForTimeout(600); // the settings save after a short pause
    await openLive(page, url);
    assert.deepEqual(await strips(page), ["3:My keys", "1:Kick", "2:CH02", "4:CH04"]);
    const s = await stored(page);
    const three = s.channels.find((c: { id: number }) => c.id === 3);
    assert.equal(three.custom_name, true);
    assert.equal(three.color, "#3f7fff");

    // Hidden, then shown again from the row under the strips.
    await page.click('.strip[data-id="2"] .edit');
    await page.click("#sheet-hide");
    assert.deepEqual(await strips(page), ["3:My keys", "1:Kick", "4:CH04"]);
    await page.click('#hidden-strips button[data-id="2"]');
    assert.deepEqual(await strips(page), ["3:My keys", "1:Kick", "2:CH02", "4:CH04"]);

    // Back to the engineer's names and order.
    await page.click('.strip[data-id="3"] .edit');
    await page.click("#sheet-reset");
    await page.click("#sheet-done");
    assert.deepEqual(await strips(page), ["1:Kick", "2:CH02", "3:Piano", "4:CH04"]);
    assert.equal(await page.getAttribute('.strip[data-id="3"]', "data-color"), "#3f7fff");

    // Locked, nothing of the layout can be changed by a stray touch.
    await page.click("#lock");
    assert.ok(await page.isDisabled('.strip[data-id="3"] .edit'));
    assert.ok(await page.isDisabled("#group-new"));
    await page.click("#lock");
    assert.ok(await page.isEnabled('.strip[data-id="3"] .edit'));
  },
);

phoneTest(
  "a stereo pair is one strip with width and balance and one mute; unlinking gives two again",
  4,
  async ({ ctx, url }) => {
    const page = await ctx.newPage();
    await openLive(page, url);
    await page.click('.strip[data-id="3"] .edit');
    await page.click("#sheet-link");
    await page.click("#sheet-done");
    assert.deepEqual(await strips(page), ["1:CH01", "2:CH02", "3:CH03"]);
    assert.equal(await page.textContent('.strip[data-id="3"] .ch-num'), "03/04");
    assert.ok(await page.isVisible('.strip[data-id="3"] input.width'));
    assert.ok(await page.isVisible('.strip[data-id="3"] input.balance'));
    assert.equal(await page.locator('.strip[data-id="3"] input.pan').count(), 0);
    await page.focus('.strip[data-id="3"] input.width');
    await page.keyboard.press("Home");
    assert.equal(
      await page.getAttribute('.strip[data-id="3"] input.width', "aria-valuetext"),
      "mono",
    );
    await docScreenshot(page, "listener-stereo-pair");
    // One mute silences both channels of the pair.
    await page.click('.strip[data-id="3"] .mute');
    await expectMixSaying(page, [1, 2], [3, 4], "the pair muted");
    await page.click('.strip[data-id="3"] .mute');
    await expectMixSaying(page, [1, 2, 3, 4], [], "the pair back");
    const s = await stored(page);
    await page.waitForTimeout(600);
    assert.deepEqual((await stored(page)).channels[2].link, { with: 4, width: 0, balance: 0 });
    assert.ok(s);
    // Received as a pair: not receiving 3 drops 4 with it (and brings it back with it).
    await page.click("details.settings summary");
    await page.uncheck('#receive-list input[data-id="3"]');
    assert.equal(await page.isChecked('#receive-list input[data-id="4"]'), false);
    await waitStatus(
      page,
      (st) => st.state === "streaming" && JSON.stringify(st.ack?.channels) === "[1,2]",
      "the stream without the pair",
    );
    await page.check('#receive-list input[data-id="4"]');
    assert.equal(await page.isChecked('#receive-list input[data-id="3"]'), true);
    await waitStatus(
      page,
      (st) => st.state === "streaming" && JSON.stringify(st.ack?.channels) === "[1,2,3,4]",
      "the pair received again",
    );
    // Unlinked: two strips, each its own again.
    await page.click('.strip[data-id="3"] .edit');
    await page.click("#sheet-link");
    await page.click("#sheet-done");
    assert.deepEqual(await strips(page), ["1:CH01", "2:CH02", "3:CH03", "4:CH04"]);
  },
);

phoneTest(
  "a group's fader scales its members and its mute silences them",
  4,
  async ({ ctx, url }) => {
    const page = await ctx.newPage();
    await openLive(page, url);
    await page.click("#group-new");
    await page.fill("#group-name", "Drums");
    await page.press("#group-name", "Enter");
    await page.check('.group-pick input[data-id="1"]');
    await page.check('.group-pick input[data-id="2"]');
    await docScreenshot(page, "listener-group-edit");
    await page.click("#sheet-done");
    assert.equal(await page.textContent(".strip.group .group-members"), "CH01, CH02");
    await expectMixSaying(page, [1, 2, 3, 4], [], "every channel playing");
    // The group fader down: its members go silent, their own faders stay where they were.
    await page.focus(".strip.group input.group-vol");
    await page.keyboard.press("Home");
    await expectMixSaying(page, [3, 4], [1, 2], "the group fader at −∞");
    assert.equal(await page.inputValue('.strip[data-id="1"] input.vol'), "1");
    await page.keyboard.press("End");
    await expectMixSaying(page, [1, 2, 3, 4], [], "the group fader up");
    await page.click(".strip.group .mute");
    await expectMixSaying(page, [3, 4], [1, 2], "the group muted");
    await docScreenshot(page, "listener-group");
    // In Korean (the phone's language, or the musician's choice) the new controls speak it too.
    await page.waitForTimeout(600); // the settings save after a short pause
    await page.evaluate(() => globalThis.localStorage.setItem("m32.language", "ko"));
    await openLive(page, url);
    assert.equal(await page.textContent("#group-new"), "+ 그룹");
    assert.equal(await page.getAttribute(".strip.group .mute", "aria-label"), "Drums 그룹 뮤트");
    assert.equal(await page.getAttribute(".strip.group .mute", "aria-pressed"), "true", "kept");
  },
);

phoneTest(
  "a mix shared as a QR link opens on another phone, which asks before loading it",
  4,
  async ({ ctx, url }) => {
    const a = await ctx.newPage();
    await openLive(a, url);
    await a.click('.strip[data-id="2"] .mute');
    await a.click('.strip[data-id="4"] .edit');
    await a.fill("#sheet-name", "Click");
    await a.click("#sheet-done"); // the name is taken as the field loses focus
    await a.click("details.settings summary");
    await a.fill("#mix-name", "Sunday set");
    await a.click("#mix-qr");
    await a.waitForSelector("#share-sheet .share-qr svg");
    const link = await a.inputValue("#share-link");
    assert.match(link, /\/#mix=[A-Za-z0-9_-]+$/);
    console.log(`  QR link of a 4-channel mix: ${link.length} characters`);
    await docScreenshot(a, "listener-mix-qr");

    const phoneB = await launchBrowser(PHONE);
    try {
      const b = await phoneB.ctx.newPage();
      await b.goto(link);
      await b.waitForSelector("#share-confirm");
      assert.match(await b.textContent("#share-confirm-title") ?? "", /Sunday set/);
      assert.ok(!(await b.evaluate(() => location.hash)), "the link's mix leaves the address");
      await docScreenshot(b, "listener-mix-confirm");
      await b.click("#share-confirm");
      await b.waitForSelector("#share-sheet", { state: "hidden" });
      // The link opens the page plainly (its own transport choice); the test listens over
      // WebSocket as the other tests do, which also shows the loaded mix was kept.
      await b.waitForTimeout(600);
      await openLive(b, url);
      assert.equal(await b.getAttribute('.strip[data-id="2"] .mute', "aria-pressed"), "true");
      assert.deepEqual(await strips(b), ["1:CH01", "2:CH02", "3:CH03", "4:Click"]);
      await expectMixSaying(b, [1, 3, 4], [2], "the shared mix on phone B");
      // Kept among B's saved mixes.
      await b.click("details.settings summary");
      assert.equal(await b.textContent("#mix-list .mix-name"), "Sunday set");
      // Pasting a link that is not a mix is refused.
      await b.click("#mix-paste");
      await b.fill("#share-paste", "https://example.com/#nothing");
      await b.click("#share-load");
      assert.match(await b.textContent("#share-sheet .sheet-status") ?? "", /not a mix/);
    } finally {
      await phoneB.ctx.close();
    }
  },
);
