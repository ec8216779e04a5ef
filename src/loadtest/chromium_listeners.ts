/**
 * Real listener pages in Chromium (playwright-core, headless, Debian's
 * /usr/bin/chromium), beside the headless listeners of a load test: the check
 * that the protocol-level listeners behave like the page. Each page is its own
 * browser context (its own window: never a throttled background tab), opened
 * on the transport under test — WebTransport needs the HTTPS page (a secure
 * context; its self-signed certificate accepted as a musician would) and then
 * receives in the page's audio worker and plays through the AudioWorklet, as
 * on a phone. The figures are the page's own (`window.__m32.status()`).
 */
import { type Browser, chromium, type Page } from "playwright-core";
import type { TransportKind } from "../../web/listener/connection.ts";

export const CHROMIUM_PATH = "/usr/bin/chromium";

const ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--autoplay-policy=no-user-gesture-required",
  // Chromium throttles timers of windows it thinks are hidden; a listener is in the foreground.
  "--disable-background-timer-throttling",
  "--disable-renderer-backgrounding",
];

/** A page's counters at one moment (windows are differences of two). */
export interface PageSnapshot {
  state: string;
  transport: string | null;
  received: number;
  expected: number;
  /** The jitter buffer's concealed packets and the Opus decoders' concealed groups. */
  concealedPackets: number;
  concealedGroups: number;
  droppedPackets: number;
  reconnects: number;
  underruns: number;
  /** The contract's network latency of the newest packet (capture → receive), ms. */
  latencyMs: number;
  /** The page's capture → playout schedule latency (median of its recent blocks), ms. */
  playoutLatencyMs: number;
  audioPath: string;
  playout: string | null;
}

// deno-lint-ignore no-explicit-any
type Status = Record<string, any>;

function snapshotOf(s: Status): PageSnapshot {
  const num = (v: unknown) => (typeof v === "number" ? v : NaN);
  return {
    state: String(s.state ?? ""),
    transport: s.transport ?? null,
    received: num(s.packets_received) || 0,
    expected: num(s.packets_expected) || 0,
    concealedPackets: num(s.jb?.concealed) || 0,
    concealedGroups: num(s.concealedGroups) || 0,
    droppedPackets: num(s.jb?.dropped) || 0,
    reconnects: num(s.reconnects) || 0,
    underruns: num(s.underruns) || 0,
    latencyMs: num(s.latency_ms),
    playoutLatencyMs: num(s.playout_latency_ms),
    audioPath: String(s.audioPath ?? ""),
    playout: s.playout ?? null,
  };
}

export class ChromiumListeners {
  private constructor(
    private readonly browser: Browser,
    readonly pages: Page[],
    readonly transport: TransportKind,
  ) {}

  /**
   * `count` pages listening on `transport` (the page's own default mix: every
   * mapped channel, Opus), each streaming before this resolves.
   */
  static async open(
    count: number,
    transport: TransportKind,
    urls: { http: string; https: string | null },
    timeoutMs = 30_000,
  ): Promise<ChromiumListeners> {
    const browser = await chromium.launch({
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: ARGS,
    });
    const pages: Page[] = [];
    const set = new ChromiumListeners(browser, pages, transport);
    try {
      const base = transport === "webtransport" ? urls.https : urls.http;
      if (!base) throw new Error("WebTransport needs the server's HTTPS page");
      for (let i = 0; i < count; i++) {
        const ctx = await browser.newContext({
          viewport: { width: 390, height: 844 },
          deviceScaleFactor: 2,
          ignoreHTTPSErrors: true,
        });
        ctx.setDefaultTimeout(timeoutMs);
        const page = await ctx.newPage();
        pages.push(page);
        await page.goto(`${base}/?transport=${transport}&compression=opus`);
        await page.click("#start");
      }
      const end = Date.now() + timeoutMs;
      for (;;) {
        const snaps = await set.snapshot();
        if (snaps.every((s) => s.state === "streaming" && s.received > 100)) break;
        if (Date.now() > end) {
          throw new Error(`Chromium listeners did not stream: ${JSON.stringify(snaps)}`);
        }
        await new Promise((r) => setTimeout(r, 200));
      }
    } catch (e) {
      await set.close();
      throw e;
    }
    return set;
  }

  async snapshot(): Promise<PageSnapshot[]> {
    return await Promise.all(this.pages.map(async (p) =>
      // deno-lint-ignore no-explicit-any
      snapshotOf(await p.evaluate(() => (globalThis as any).__m32.status()))
    ));
  }

  async close(): Promise<void> {
    await this.browser.close().catch(() => {});
  }
}
