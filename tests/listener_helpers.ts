/** Shared helpers for the listener tests: a tone-mode server and a chromium with fake audio output. */
import type { BrowserContext, Page } from "playwright-core";
import { launchChromium } from "./helpers/browser.ts";
import { type RunningServer, startServer } from "../src/server.ts";
import type { ChannelConfig } from "../src/config/types.ts";

export const UI_TIMEOUT_MS = 20_000;

/** A server in `tone` test mode (channel id carries id × 100 Hz at −20 dBFS) sending `channels` channels. */
export async function startToneServer(
  opts: { dataDir?: string; port?: number; channels?: number } = {},
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
  return { server, dataDir };
}

export function launchBrowser(
  viewport = { width: 390, height: 844 },
): Promise<{ ctx: BrowserContext; profile: string }> {
  return launchChromium({
    viewport,
    deviceScaleFactor: 2,
    args: ["--autoplay-policy=no-user-gesture-required", "--use-fake-ui-for-media-stream"],
    timeoutMs: UI_TIMEOUT_MS,
  });
}

/** Console errors and uncaught exceptions of a page. */
export function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(`console: ${m.text()}`);
  });
  page.on("pageerror", (e) => errors.push(`page: ${e.message}`));
  return errors;
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
