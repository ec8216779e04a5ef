/**
 * Debian's Chromium driven by playwright-core, launched the way this machine
 * needs it: headless, no sandbox (root), and no background networking (the
 * closed network refuses those connections), with a fresh profile each time.
 */
import assert from "node:assert/strict";
import { type BrowserContext, chromium, type Page } from "playwright-core";

export const CHROMIUM = "/usr/bin/chromium";

const BASE_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export interface LaunchOptions {
  viewport: { width: number; height: number };
  deviceScaleFactor?: number;
  /** Extra Chromium flags (e.g. autoplay without a gesture for audio tests). */
  args?: string[];
  timeoutMs: number;
  /** Accept the server's self-signed HTTPS page certificate (the listener on HTTPS). */
  ignoreHTTPSErrors?: boolean;
  /** A phone: touch events on, mobile viewport meta honoured. */
  hasTouch?: boolean;
  isMobile?: boolean;
  /**
   * The browser's language (navigator.languages, Accept-Language): the pages
   * speak it (web/i18n/). English unless a test asks for another.
   */
  locale?: string;
}

export async function launchChromium(
  o: LaunchOptions,
): Promise<{ ctx: BrowserContext; profile: string }> {
  const profile = await Deno.makeTempDir({ prefix: "m32-chromium-" });
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: o.viewport,
    deviceScaleFactor: o.deviceScaleFactor,
    args: [...BASE_ARGS, ...(o.args ?? [])],
    ignoreHTTPSErrors: o.ignoreHTTPSErrors,
    hasTouch: o.hasTouch,
    isMobile: o.isMobile,
    locale: o.locale ?? "en-US",
  });
  ctx.setDefaultTimeout(o.timeoutMs);
  return { ctx, profile };
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

/** The text of the QR code in a PNG screenshot, decoded by zbarimg (zbar-tools). */
export async function zbar(png: Uint8Array): Promise<string> {
  const file = await Deno.makeTempFile({ suffix: ".png" });
  try {
    await Deno.writeFile(file, png);
    const out = await new Deno.Command("zbarimg", { args: ["--raw", "-q", file] }).output();
    assert.equal(out.code, 0, `zbarimg found no code: ${new TextDecoder().decode(out.stderr)}`);
    return new TextDecoder().decode(out.stdout).trim();
  } finally {
    await Deno.remove(file);
  }
}
