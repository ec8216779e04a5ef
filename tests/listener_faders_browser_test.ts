// deno-lint-ignore-file no-explicit-any -- page functions reach the browser's globals
/**
 * The listener's faders on a phone (Chromium, 390 × 844, touch): real touch
 * input through the DevTools protocol (tests/helpers/touch.ts). A swipe or a
 * tap that starts on a fader's track leaves the value alone and scrolls the
 * page; a drag from the thumb moves the value by the finger's movement; the
 * keys still work; the lock makes every control but the mutes and the master
 * level inert, and is remembered with the mix. Screenshots (unlocked, locked)
 * go to docs/screenshots/ with M32_UPDATE_SCREENSHOTS=1.
 */
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { launchBrowser, startToneServer, waitStatus, watchErrors } from "./listener_helpers.ts";
import { Finger, type Point } from "./helpers/touch.ts";

const PHONE = { width: 390, height: 844 };
const SHOTS = Deno.env.get("M32_UPDATE_SCREENSHOTS")
  ? new URL("../docs/screenshots/", import.meta.url).pathname
  : await Deno.makeTempDir({ prefix: "m32-fader-shots-" });
/** The input's own (invisible) thumb width: the value ↔ position mapping (listener.css). */
const THUMB_PX = 26;
/** How far a swipe moves the finger up, and the least scrolling that counts as "scrolled". */
const SWIPE_PX = 300;
const SCROLLED_PX = 100;
/** One step of the level fader. */
const LEVEL_STEP = 0.01;

const fader = (id: number | "master", cls: "vol" | "pan") =>
  id === "master" ? ".master input.master-vol" : `.strip[data-id="${id}"] input.${cls}`;

async function value(page: Page, selector: string): Promise<number> {
  return Number(await page.inputValue(selector));
}

async function scrollY(page: Page): Promise<number> {
  return await page.evaluate(() => (globalThis as any).scrollY);
}

/** Scrolls `selector` to the viewport's middle and returns its box (viewport CSS px). */
async function centred(page: Page, selector: string) {
  // A fling from an earlier swipe (a swipe on a locked fader scrolls) would move the element
  // after it is measured, and the tap would land on something else (CI, load 5: the lock's).
  await settledScroll(page);
  await page.evaluate(
    (s) => (globalThis as any).document.querySelector(s).scrollIntoView({ block: "center" }),
    selector,
  );
  await page.evaluate(() => new Promise((r) => (globalThis as any).requestAnimationFrame(r)));
  await settledScroll(page);
  const box = await page.locator(selector).boundingBox();
  assert.ok(box, `${selector} is not visible`);
  return box;
}

/** The middle of an element, scrolled into view. */
async function centreOf(page: Page, selector: string): Promise<Point> {
  const b = await centred(page, selector);
  return { x: b.x + b.width / 2, y: b.y + b.height / 2 };
}

/** A point on the track at `frac` of its width (0 = left end), level with the thumb. */
async function trackPoint(page: Page, selector: string, frac: number): Promise<Point> {
  const b = await centred(page, selector);
  return { x: b.x + frac * b.width, y: b.y + b.height / 2 };
}

/** Where the thumb is drawn for the current value (centre), and the thumb's travel. */
async function thumbPoint(page: Page, selector: string): Promise<Point & { travel: number }> {
  const b = await centred(page, selector);
  const { min, max, v } = await page.$eval(selector, (e) => {
    const i = e as any;
    return { min: Number(i.min), max: Number(i.max), v: Number(i.value) };
  });
  const travel = b.width - THUMB_PX;
  return {
    x: b.x + THUMB_PX / 2 + ((v - min) / (max - min)) * travel,
    y: b.y + b.height / 2,
    travel,
  };
}

/** Waits until the page stops scrolling (a fling ends), then reads where it is. */
async function settledScroll(page: Page): Promise<number> {
  let last = await scrollY(page);
  for (;;) {
    await new Promise((r) => setTimeout(r, 150));
    const now = await scrollY(page);
    if (now === last) return now;
    last = now;
  }
}

/** The stored mix (what a reload restores). */
async function storedMix(page: Page) {
  return await page.evaluate(() => {
    const ls = (globalThis as any).localStorage;
    // Kept under the box's id (one mix per box, whatever name it is reached by).
    const key = Object.keys(ls).find((k) => k.startsWith("m32-client-settings:box:")) ??
      `m32-client-settings:${(globalThis as any).location.host}`;
    return JSON.parse(ls.getItem(key) ?? "{}");
  });
}

async function openMixer(page: Page, url: string): Promise<void> {
  await page.goto(url);
  await page.tap("#start");
  await waitStatus(page, (s) => s.state === "streaming", "the stream to start");
  await page.waitForSelector('.strip[data-id="8"]');
}

function browserTest(name: string, fn: (page: Page, finger: Finger, url: string) => Promise<void>) {
  Deno.test({
    name,
    sanitizeOps: false,
    sanitizeResources: false,
    fn: async () => {
      const { server } = await startToneServer({ channels: 8 });
      const { ctx } = await launchBrowser(PHONE, { touch: true });
      try {
        const page = await ctx.newPage();
        const errors = watchErrors(page);
        const url = `${server.url}/?transport=websocket`;
        await openMixer(page, url);
        const finger = await Finger.on(page);
        await fn(page, finger, url);
        await finger.close();
        assert.deepEqual(errors, []);
      } finally {
        await ctx.close();
        await server.close();
      }
    },
  });
}

browserTest(
  "a vertical swipe that starts on a fader's track scrolls the page and leaves the value",
  async (page, finger) => {
    for (const [id, cls] of [[3, "vol"], [4, "pan"]] as const) {
      const sel = fader(id, cls);
      const before = await value(page, sel);
      // Start well away from the thumb (unity / centre sits mid-track), swipe up.
      const from = await trackPoint(page, sel, 0.12);
      const y0 = await scrollY(page);
      await finger.swipe(from, { x: from.x + 6, y: from.y - SWIPE_PX });
      const y1 = await settledScroll(page);
      assert.equal(await value(page, sel), before, `${sel}: the swipe moved the fader`);
      assert.ok(y1 - y0 >= SCROLLED_PX, `${sel}: the page scrolled ${y1 - y0} px, not the swipe's`);
    }
  },
);

browserTest("a tap on a fader's track leaves its value", async (page, finger) => {
  for (const [id, cls, frac] of [[2, "vol", 0.9], [2, "pan", 0.1], [5, "vol", 0.2]] as const) {
    const sel = fader(id, cls);
    const before = await value(page, sel);
    await finger.tap(await trackPoint(page, sel, frac));
    await page.evaluate(() => new Promise((r) => (globalThis as any).requestAnimationFrame(r)));
    assert.equal(await value(page, sel), before, `${sel}: a tap at ${frac} of the track moved it`);
  }
  await new Promise((r) => setTimeout(r, 500)); // past the page's save delay
  const ch2 = (await storedMix(page)).channels.find((c: { id: number }) => c.id === 2);
  assert.deepEqual([ch2.volume, ch2.pan], [1, 0], "the stored mix is untouched");
});

browserTest(
  "a drag from the thumb moves the fader by the drag distance, without a jump",
  async (page, finger) => {
    const sel = fader(4, "vol");
    const t = await thumbPoint(page, sel);
    // Grab off-centre (still within the 44 px target): a grab alone changes nothing.
    const grab = { x: t.x + 12, y: t.y + 8 };
    await finger.swipe(grab, grab, 1);
    assert.equal(await value(page, sel), 1);
    // A quarter of the travel to the right is a quarter of 0…2: +0.5.
    const dx = Math.round(t.travel / 4);
    await finger.swipe(grab, { x: grab.x + dx, y: grab.y + 20 });
    const expected = 1 + (dx / t.travel) * 2;
    const up = await value(page, sel);
    assert.ok(Math.abs(up - expected) <= LEVEL_STEP, `dragged to ${up}, expected ${expected}`);
    // And back from where the thumb is now.
    const t2 = await thumbPoint(page, sel);
    await finger.swipe(t2, { x: t2.x - dx, y: t2.y });
    assert.ok(Math.abs((await value(page, sel)) - 1) <= LEVEL_STEP);
    assert.equal(await page.getAttribute(sel, "aria-valuetext"), "0 dB");
  },
);

browserTest("fader keys still work: arrows, Page Up/Down, Home and End", async (page) => {
  const sel = fader(6, "vol");
  await page.focus(sel);
  await page.keyboard.press("ArrowRight");
  assert.equal(await value(page, sel), 1 + LEVEL_STEP);
  await page.keyboard.press("ArrowLeft");
  await page.keyboard.press("ArrowLeft");
  assert.equal(await value(page, sel), 1 - LEVEL_STEP);
  await page.keyboard.press("PageUp");
  assert.ok((await value(page, sel)) > 1 + LEVEL_STEP, "Page Up moves more than a step");
  await page.keyboard.press("PageDown");
  assert.equal(await value(page, sel), 1 - LEVEL_STEP);
  await page.keyboard.press("End");
  assert.equal(await value(page, sel), 2);
  await page.keyboard.press("Home");
  assert.equal(await value(page, sel), 0);
  assert.equal(await page.getAttribute(sel, "aria-valuetext"), "off");
});

browserTest(
  "the lock makes faders, pans, EQ and solo inert, leaves mute and master usable, and is remembered",
  async (page, finger, url) => {
    await page.evaluate(() => (globalThis as any).scrollTo(0, 0));
    await page.screenshot({ path: `${SHOTS}/listener-unlocked.png` });
    await page.tap("#lock");
    assert.equal(await page.getAttribute("#lock", "aria-pressed"), "true");
    await page.evaluate(() => (globalThis as any).scrollTo(0, 0));
    await page.screenshot({ path: `${SHOTS}/listener-locked.png` });

    const check = async () => {
      // A drag from a channel's thumb does nothing.
      const vol = fader(4, "vol");
      const t = await thumbPoint(page, vol);
      await finger.swipe(t, { x: t.x + Math.round(t.travel / 4), y: t.y });
      assert.equal(await value(page, vol), 1, "a locked fader moved");
      // Nor do the keys.
      await page.focus(vol).catch(() => {});
      await page.keyboard.press("End");
      assert.equal(await value(page, vol), 1, "a locked fader moved by key");
      for (const sel of [vol, fader(4, "pan"), '.strip[data-id="4"] input.eq-low']) {
        assert.ok(await page.isDisabled(sel), `${sel} is usable while locked`);
      }
      const solo = '.strip[data-id="4"] .solo';
      assert.ok(await page.isDisabled(solo));
      await finger.tap(await centreOf(page, solo));
      assert.equal(await page.getAttribute(solo, "aria-pressed"), "false", "solo toggled");
      assert.ok(await page.isDisabled(".master .limit"));
      assert.ok(await page.isDisabled("#opt-reset"));
    };
    await check();

    // Mute and the master level still work.
    const mute = '.strip[data-id="4"] .mute';
    await finger.tap(await centreOf(page, mute));
    assert.equal(
      await page.getAttribute(mute, "aria-pressed"),
      "true",
      "mute is usable while locked",
    );
    const master = fader("master", "vol");
    const m = await thumbPoint(page, master);
    const dx = Math.round(m.travel / 4);
    await finger.swipe(m, { x: m.x - dx, y: m.y });
    const lowered = await value(page, master);
    const expected = 1 - (dx / m.travel) * 2;
    assert.ok(Math.abs(lowered - expected) <= LEVEL_STEP, `master at ${lowered}, not ${expected}`);

    // The lock is stored with the mix and comes back with it.
    for (const end = Date.now() + 10_000;;) {
      if (Date.now() > end) {
        assert.fail(`the mix was not stored: ${JSON.stringify(await storedMix(page))}`);
      }
      const mix = await storedMix(page);
      const ch4 = mix.channels?.find((c: { id: number }) => c.id === 4);
      if (mix.master?.volume === lowered && ch4?.mute === true) {
        assert.equal(mix.locked, true);
        break;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    await openMixer(page, url);
    assert.equal(await page.getAttribute("#lock", "aria-pressed"), "true");
    await check();

    // Unlocked, the faders move again.
    await page.tap("#lock");
    const vol = fader(4, "vol");
    const t = await thumbPoint(page, vol);
    await finger.swipe(t, { x: t.x + Math.round(t.travel / 4), y: t.y });
    assert.ok((await value(page, vol)) > 1.4, "unlocked, the fader moves");
  },
);
