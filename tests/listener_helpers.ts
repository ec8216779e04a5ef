/** Shared helpers for the listener tests: a tone-mode server and a chromium with fake audio output. */
import assert from "node:assert/strict";
import type { BrowserContext, Page } from "playwright-core";
import { launchChromium } from "./helpers/browser.ts";
export { watchErrors } from "./helpers/browser.ts";
export { freePort } from "./helpers/server.ts";
import { type RunningServer, startServer } from "../src/server.ts";
import type { ChannelConfig } from "../src/config/types.ts";

export const UI_TIMEOUT_MS = 20_000;

/**
 * A server in `tone` test mode (channel id carries id × 100 Hz at −20 dBFS)
 * sending `channels` channels. With `httpsPort` the admin's HTTPS setting is
 * on (page at https://127.0.0.1:httpsPort/, WebTransport on UDP httpsPort).
 */
export async function startToneServer(
  opts: {
    dataDir?: string;
    port?: number;
    channels?: number;
    httpsPort?: number;
    /** ServerOptions.webtransportPublicPort (a relay in front of WebTransport). */
    webtransportPublicPort?: number;
  } = {},
): Promise<{ server: RunningServer; dataDir: string }> {
  const dataDir = opts.dataDir ?? (await Deno.makeTempDir({ prefix: "m32-listener-" }));
  const server = await startServer({
    httpPort: opts.port ?? 0,
    rtpPort: 0,
    hostname: "127.0.0.1",
    dataDir,
    source: "test",
    sender: "deno",
    adminPassword: "listener-test-1",
    webtransportPublicPort: opts.webtransportPublicPort,
  });
  const store = server.ctx.store;
  if (store.get().audio.test_mode !== "tone") {
    store.patch({ audio: { test_mode: "tone" }, adaptation: { enabled: false } });
    const n = opts.channels ?? 8;
    const chans: ChannelConfig[] = store.getChannels().map((c) => ({
      ...c,
      enabled: c.id <= n,
      order: c.id,
    }));
    store.setChannels(chans);
  }
  if (opts.httpsPort !== undefined) {
    if (!store.get().https.enabled || store.get().https.port !== opts.httpsPort) {
      store.patch({ https: { enabled: true, port: opts.httpsPort } });
    }
    const st = await server.ctx.https.apply();
    if (!st.listening) throw new Error(`HTTPS did not start: ${st.error}`);
  }
  return { server, dataDir };
}

export function launchBrowser(
  viewport = { width: 390, height: 844 },
  opts: { https?: boolean; touch?: boolean; locale?: string } = {},
): Promise<{ ctx: BrowserContext; profile: string }> {
  return launchChromium({
    viewport,
    deviceScaleFactor: 2,
    args: ["--autoplay-policy=no-user-gesture-required", "--use-fake-ui-for-media-stream"],
    timeoutMs: UI_TIMEOUT_MS,
    // The page certificate is self-signed (a musician accepts it once); WebTransport
    // itself is verified by the transport certificate's hash, not by this.
    ignoreHTTPSErrors: opts.https,
    hasTouch: opts.touch,
    isMobile: opts.touch,
    locale: opts.locale,
  });
}

// deno-lint-ignore no-explicit-any
export type Status = Record<string, any>;

export function status(page: Page): Promise<Status> {
  // deno-lint-ignore no-explicit-any
  return page.evaluate(() => (globalThis as any).__m32.status());
}

export function magnitudes(page: Page, freqs: number[]): Promise<number[]> {
  // deno-lint-ignore no-explicit-any
  return page.evaluate((f) => (globalThis as any).__m32.magnitudes(f), freqs);
}

/** Polls `pred` on the page's status until it holds (a hang guard, not a timing assertion). */
export async function waitStatus(
  page: Page,
  pred: (s: Status) => boolean,
  what: string,
  timeoutMs = UI_TIMEOUT_MS,
): Promise<Status> {
  const end = Date.now() + timeoutMs;
  let last: Status = {};
  while (Date.now() < end) {
    last = await status(page);
    if (pred(last)) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}; last status ${JSON.stringify(last)}`);
}

/** Audible tones measure about −37 dBFS in the analyser (−20 dBFS, −3 dB pan law, window). */
const AUDIBLE_DB = -55;
/** A channel muted or soloed away stays this far below the quietest audible tone. */
const SEPARATION_DB = 10;

/** Longer than the analyser's window (32768 frames, 683 ms at 48 kHz) plus the schedule lead. */
const SETTLE_MS = 1000;
const ATTEMPTS = 4;

export const hz = (id: number) => id * 100;

/** Median spectrum over a few snapshots, so one underrun cannot decide the test. */
export async function spectrum(page: Page, ids: number[]): Promise<Map<number, number>> {
  const runs: number[][] = [];
  for (let i = 0; i < 7; i++) {
    runs.push(await magnitudes(page, ids.map(hz)));
    await new Promise((r) => setTimeout(r, 150));
  }
  return new Map(ids.map((id, k) => {
    const v = runs.map((r) => r[k]).sort((a, b) => a - b);
    return [id, v[Math.floor(v.length / 2)]];
  }));
}

/**
 * The mix has the `audible` tones and not the `silent` ones. On a loaded
 * machine a burst of underruns can smear one measurement, so it is taken up
 * to ATTEMPTS times; a wrong mix (a mute that does nothing) fails them all.
 */
export async function expectMix(page: Page, audible: number[], silent: number[], what: string) {
  let problem = "";
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    await new Promise((r) => setTimeout(r, SETTLE_MS)); // the analyser window still holds the old mix
    const s = await spectrum(page, [...audible, ...silent]);
    const show = [...s].map(([id, db]) => `${hz(id)} Hz ${db.toFixed(1)} dB`).join(", ");
    const quietest = Math.min(...audible.map((id) => s.get(id)!));
    const loud = silent.filter((id) => !(s.get(id)! < quietest - SEPARATION_DB));
    if (quietest <= AUDIBLE_DB) problem = `a tone that should play is missing (${show})`;
    else if (loud.length > 0) problem = `channels ${loud.join(",")} should be silent (${show})`;
    else return;
  }
  assert.fail(`${what}: ${problem}`);
}

/** A phone's viewport (iPhone 12–15 size). */
export const PHONE = { width: 390, height: 844 };

/** Opens the page, taps Start and waits until audio is arriving. */
export async function openLive(page: Page, url: string): Promise<void> {
  await page.goto(url);
  await page.click("#start");
  await waitStatus(page, (s) => s.state === "streaming", "streaming");
}

export interface PhoneTest {
  server: RunningServer;
  dataDir: string;
  ctx: BrowserContext;
  /** The page's URL on this server (WebSocket transport: the same on every machine). */
  url: string;
}

/**
 * A browser test on a phone: a tone server with `channels` channels and a
 * Chromium at the phone's viewport, both closed (and the data removed) after.
 */
export function phoneTest(
  name: string,
  channels: number,
  fn: (t: PhoneTest) => Promise<void>,
): void {
  Deno.test({
    name,
    sanitizeOps: false,
    sanitizeResources: false,
    fn: async () => {
      const { server, dataDir } = await startToneServer({ channels });
      const { ctx } = await launchBrowser(PHONE);
      try {
        await fn({ server, dataDir, ctx, url: `${server.url}/?transport=websocket` });
      } finally {
        await ctx.close();
        await server.close();
        await Deno.remove(dataDir, { recursive: true }).catch(() => {});
      }
    },
  });
}

/** With M32_UPDATE_SCREENSHOTS=1, the page as a phone shows it, into docs/screenshots/<name>.png. */
export async function docScreenshot(page: Page, name: string, fullPage = false): Promise<void> {
  if (!Deno.env.get("M32_UPDATE_SCREENSHOTS")) return;
  await page.screenshot({
    path: new URL(`../docs/screenshots/${name}.png`, import.meta.url).pathname,
    fullPage,
  });
}
