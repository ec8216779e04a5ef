/**
 * The admin page's AES67 card in a real browser: turn the output on, pick
 * the interface (`lo`, so nothing leaves this machine) and a packet time,
 * apply, and see the streams and the clock — in English and in Korean.
 */
import assert from "node:assert/strict";
import { launchChromium, watchErrors } from "./helpers/browser.ts";
import { call, login, PASSWORD, startAdminServer } from "./admin_helpers.ts";
import { Probe } from "./helpers/probe.ts";

const UI_TIMEOUT_MS = 15_000;

Deno.test({
  name: "admin page: the AES67 card turns the output on and shows its streams and clock",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const { server } = await startAdminServer();
    const base = server.url;
    const { ctx } = await launchChromium({
      viewport: { width: 1280, height: 900 },
      timeoutMs: UI_TIMEOUT_MS,
    });
    try {
      const page = await ctx.newPage();
      const errors = watchErrors(page);
      await page.goto(`${base}/admin/`);
      await page.fill("#login-password", PASSWORD);
      await page.click("#login-form button[type=submit]");
      await page.waitForSelector("#app-view:not([hidden])");
      await page.waitForSelector('#aes67-state:text-is("Off")');
      assert.equal(await page.inputValue("#aes67-base"), "239.69.83.1");
      assert.equal(await page.inputValue("#aes67-ptime"), "1000");

      await page.check("#aes67-enabled");
      await page.selectOption("#aes67-interface", "lo");
      await page.selectOption("#aes67-ptime", "250");
      await page.fill("#aes67-cps", "9");
      // Out of range: the field is marked and Apply stays off.
      assert.equal(await page.isDisabled("#aes67-save"), true);
      await page.fill("#aes67-cps", "4");
      await page.click("#aes67-save");
      await page.waitForSelector('#aes67-state:text-is("Sending 8 streams")');
      await page.waitForSelector("#aes67-streams tr:nth-child(8)");
      const rows = await page.$$eval(
        "#aes67-streams tr",
        (trs) => trs.map((tr) => [...tr.querySelectorAll("td")].map((td) => td.textContent)),
      );
      assert.deepEqual(rows[0], ["m32-server 1", "239.69.83.1:5004", "1, 2, 3, 4"]);
      assert.deepEqual(rows[7], ["m32-server 8", "239.69.83.8:5004", "29, 30, 31, 32"]);
      assert.match(
        await page.textContent("#aes67-clock") ?? "",
        /^(PTP, grandmaster|System clock \(no PTP lock\), MAC 00-00-00-00-00-00)/,
      );
      if (Deno.env.get("M32_UPDATE_SCREENSHOTS")) {
        await page.locator("section[aria-labelledby=h-aes67]").screenshot({
          path: new URL("../docs/screenshots/admin-aes67.png", import.meta.url).pathname,
        });
      }

      const cookie = await login(base);
      const cfg = (await call(base, "GET", "/api/admin/config", { cookie })).body.aes67.output;
      assert.deepEqual(
        {
          enabled: cfg.enabled,
          interface: cfg.interface,
          ptime: cfg.ptime_us,
          cps: cfg.channels_per_stream,
        },
        { enabled: true, interface: "lo", ptime: 250, cps: 4 },
      );
      const health = (await call(base, "GET", "/health")).body;
      assert.equal(health.aes67.output, "sending");
      assert.equal(health.aes67.streams, 8);

      await page.selectOption("#language", "ko");
      await page.waitForSelector('#aes67-state:text-is("스트림 8개 송출 중")');
      assert.equal(await page.textContent("#h-aes67"), "AES67 출력 (유선 네트워크)");
      assert.deepEqual(errors, []);
    } finally {
      await ctx.close();
      await server.close();
    }
  },
});

Deno.test({
  name:
    "admin page: turning the AES67 output on while a phone streams asks first (the source reopens), Cancel stores nothing",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const { server } = await startAdminServer();
    const base = server.url;
    const { probe } = await Probe.streaming(base, { channels: [{ id: 1 }] });
    const { ctx } = await launchChromium({
      viewport: { width: 390, height: 844 },
      timeoutMs: UI_TIMEOUT_MS,
    });
    try {
      await probe.waitPackets(5);
      const page = await ctx.newPage();
      const errors = watchErrors(page);
      await page.goto(`${base}/admin/`);
      await page.fill("#login-password", PASSWORD);
      await page.click("#login-form button[type=submit]");
      await page.waitForSelector('#aes67-state:text-is("Off")');
      const cookie = await login(base);
      const enabled = async () =>
        (await call(base, "GET", "/api/admin/config", { cookie })).body.aes67.output.enabled;

      await page.check("#aes67-enabled");
      await page.selectOption("#aes67-interface", "lo");
      await page.click("#aes67-save");
      await page.waitForSelector("#confirm[open]");
      assert.equal(
        await page.textContent("#confirm-text"),
        "Saving the AES67 output on/off reopens the audio source: the sound stops briefly on 1 phone; no phone is disconnected.",
      );
      await page.click("#confirm-cancel");
      await page.waitForSelector("#confirm[open]", { state: "detached" });
      assert.equal(await enabled(), false, "Cancel sent nothing");

      await page.click("#aes67-save");
      await page.waitForSelector("#confirm[open]");
      await page.click("#confirm-ok");
      await page.waitForSelector('#aes67-state:text-is("Sending 4 streams")');
      assert.equal(
        await page.textContent("#aes67-status"),
        "Saved. The source reopens once; phones keep their sessions.",
      );
      assert.equal(await enabled(), true);
      // The phone's session went on: packets keep coming on the same session.
      const seen = probe.packets.length;
      await probe.waitPackets(seen + 20);
      assert.equal(probe.closeCode, null);
      assert.deepEqual(errors, []);
    } finally {
      await ctx.close();
      await probe.close();
      await server.close();
    }
  },
});
