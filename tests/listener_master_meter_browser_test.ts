// deno-lint-ignore-file no-explicit-any -- page functions reach the browser's globals
/**
 * The master (post-mix) meter and clip indicator, on both playout engines
 * (the AudioWorklet, and scheduled buffers without it), with the server's
 * tone test signal (8 tones at −20 dBFS: the mix peaks near −7 dBFS at unity).
 * While playing, the master meter shows the mix's level and the clip
 * indicator is dark; with the limiter off and the gains raised until the mix
 * reaches full scale, the indicator lights; a tap clears it once the mix is
 * back below full scale. Screenshot with M32_UPDATE_SCREENSHOTS=1.
 */
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import {
  launchBrowser,
  startToneServer,
  type Status,
  waitStatus,
  watchErrors,
} from "./listener_helpers.ts";

const PHONE = { width: 390, height: 844 };
const SHOTS = Deno.env.get("M32_UPDATE_SCREENSHOTS")
  ? new URL("../docs/screenshots/", import.meta.url).pathname
  : await Deno.makeTempDir({ prefix: "m32-meter-shots-" });
const CHANNELS = 8;
/** The mix at unity peaks near 0.43 (−7 dBFS); the meter must show at least −20 dBFS. */
const PLAYING_PEAK = 0.1;
/** The meter bar spans −60 … 0 dBFS: −20 dBFS is two thirds of it. */
const PLAYING_BAR = 0.6;
/** Master Page Up presses before giving up (a tenth of 0 … 2 each: 5 take unity to +6 dB). */
const MAX_RAISES = 8;
const MASTER = ".master input.master-vol";
const CLIP = ".master .clip";

const master = (s: Status) => s.master as { peak: number; clips: number };

/** How far the master meter's bar is drawn (0 … 1). */
async function barScale(page: Page): Promise<number> {
  const t = await page.$eval(".master-meter .meter-fill", (e) => (e as any).style.transform);
  return Number(/scaleX\(([\d.]+)\)/.exec(t)?.[1] ?? NaN);
}

async function lit(page: Page): Promise<string | null> {
  return await page.getAttribute(CLIP, "data-lit");
}

/** A phone page playing the tones with `playout`, its master meter showing the mix; closed after `fn`. */
async function withPlayingPage(
  playout: "worklet" | "buffer",
  fn: (page: Page, st: Status, errors: string[]) => Promise<void>,
): Promise<void> {
  const { server } = await startToneServer({ channels: CHANNELS });
  const { ctx } = await launchBrowser(PHONE, { touch: true });
  try {
    const page = await ctx.newPage();
    const errors = watchErrors(page);
    await page.goto(`${server.url}/?transport=websocket&playout=${playout}`);
    await page.tap("#start");
    const st = await waitStatus(
      page,
      (s) => s.state === "streaming" && s.master?.peak > PLAYING_PEAK,
      "the master meter to show the mix",
    );
    await fn(page, st, errors);
  } finally {
    await ctx.close();
    await server.close();
  }
}

for (const playout of ["worklet", "buffer"] as const) {
  Deno.test({
    name: `the master meter shows the mix and the clip indicator lights at full scale (${playout})`,
    sanitizeOps: false,
    sanitizeResources: false,
    fn: () =>
      withPlayingPage(playout, async (page, st, errors) => {
        assert.equal(st.playout, playout);
        assert.equal(master(st).clips, 0, "the mix at unity, limited, does not clip");
        await page.waitForFunction(
          ([sel, min]) => {
            const t = (globalThis as any).document.querySelector(sel).style.transform;
            return Number(/scaleX\(([\d.]+)\)/.exec(t)?.[1] ?? 0) > (min as number);
          },
          [".master-meter .meter-fill", PLAYING_BAR] as const,
        );
        assert.ok((await barScale(page)) > PLAYING_BAR);
        assert.equal(await lit(page), "false");

        // Limiter off, every channel at +6 dB: the mix peaks near 0.87, still under full scale.
        await page.tap(".master .limit");
        for (let id = 1; id <= CHANNELS; id++) {
          await page.focus(`.strip[data-id="${id}"] input.vol`);
          await page.keyboard.press("End");
        }
        // Raise the master until the mix clips.
        await page.focus(MASTER);
        let raises = 0;
        for (; raises < MAX_RAISES; raises++) {
          const s = await page.evaluate(() => (globalThis as any).__m32.status());
          if (master(s).clips > 0) break;
          await page.keyboard.press("PageUp");
          await new Promise((r) => setTimeout(r, 300)); // let the new gain play
        }
        assert.ok(raises > 0, "the mix clipped before the master was raised");
        assert.ok(raises < MAX_RAISES, "the mix never clipped with the master at +6 dB");
        await page.waitForFunction(
          (sel) => (globalThis as any).document.querySelector(sel).dataset.lit === "true",
          CLIP,
        );
        await page.evaluate(() => (globalThis as any).scrollTo(0, 0));
        await page.screenshot({ path: `${SHOTS}/listener-master-clip.png` });

        // Master back to unity: once no block clips any more, a tap clears the indicator.
        await page.fill(MASTER, "1");
        let clips = -1;
        for (;;) {
          await new Promise((r) => setTimeout(r, 400));
          const now = master(await page.evaluate(() => (globalThis as any).__m32.status())).clips;
          if (now === clips) break;
          clips = now;
        }
        await page.tap(CLIP);
        assert.equal(await lit(page), "false", "a tap clears the clip indicator");
        assert.deepEqual(errors, []);
      }),
  });
}

Deno.test({
  name:
    "the meters restyle only what changed, at most 25 frames a second (the main thread also schedules the audio)",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    // Each meter was restyled (transform and data-hot, with a CSS transition restarted) on every
    // animation frame: on the plain-http page, whose main thread also schedules the audio, the
    // thread was 46–49 % busy (77 % on a loaded host), 24–25 % now (docs/listener-latency.md).
    await withPlayingPage("buffer", async (page, _st, errors) => {
      await new Promise((r) => setTimeout(r, 1000)); // the tones' meters settle
      const seconds = 2;
      const counts: { meters: number; writes: number; frames: number } = await page.evaluate(
        (ms) =>
          new Promise((resolve) => {
            const doc = (globalThis as any).document;
            const bars = [...doc.querySelectorAll(".meter-fill")];
            let writes = 0;
            const frames = new Set<number>();
            const obs = new (globalThis as any).MutationObserver((list: unknown[]) => {
              writes += list.length;
              frames.add(Math.floor((globalThis as any).performance.now()));
            });
            for (const b of bars) {
              obs.observe(b, { attributes: true, attributeFilter: ["style", "data-hot"] });
            }
            setTimeout(() => {
              obs.disconnect();
              resolve({ meters: bars.length, writes, frames: frames.size });
            }, ms);
          }),
        seconds * 1000,
      );
      assert.ok(counts.meters > CHANNELS, `${counts.meters} meters`);
      assert.ok(
        counts.frames <= 25 * seconds + 2,
        `${counts.frames} frames restyled meters in ${seconds} s`,
      );
      assert.ok(
        counts.writes <= counts.meters * (25 * seconds + 2),
        `${counts.writes} meter writes in ${seconds} s for ${counts.meters} meters`,
      );
      assert.deepEqual(errors, []);
    });
  },
});
