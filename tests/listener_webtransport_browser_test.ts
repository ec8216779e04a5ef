/**
 * The listener page on HTTPS in a real browser (playwright-core driving
 * Debian's chromium with a fake audio output; the self-signed page
 * certificate accepted as a musician would): a secure context, so the page
 * picks WebTransport datagrams (the transport certificate verified by its
 * hash) and AudioWorklet playout on its own. The server sends its `tone`
 * test signal (channel id = id × 100 Hz); the AnalyserNode after the
 * worklet has the tones of the channels turned up and not of those muted or
 * soloed away. When the WebTransport session is lost the page reconnects
 * over WebTransport. The datagrams are received and decoded in the page's
 * audio worker, so a busy main thread does not stop the audio. A
 * phone-sized screenshot goes to docs/ only with M32_UPDATE_SCREENSHOTS=1.
 */
import assert from "node:assert/strict";
import {
  expectMix,
  freePort,
  launchBrowser,
  startToneServer,
  status,
  waitStatus,
  watchErrors,
} from "./listener_helpers.ts";

/**
 * Chrome refuses to register a service worker on a page whose certificate the
 * phone does not trust (this test's self-signed page certificate), and says so
 * on the console; the page plays without it (docs/listener.md, Installable).
 */
const SW_ON_UNTRUSTED_CERT = /An SSL certificate error occurred when fetching the script/;

const SHOTS = Deno.env.get("M32_UPDATE_SCREENSHOTS")
  ? new URL("../docs/", import.meta.url).pathname
  : await Deno.makeTempDir({ prefix: "m32-listener-shots-" });
const PHONE = { width: 375, height: 812 };

Deno.test({
  name: "on HTTPS the listener page plays the mix over WebTransport through an AudioWorklet",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const httpsPort = freePort();
    const { server } = await startToneServer({ channels: 8, httpsPort });
    const { ctx } = await launchBrowser(PHONE, { https: true });
    try {
      const page = await ctx.newPage();
      const errors = watchErrors(page);
      await page.goto(`https://127.0.0.1:${httpsPort}/`);
      // deno-lint-ignore no-explicit-any
      assert.equal(await page.evaluate(() => (globalThis as any).isSecureContext), true);
      await page.click("#start");
      const st = await waitStatus(
        page,
        (s) => s.state === "streaming" && s.packets_received > 300 && s.clockSynced,
        "the stream to play",
      );
      assert.equal(st.transport, "webtransport", "auto picks WebTransport on HTTPS");
      assert.equal(st.playout, "worklet", "auto picks the AudioWorklet on HTTPS");
      assert.equal(st.audioPath, "worker", "the audio worker receives and decodes");
      assert.equal(st.ack.encoding, "opus");
      assert.deepEqual(st.ack.channels, [1, 2, 3, 4, 5, 6, 7, 8]);
      assert.equal(await page.textContent("#q-transport"), "WebTransport");
      const sessions = server.ctx.sessions.list();
      assert.equal(sessions.length, 1);
      assert.equal(sessions[0].kind, "webtransport", "the admin list shows the transport");
      assert.equal(server.ctx.sessions.streamingCount, 1);

      await expectMix(page, [1, 2, 3, 4, 5, 6], [9], "all channels up");
      await page.click('.strip[data-id="3"] .mute');
      await expectMix(page, [1, 2, 4, 5], [3], "channel 3 muted");
      await page.click('.strip[data-id="2"] .solo');
      await page.click('.strip[data-id="5"] .solo');
      await expectMix(page, [2, 5], [1, 3, 4, 6], "channels 2 and 5 soloed");

      // deno-lint-ignore no-explicit-any
      await page.evaluate(() => (globalThis as any).scrollTo(0, 0));
      await page.screenshot({ path: `${SHOTS}/listener-phone-https.png` });

      // The WebTransport session is lost (the server ends it): the page reconnects, over WebTransport.
      const before = st.clientId;
      server.ctx.sessions.end(server.ctx.sessions.list()[0], "test: connection lost");
      const after = await waitStatus(
        page,
        (s) => s.state === "streaming" && s.clientId !== before && s.packets_received > 100,
        "the reconnect",
      );
      assert.equal(after.transport, "webtransport");
      assert.equal(after.audioPath, "worker");
      await expectMix(page, [2, 5], [1, 3, 4], "after the reconnect");
      assert.deepEqual(errors.filter((e) => !SW_ON_UNTRUSTED_CERT.test(e)), []);
    } finally {
      await ctx.close();
      await server.close();
    }
  },
});

Deno.test({
  name: "on HTTPS a busy main thread does not stop the audio (the audio worker feeds the worklet)",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const httpsPort = freePort();
    const { server } = await startToneServer({ channels: 4, httpsPort });
    const { ctx } = await launchBrowser(PHONE, { https: true });
    try {
      const page = await ctx.newPage();
      const errors = watchErrors(page);
      await page.goto(`https://127.0.0.1:${httpsPort}/`);
      await page.click("#start");
      await waitStatus(
        page,
        (s) => s.state === "streaming" && s.packets_received > 300 && s.clockSynced,
        "the stream to play",
      );
      await page.click('.strip[data-id="3"] .mute');
      await expectMix(page, [1, 2, 4], [3], "channel 3 muted");
      // A slow phone rendering while a fader moves: the main thread blocked 30 ms every 200 ms.
      await page.evaluate(() => {
        setInterval(() => {
          const t = performance.now();
          while (performance.now() - t < 30);
        }, 200);
      });
      await new Promise((r) => setTimeout(r, 2000)); // the jitter buffer settles
      const sent = () => server.ctx.sessions.list()[0]?.stream?.packetsSent ?? NaN;
      const before = await status(page);
      const sentBefore = sent();
      assert.equal(before.audioPath, "worker");
      await expectMix(page, [1, 2, 4], [3], "with the main thread busy");
      // Time in the server's own packets: 600 more sent (3 s of 5 ms frames) while the page stalls…
      await waitStatus(page, () => sent() >= sentBefore + 600, "the server to send 600 packets");
      const sentDuring = sent() - sentBefore;
      // …and every one of them reaches the page (or is concealed as lost): none held up behind
      // the busy main thread. The packets sent before `before` still in flight count for those
      // sent last and not yet arrived.
      const after = await waitStatus(
        page,
        (s) =>
          s.packets_received - before.packets_received + (s.jb.concealed - before.jb.concealed) >=
            sentDuring,
        "the page to receive what the server sent",
      );
      assert.equal(after.state, "streaming");
      const packets = after.packets_received - before.packets_received;
      assert.equal(after.underruns, before.underruns, "no underruns while the main thread is busy");
      assert.equal(after.jb.resyncs, before.jb.resyncs, "no jitter-buffer resync");
      // A loaded 2-core machine conceals the odd packet with or without the stall; a
      // stalled audio path would conceal (or resync) whole bursts of them.
      assert.ok(after.jb.concealed - before.jb.concealed <= packets / 20, "no gaps in the audio");
      assert.equal(after.decodeErrors, 0);
      assert.deepEqual(errors.filter((e) => !SW_ON_UNTRUSTED_CERT.test(e)), []);
    } finally {
      await ctx.close();
      await server.close();
    }
  },
});

Deno.test({
  name: "on HTTPS without WebTransport on the server the page falls back to the DataChannel",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const httpsPort = freePort();
    // Something else holds the UDP port: the QUIC endpoint cannot start, HTTPS still serves.
    const blocker = Deno.listenDatagram({ hostname: "0.0.0.0", port: httpsPort, transport: "udp" });
    const { server } = await startToneServer({ channels: 4, httpsPort });
    const { ctx } = await launchBrowser(PHONE, { https: true });
    try {
      const r = await fetch(`${server.url}/listener/webtransport`);
      assert.equal(r.status, 409);
      await r.body?.cancel();
      const page = await ctx.newPage();
      await page.goto(`https://127.0.0.1:${httpsPort}/`);
      await page.click("#start");
      const st = await waitStatus(
        page,
        (s) => s.state === "streaming" && s.packets_received > 200,
        "the stream to play",
      );
      assert.equal(st.transport, "datachannel", JSON.stringify(st));
      assert.equal(st.playout, "worklet");
      await expectMix(page, [1, 2, 3, 4], [9], "all channels up");
    } finally {
      await ctx.close();
      await server.close();
      blocker.close();
    }
  },
});

Deno.test({
  name:
    "on HTTPS a WebTransport session that does not open makes the page fall back to the DataChannel",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const httpsPort = freePort();
    const { server } = await startToneServer({ channels: 4, httpsPort });
    const { ctx } = await launchBrowser(PHONE, { https: true });
    try {
      const page = await ctx.newPage();
      // The page is told a certificate hash that is not the server's: the handshake fails.
      await page.route("**/listener/webtransport", async (route) => {
        const res = await route.fetch();
        const offer = await res.json();
        await route.fulfill({
          response: res,
          json: { ...offer, certificate_sha256: "ab".repeat(32) },
        });
      });
      await page.goto(`https://127.0.0.1:${httpsPort}/`);
      await page.click("#start");
      const st = await waitStatus(
        page,
        (s) => s.state === "streaming" && s.transport === "datachannel" && s.packets_received > 200,
        "the DataChannel fallback",
      );
      assert.equal(st.playout, "worklet");
      assert.ok(!server.ctx.sessions.list().some((s) => s.kind === "webtransport" && s.stream));
      await expectMix(page, [1, 2, 3, 4], [9], "all channels up");
    } finally {
      await ctx.close();
      await server.close();
    }
  },
});
