/**
 * The listener page in a real browser (playwright-core driving Debian's
 * chromium with a fake audio output), once per transport: the server sends
 * its `tone` test signal (channel id = id × 100 Hz at −20 dBFS); the page
 * starts from the Start button, plays, and the mix — read from an
 * AnalyserNode after the mixer through window.__m32 — has the tones of the
 * channels turned up and not those muted or soloed away. Settings survive a
 * reload, and a server restart on the same port and data directory is
 * followed by an automatic reconnect. Screenshots at a phone-sized viewport
 * go to docs/ only with M32_UPDATE_SCREENSHOTS=1.
 */
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import {
  expectMix,
  launchBrowser,
  startToneServer,
  type Status,
  waitStatus,
  watchErrors,
} from "./listener_helpers.ts";
import { listenerCsp } from "../src/listener/mod.ts";

const SHOTS = Deno.env.get("M32_UPDATE_SCREENSHOTS")
  ? new URL("../docs/", import.meta.url).pathname
  : await Deno.makeTempDir({ prefix: "m32-listener-shots-" });
const PHONE = { width: 375, height: 812 };

async function startPage(page: Page, url: string): Promise<Status> {
  await page.goto(url);
  await page.click("#start");
  return await waitStatus(
    page,
    (s) => s.state === "streaming" && s.packets_received > 300 && s.clockSynced,
    "the stream to play",
  );
}

async function pressed(page: Page, id: number, button: "mute" | "solo"): Promise<string | null> {
  return await page.getAttribute(`.strip[data-id="${id}"] .${button}`, "aria-pressed");
}

for (const transport of ["websocket", "datachannel"] as const) {
  Deno.test({
    name: `the listener page plays the mix over ${transport}, keeps settings and reconnects`,
    sanitizeOps: false,
    sanitizeResources: false,
    fn: async () => {
      let { server, dataDir } = await startToneServer({ channels: 8 });
      const port = server.httpPort;
      const { ctx } = await launchBrowser(PHONE);
      try {
        const page = await ctx.newPage();
        const errors = watchErrors(page);
        const url = `${server.url}/?transport=${transport}`;

        const res = await fetch(`${server.url}/`);
        const identity = await (await fetch(`${server.url}/listener/identity`)).json();
        assert.equal(res.headers.get("content-security-policy"), listenerCsp(identity.origins));
        await res.body?.cancel();

        await page.goto(url);
        if (transport === "websocket") {
          await page.screenshot({ path: `${SHOTS}/listener-start.png` });
        }
        await page.click("#start");
        const st = await waitStatus(
          page,
          (s) => s.state === "streaming" && s.packets_received > 300 && s.clockSynced,
          "the stream to play",
        );
        assert.equal(st.transport, transport);
        assert.equal(st.ack.encoding, "opus", "Opus is the page's default");
        assert.deepEqual(st.ack.channels, [1, 2, 3, 4, 5, 6, 7, 8]);
        const sessions = server.ctx.sessions.list();
        assert.equal(sessions.length, 1);
        assert.equal(sessions[0].kind, transport, "the admin list shows the transport");
        assert.equal(server.ctx.sessions.streamingCount, 1);

        // Everything at unity: every channel's tone is there; an unmapped one (9) is not.
        await expectMix(page, [1, 2, 3, 4, 5, 6], [9], "all channels up");

        // Mute channel 3, then solo 2 and 5.
        await page.click('.strip[data-id="3"] .mute');
        await expectMix(page, [1, 2, 4, 5], [3], "channel 3 muted");
        await page.click('.strip[data-id="2"] .solo');
        await page.click('.strip[data-id="5"] .solo');
        await expectMix(page, [2, 5], [1, 3, 4, 6], "channels 2 and 5 soloed");
        // Turn channel 5's fader all the way down.
        await page.fill('.strip[data-id="5"] input.vol', "0");
        await expectMix(page, [2], [5, 1], "channel 5 faded out");
        await page.fill('.strip[data-id="5"] input.vol', "1");

        // The layout fits a phone: no horizontal scrolling at 375 px.
        const overflow = await page.evaluate(() => {
          // deno-lint-ignore no-explicit-any
          const root = (globalThis as any).document.documentElement;
          return root.scrollWidth - root.clientWidth;
        });
        assert.equal(overflow, 0, "the page scrolls sideways at 375 px");
        if (transport === "websocket") {
          // deno-lint-ignore no-explicit-any
          await page.evaluate(() => (globalThis as any).scrollTo(0, 0));
          await page.screenshot({ path: `${SHOTS}/listener-phone.png` });
          await page.click(".strip[data-id='2'] details.eq summary");
          await page.click("details.settings summary");
          // deno-lint-ignore no-explicit-any
          await page.evaluate(() => (globalThis as any).scrollTo(0, 0));
          await page.screenshot({ path: `${SHOTS}/listener-phone-full.png`, fullPage: true });
        }

        // Settings survive a reload.
        await new Promise((r) => setTimeout(r, 500)); // the page saves 300 ms after a change
        await startPage(page, url);
        assert.equal(await pressed(page, 3, "mute"), "true");
        assert.equal(await pressed(page, 2, "solo"), "true");
        assert.equal(await pressed(page, 5, "solo"), "true");
        assert.equal(await pressed(page, 1, "solo"), "false");
        await expectMix(page, [2, 5], [1, 3, 4], "after a reload");

        // The server restarts on the same port and data directory: the page reconnects by itself.
        const before = (await waitStatus(page, (s) =>
          s.state === "streaming", "streaming")).clientId;
        const errorsBefore = errors.length;
        await server.close();
        await waitStatus(page, (s) => s.state === "reconnecting", "the page to notice");
        ({ server, dataDir } = await startToneServer({ dataDir, port }));
        const after = await waitStatus(
          page,
          (s) => s.state === "streaming" && s.clientId !== before && s.reconnects > 0,
          "the automatic reconnect",
        );
        assert.equal(after.transport, transport);
        const base = after.packets_received;
        await waitStatus(page, (s) => s.packets_received > base + 400, "packets after the restart");
        await expectMix(page, [2, 5], [1, 3, 4], "after the server restarted");

        // No console errors, except the browser's own network errors while the server was down.
        const unexpected = errors.filter((e, i) =>
          i < errorsBefore ||
          !/ERR_CONNECTION_REFUSED|WebSocket connection|Failed to load resource/.test(e)
        );
        assert.deepEqual(unexpected, []);
      } finally {
        await ctx.close();
        await server.close();
      }
    },
  });
}

Deno.test({
  name: "the listener page plays Opus split into channel groups over the unordered DataChannel",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const { server } = await startToneServer({ channels: 8 });
    // 300-byte datagrams: each packet time's 8 channels come as several group packets.
    server.ctx.store.patch({ audio: { max_datagram_bytes: 300 } });
    const { ctx } = await launchBrowser(PHONE);
    try {
      const page = await ctx.newPage();
      const errors = watchErrors(page);
      const st = await startPage(page, `${server.url}/?transport=datachannel`);
      assert.equal(st.transport, "datachannel");
      assert.ok(st.ack.channel_groups?.length > 1, JSON.stringify(st.ack.channel_groups));
      await expectMix(page, [1, 2, 3, 4, 5, 6, 7, 8], [9], "every group's channels play");
      const end = await waitStatus(page, (s) => s.packets_received > 2000, "2000 group packets");
      // Group packets lost or late on loopback are rare; each one is concealed, never a decode error.
      assert.equal(end.decodeErrors, 0);
      assert.ok(
        end.concealedGroups + end.lateGroups <= end.packets_received / 20,
        `${end.concealedGroups} concealed, ${end.lateGroups} late of ${end.packets_received}`,
      );
      assert.deepEqual(errors, []);
    } finally {
      await ctx.close();
      await server.close();
    }
  },
});
