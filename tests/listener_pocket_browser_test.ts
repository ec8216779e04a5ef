/**
 * Audio that survives the pocket (issue 13, item 4), in Chromium on a phone
 * viewport: the OS suspends the page's audio, the page is hidden and shown
 * again (the mix through a media element while hidden), the network goes
 * offline and back, the output device changes — each time the audio comes
 * back by itself with the mix intact. How long it took is printed (the
 * target is 2 s); a test never asserts a wall-clock time on this machine, so
 * what is asserted is what brought it back.
 */
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import {
  hz,
  magnitudes,
  phoneTest,
  type Status,
  status,
  waitStatus,
  watchErrors,
} from "./listener_helpers.ts";

/** The analyser's window (683 ms) must hold only new audio before the tone is judged. */
const WINDOW_S = 0.8;
const AUDIBLE_DB = -55;

const notes = (s: Status) => (s.stateLog as { detail: string }[]).map((x) => x.detail);

/** Waits until the page plays channel 1's tone again; returns how long it took (ms). */
async function audioBack(page: Page, what: string): Promise<number> {
  const t0 = Date.now();
  const running = await waitStatus(page, (s) => s.audio === "running", `${what}: audio running`);
  const from = running.audioTime as number;
  await waitStatus(page, (s) => s.audioTime > from + WINDOW_S, `${what}: audio clock moving`);
  const end = Date.now() + 15_000;
  for (;;) {
    const [db] = await magnitudes(page, [hz(1)]);
    if (db > AUDIBLE_DB) break;
    if (Date.now() > end) assert.fail(`${what}: the tone did not come back (${db.toFixed(1)} dB)`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const ms = Date.now() - t0;
  console.log(`  ${what}: audio back in ${ms} ms`);
  return ms;
}

function setVisibility(page: Page, state: "hidden" | "visible"): Promise<void> {
  return page.evaluate((v) => {
    // deno-lint-ignore no-explicit-any
    const doc = (globalThis as any).document;
    Object.defineProperty(doc, "visibilityState", { value: v, configurable: true });
    Object.defineProperty(doc, "hidden", { value: v === "hidden", configurable: true });
    doc.dispatchEvent(new Event("visibilitychange"));
  }, state);
}

phoneTest(
  "the page's audio comes back by itself: OS suspend, hidden and shown, offline and online, output change",
  4,
  async ({ server, ctx }) => {
    const page = await ctx.newPage();
    const errors = watchErrors(page);
    await page.goto(`${server.url}/?transport=websocket&background=element`);
    await page.click("#start");
    await waitStatus(page, (s) => s.state === "streaming", "streaming");
    await page.click('.strip[data-id="2"] .mute');
    await audioBack(page, "start");

    // 1. The OS suspends the page's audio (a call, an alarm): resumed without a tap.
    // deno-lint-ignore no-explicit-any
    await page.evaluate(() => (globalThis as any).__m32.suspendAudio());
    await waitStatus(page, (s) => notes(s).includes("audio suspended"), "the suspension seen");
    await audioBack(page, "after the OS suspended the audio");

    // 2. Locked screen: hidden (the mix through the media element), the audio suspended
    //    as a phone does, then shown again: back on the direct path, playing.
    await setVisibility(page, "hidden");
    const hidden = await waitStatus(page, (s) => s.viaElement === true, "the background route");
    assert.equal(hidden.viaElement, true);
    // deno-lint-ignore no-explicit-any
    await page.evaluate(() => (globalThis as any).__m32.suspendAudio());
    await setVisibility(page, "visible");
    const shown = await waitStatus(page, (s) => s.viaElement === false, "the direct route back");
    assert.equal(shown.viaElement, false, "in the foreground the mix skips the media element");
    await audioBack(page, "after the screen was locked and unlocked");

    // 3. The Wi-Fi drops for seconds: the page comes back when the network does,
    //    not when its back-off runs out.
    await ctx.setOffline(true);
    server.ctx.sessions.endAll("Wi-Fi gone", { type: "reconnect" });
    await waitStatus(
      page,
      (s) => (s.stateLog as { detail: string }[]).some((x) => /retrying in [2-9]/.test(x.detail)),
      "a back-off of seconds while offline",
    );
    await ctx.setOffline(false);
    const online = await waitStatus(page, (s) => s.state === "streaming", "streaming again");
    assert.ok(
      notes(online).includes("the network is back"),
      `reconnected on the network's return: ${JSON.stringify(notes(online).slice(-5))}`,
    );
    await audioBack(page, "after the network came back");

    // 4. Headphones plugged or pulled: the output is rebuilt, the session and the mix stay.
    const before = (await status(page)).clientId;
    await page.evaluate(() =>
      // deno-lint-ignore no-explicit-any
      (globalThis as any).navigator.mediaDevices.dispatchEvent(new Event("devicechange"))
    );
    await waitStatus(page, (s) => notes(s).includes("the audio output changed"), "the change");
    await audioBack(page, "after the output device changed");
    const after = await status(page);
    assert.equal(after.clientId, before, "the same session");
    assert.equal(
      await page.getAttribute('.strip[data-id="2"] .mute', "aria-pressed"),
      "true",
      "the mix is intact",
    );
    const unexpected = errors.filter((e) =>
      !/ERR_INTERNET_DISCONNECTED|WebSocket connection|Failed to load resource|ERR_CONNECTION/
        .test(e)
    );
    assert.deepEqual(unexpected, []);
  },
);
