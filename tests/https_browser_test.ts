/**
 * The admin page's "Secure listener page (HTTPS)" card in a real browser:
 * turn HTTPS on, see the addresses and the fingerprint, switch the QR code
 * between the secure and the plain page (decoded with zbarimg), and open the
 * listener page over HTTPS as a secure context.
 */
import assert from "node:assert/strict";
import { launchChromium, watchErrors, zbar } from "./helpers/browser.ts";
import { freePort } from "./helpers/server.ts";
import { call, login, PASSWORD, startAdminServer } from "./admin_helpers.ts";

const UI_TIMEOUT_MS = 15_000;

Deno.test({
  name: "the admin page turns HTTPS on, shows the fingerprint and offers both QR codes",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const { server, dataDir } = await startAdminServer();
    const base = server.url;
    const { ctx, profile } = await launchChromium({
      viewport: { width: 1280, height: 900 },
      timeoutMs: UI_TIMEOUT_MS,
      ignoreHTTPSErrors: true,
    });
    try {
      const page = await ctx.newPage();
      const errors = watchErrors(page);
      await page.goto(`${base}/admin/`);
      await page.fill("#login-password", PASSWORD);
      await page.click("#login-form button[type=submit]");
      await page.waitForSelector("#app-view:not([hidden])");
      await page.waitForSelector('#https-state:has-text("off")');
      assert.equal(await page.isChecked("#https-enabled"), false);
      assert.equal(await page.inputValue("#https-port"), "8443");
      assert.equal(await page.isHidden("#qr-switch"), true, "one code while HTTPS is off");
      assert.match((await page.textContent(".https-help"))!, /Advanced/);
      assert.match((await page.textContent(".https-help"))!, /Show Details/);

      // A port below 1024 cannot be applied.
      await page.check("#https-enabled");
      await page.fill("#https-port", "443");
      assert.equal(await page.isDisabled("#https-save"), true);

      const port = freePort();
      await page.fill("#https-port", String(port));
      await page.click("#https-save");
      await page.waitForSelector(`#https-state:has-text("on · port ${port}")`);
      const st = (await call(base, "GET", "/api/admin/https", { cookie: await login(base) })).body;
      assert.equal(st.listening, true);
      assert.equal(await page.textContent("#https-fingerprint"), st.page_certificate.sha256);
      const urls = await page.locator("#https-urls li").allTextContents();
      assert.deepEqual(urls, st.urls);

      // The QR code opens the secure page by default; the switch shows the plain one.
      const qr = await page.evaluate(() => fetch("/api/admin/qr").then((r) => r.json()));
      if (qr.addresses.length > 0) {
        await page.waitForSelector("#qr-switch:not([hidden])");
        assert.equal(await page.textContent("#qr-url"), qr.https.url);
        assert.equal(await zbar(await page.locator("#qr").screenshot()), qr.https.url);
        await page.click("#qr-show-http");
        assert.equal(await page.textContent("#qr-url"), qr.url);
        assert.equal(await zbar(await page.locator("#qr").screenshot()), qr.url);
      }

      // Phone width: still no horizontal overflow with the new card.
      await page.setViewportSize({ width: 375, height: 812 });
      const [scrollWidth, clientWidth] = await page.evaluate<number[]>(
        "[document.documentElement.scrollWidth, document.documentElement.clientWidth]",
      );
      assert.ok(scrollWidth <= clientWidth, `scrollWidth ${scrollWidth} > ${clientWidth}`);

      // The listener page over HTTPS is a secure context (what AudioWorklet and WebTransport need).
      const phone = await ctx.newPage();
      await phone.goto(`https://127.0.0.1:${port}/`);
      const secure = await phone.evaluate("[window.isSecureContext, typeof AudioWorkletNode]");
      assert.deepEqual(secure, [true, "function"]);
      await phone.close();

      // Off again from the page.
      await page.uncheck("#https-enabled");
      await page.click("#https-save");
      await page.waitForSelector('#https-state:has-text("off")');
      await page.waitForSelector("#qr-switch[hidden]", { state: "attached" });
      assert.deepEqual(errors, []);
    } finally {
      await ctx.close();
      await server.close();
      await Deno.remove(profile, { recursive: true }).catch(() => {});
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    }
  },
});
