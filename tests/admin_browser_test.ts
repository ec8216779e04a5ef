/**
 * The admin page in a real browser (playwright-core driving Debian's
 * chromium): log in, edit the channel table, check /audio-meta, decode the
 * QR code with zbarimg, check the phone layout, and save the screenshots in
 * docs/ (admin-desktop.png, admin-phone.png).
 */
import assert from "node:assert/strict";
import type { BrowserContext } from "playwright-core";
import { launchChromium, watchErrors, zbar } from "./helpers/browser.ts";
import { call, PASSWORD, startAdminServer, streamingClient } from "./admin_helpers.ts";

/** Screenshots go to docs/ only when asked (M32_UPDATE_SCREENSHOTS=1), so a test run leaves the tree clean. */
const DOCS = Deno.env.get("M32_UPDATE_SCREENSHOTS")
  ? new URL("../docs/", import.meta.url)
  : new URL(`file://${Deno.makeTempDirSync({ prefix: "m32-shots-" })}/`);
const UI_TIMEOUT_MS = 15_000;

function launch(): Promise<{ ctx: BrowserContext; profile: string }> {
  return launchChromium({ viewport: { width: 1280, height: 900 }, timeoutMs: UI_TIMEOUT_MS });
}

Deno.test({
  name: "the admin page edits channels, shows a scannable QR code and fits a phone screen",
  // playwright keeps its own pipes to the browser; they close with the context.
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const { server } = await startAdminServer();
    const base = server.url;
    const { ctx, profile } = await launch();
    const clients = [await streamingClient(base), await streamingClient(base)];
    let qosTimer: ReturnType<typeof setInterval> | undefined;
    try {
      // Two clients report QoS so the table and the charts have something to show.
      let tick = 0;
      const report = () => {
        tick++;
        clients.forEach((c, i) =>
          call(base, "POST", "/qos-metrics", {
            body: {
              client_id: c.clientId,
              metrics: {
                packets_received: 1000 * tick,
                packets_expected: 1000 * tick + i * 3,
                packet_loss_rate: i * 0.003 + (tick % 3) * 0.001,
                jitter_ms: 2 + i * 3 + (tick % 4),
                latency_ms: 18 + i * 9 + (tick % 5) * 2,
                bandwidth_mbps: 4.6,
              },
            },
          })
        );
      };
      report();
      qosTimer = setInterval(report, 500);

      const page = await ctx.newPage();
      const errors = watchErrors(page);
      await page.goto(`${base}/admin/`);
      await page.fill("#login-password", PASSWORD);
      await page.click("#login-form button[type=submit]");
      await page.waitForSelector("#app-view:not([hidden])");
      await page.waitForSelector("#channels-body tr:nth-child(32)");
      // The overview shows the source state /health shows.
      await page.waitForSelector('#st-state:text-is("running")');
      assert.equal((await call(base, "GET", "/health")).body.source_state, "running");
      await page.waitForSelector('#st-rate:has-text("48 kHz")'); // the overview's current rate

      // Rename channel 2, stop sending channel 4, move channel 3 above channel 2.
      await page.fill('#channels-body input[type=text][data-id="2"]', "Lead Vox");
      await page.uncheck('#channels-body input[type=checkbox][data-id="4"]');
      await page.click('#channels-body button[data-move="up"][data-id="3"]');
      await page.click("#channels-save");
      // The new mapping restarts the two streaming clients: the page asks first.
      await page.waitForSelector("#confirm[open]");
      await page.click("#confirm-ok");
      await page.waitForSelector('#channels-status:has-text("Saved")');
      const meta = (await call(base, "GET", "/audio-meta")).body;
      const ids = meta.channels.map((c: { id: number }) => c.id);
      assert.deepEqual(ids.slice(0, 4), [1, 3, 2, 5]);
      assert.equal(ids.length, 31);
      assert.ok(!ids.includes(4));
      assert.equal(meta.channels[2].name, "Lead Vox");
      assert.deepEqual(
        meta.channels.map((c: { order: number }) => c.order),
        ids.map((_: number, i: number) => i + 1),
      );

      // The QR code decodes to the address the API advertises (and the page prints).
      const qr = await page.evaluate(() => fetch("/api/admin/qr").then((r) => r.json()));
      assert.ok(qr.url, `the server advertises an address: ${qr.note}`);
      assert.equal(await page.textContent("#qr-url"), qr.url);
      const png = await page.locator("#qr").screenshot();
      assert.equal(await zbar(png), qr.url);

      // Clients that re-joined after the channel change show up live, with QoS figures.
      const again = [await streamingClient(base), await streamingClient(base)];
      clients.push(...again);
      await Promise.all(clients.splice(0, 2).map((c) => c.close()));
      await page.waitForSelector("#clients-body tr:nth-child(2):last-child");
      // Four samples (one every 2 s) make a line worth a screenshot.
      await page.waitForSelector('#chart-latency[data-points="4"] path.line', {
        state: "attached",
      });
      await page.fill("#message-text", "Soundcheck starts in 5 minutes");
      await page.screenshot({ path: new URL("admin-desktop.png", DOCS).pathname, fullPage: true });

      // Phone: no horizontal overflow at 375 px.
      await page.setViewportSize({ width: 375, height: 812 });
      await page.evaluate("window.scrollTo(0, 0)");
      const [scrollWidth, clientWidth] = await page.evaluate<number[]>(
        "[document.documentElement.scrollWidth, document.documentElement.clientWidth]",
      );
      assert.ok(
        scrollWidth <= clientWidth,
        `scrollWidth ${scrollWidth} > clientWidth ${clientWidth}`,
      );
      await page.screenshot({ path: new URL("admin-phone.png", DOCS).pathname });

      assert.deepEqual(errors, []);
    } finally {
      clearInterval(qosTimer);
      await ctx.close();
      await Promise.all(clients.map((c) => c.close()));
      await server.close();
      await Deno.remove(profile, { recursive: true });
    }
  },
});
