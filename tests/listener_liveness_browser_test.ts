/**
 * What the page tells a musician about the audio is true (issue 13, 8b/8c):
 * "Live" only while packets arrive, a session that never streams is started
 * again, and after the box restarts the page is back as soon as the box
 * answers (not after its back-off), saying the mix is kept.
 */
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import {
  launchBrowser,
  startToneServer,
  type Status,
  status,
  waitStatus,
  watchErrors,
} from "./listener_helpers.ts";
import { startTestServer } from "./helpers/server.ts";
import type { Period, PeriodSink, Source, SourceFormat } from "../src/audio/source.ts";

const PHONE = { width: 390, height: 844 };
const PERIOD_FRAMES = 240;
const PERIOD_MS = 5;
const CHANNELS = 32;

/** A console that opens fine and delivers audio only while `flowing` (a stalled device otherwise). */
class GatedSource implements Source {
  readonly kind = "alsa" as const;
  static flowing = false;
  private timer: ReturnType<typeof setInterval> | undefined;
  private readonly period: Period = {
    data: new Int32Array(CHANNELS * PERIOD_FRAMES),
    frames: PERIOD_FRAMES,
    channels: CHANNELS,
    sampleRate: 48000,
    frameIndex: 0,
    captureTimeMs: 0,
  };

  start(sink: PeriodSink): Promise<SourceFormat> {
    this.timer = setInterval(() => {
      if (!GatedSource.flowing) return;
      this.period.captureTimeMs = performance.timeOrigin + performance.now() - PERIOD_MS;
      sink(this.period);
      this.period.frameIndex += PERIOD_FRAMES;
    }, PERIOD_MS);
    return Promise.resolve({
      channels: CHANNELS,
      sampleRate: 48000,
      framesPerPeriod: PERIOD_FRAMES,
      description: "a console that may deliver nothing",
    });
  }

  stop(): Promise<void> {
    clearInterval(this.timer);
    return Promise.resolve();
  }
}

const states = (s: Status) => (s.stateLog as { state: string; detail: string }[]);

async function start(page: Page, url: string): Promise<void> {
  await page.goto(url);
  await page.click("#start");
}

Deno.test({
  name: "the page says Live only once packets arrive, and starts a session that gets none again",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    GatedSource.flowing = false;
    const srv = await startTestServer({ source: "alsa", createAlsa: () => new GatedSource() });
    const { ctx } = await launchBrowser(PHONE);
    try {
      const page = await ctx.newPage();
      await start(page, `${srv.url}/?transport=websocket`);
      const acked = await waitStatus(page, (s) => s.ack !== null, "the acknowledgement");
      assert.notEqual(acked.state, "streaming", "acknowledged is not live");
      assert.notEqual(acked.badge, "Live");
      // No audio: the page gives the session up and opens a new one (the old page said Live).
      const retried = await waitStatus(
        page,
        (s) => states(s).some((x) => x.state === "reconnecting" && /no audio/.test(x.detail)),
        "a retry of the session that got no audio",
      );
      assert.ok(
        !states(retried).some((x) => x.state === "streaming"),
        `never Live without packets: ${JSON.stringify(states(retried))}`,
      );
      // The console starts delivering: Live, with packets.
      GatedSource.flowing = true;
      const live = await waitStatus(
        page,
        (s) => s.state === "streaming" && s.packets_received > 0,
        "Live once audio flows",
      );
      assert.equal(live.badge, "Live");
      // It stops again: no longer Live, and the musician is told.
      GatedSource.flowing = false;
      const stalled = await waitStatus(page, (s) => s.state === "stalled", "the stall noticed");
      assert.equal(
        stalled.badge,
        "No audio",
        JSON.stringify({
          network: stalled.network,
          rx: stalled.packets_received,
          exp: stalled.packets_expected,
        }),
      );
      assert.match(stalled.banner, /No audio is arriving/);
      GatedSource.flowing = true;
      await waitStatus(page, (s) => s.state === "streaming", "Live again");
    } finally {
      GatedSource.flowing = false;
      await ctx.close();
      await srv.stop();
    }
  },
});

Deno.test({
  name: "after the box restarts the page reconnects as soon as it answers and says the mix is kept",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    let { server, dataDir } = await startToneServer({ channels: 8 });
    const port = server.httpPort;
    const { ctx } = await launchBrowser(PHONE);
    try {
      const page = await ctx.newPage();
      const errors = watchErrors(page);
      await start(page, `${server.url}/?transport=websocket`);
      await waitStatus(page, (s) => s.state === "streaming", "streaming");
      await page.click('.strip[data-id="3"] .mute');
      await new Promise((r) => setTimeout(r, 500)); // saved 300 ms after a change

      await server.close("restarting");
      const told = await waitStatus(page, (s) => s.banner !== "", "the banner");
      assert.match(told.banner, /restarting/i);
      assert.match(told.banner, /your mix is kept/i);
      // Down long enough for the back-off to reach seconds (0.5, 1, 2, 4 … s).
      await waitStatus(
        page,
        (s) => states(s).filter((x) => /retrying in [2-9]/.test(x.detail)).length > 0,
        "a back-off of seconds",
      );
      ({ server, dataDir } = await startToneServer({ dataDir, port }));
      const upAt = Date.now();
      const back = await waitStatus(page, (s) => s.state === "streaming", "back after the restart");
      console.log(`  box up → Live in ${Date.now() - upAt} ms`);
      assert.ok(
        states(back).some((x) => x.detail === "the box is back"),
        `reconnected because the box answered, not when the back-off ran out: ${
          JSON.stringify(states(back).slice(-6))
        }`,
      );
      assert.equal(
        await page.getAttribute('.strip[data-id="3"] .mute', "aria-pressed"),
        "true",
        "the mix is kept",
      );
      assert.equal((await status(page)).banner, "", "the banner goes once Live");
      const unexpected = errors.filter((e) =>
        !/ERR_CONNECTION_REFUSED|WebSocket connection|Failed to load resource|ERR_EMPTY_RESPONSE|ERR_CONNECTION_RESET/
          .test(e)
      );
      assert.deepEqual(unexpected, []);
    } finally {
      await ctx.close();
      await server.close();
    }
  },
});
