/**
 * The admin page's AES67 input card in a real browser at phone size: SAP
 * announcements built by hand (RFC 2974) are multicast on `lo` (IP_MULTICAST_IF
 * lo, so nothing leaves this machine) to the server's SAP listener; the card
 * lists the sender and its streams, the admin picks the sender, turns the
 * input on and applies — asked first, since a phone is streaming — and the
 * configuration holds it; the card then shows the source's state and the
 * error of a stream that delivers nothing. With M32_UPDATE_SCREENSHOTS=1 it
 * writes docs/screenshots/admin-aes67-input.png.
 */
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { sapPacket, streamSdp } from "../src/aes67/sap_test_packets.ts";
import { setMulticastSending } from "../src/aes67/multicast.ts";
import { findUdpSocketFd } from "../src/net/socket_fd.ts";
import { launchChromium, watchErrors } from "./helpers/browser.ts";
import { freePort } from "./helpers/server.ts";
import { docScreenshot, PHONE } from "./listener_helpers.ts";
import { call, login, PASSWORD, streamingClient } from "./admin_helpers.ts";
import { startServer } from "../src/server.ts";

const UI_TIMEOUT_MS = 15_000;
const LO = "127.0.0.1";
const SAP_GROUP = "239.255.255.255";
/** The smallest comfortable touch target (Apple HIG, WCAG 2.5.5). */
const TOUCH_PX = 44;

/** A socket whose multicast leaves through `lo` only. */
function loSender(): Deno.DatagramConn {
  const conn = Deno.listenDatagram({ transport: "udp", hostname: LO, port: 0 });
  const port = (conn.addr as Deno.NetAddr).port;
  const ifindex = Number(Deno.readTextFileSync("/sys/class/net/lo/ifindex").trim());
  setMulticastSending(findUdpSocketFd(port, LO), { ifindex, ttl: 1 });
  return conn;
}

/** Controls of the AES67 input card smaller than 44 × 44 px (through their label). */
function smallTargets(page: Page): Promise<{ checked: number; small: string[] }> {
  return page.evaluate(`(() => {
    const min = ${TOUCH_PX};
    const small = [];
    let checked = 0;
    const card = document.getElementById("aes67-in-form");
    for (const el of card.querySelectorAll("button, input, select")) {
      if (!el.checkVisibility()) continue;
      checked++;
      const box = el.getBoundingClientRect();
      if (box.width >= min && box.height >= min) continue;
      const label = el.closest("label")?.getBoundingClientRect();
      if (label && label.width >= min && label.height >= min) continue;
      small.push((el.id || el.value) + ": " + Math.round(box.width) + "×" + Math.round(box.height));
    }
    return { checked, small };
  })()`);
}

Deno.test({
  name:
    "admin page: the AES67 input card lists the SAP sessions heard, takes a sender and shows the source",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const sapPort = freePort();
    const dataDir = await Deno.makeTempDir({ prefix: "m32-aes67-in-admin-" });
    const server = await startServer({
      httpPort: 0,
      rtpPort: 0,
      hostname: LO,
      dataDir,
      source: "test",
      sender: "deno",
      adminPassword: PASSWORD,
      // The SAP listener and the input's group joins on lo: nothing is joined elsewhere.
      sap: { port: sapPort, interfaceAddress: LO },
      aes67: { session: "", interfaceAddress: LO },
    });
    const base = server.url;
    const tx = loSender();
    const announce = async () => {
      for (const k of [1, 2]) {
        const sdp = streamSdp({
          name: `Stage A ${k}`,
          sessionId: 100 + k,
          origin: "192.0.2.77",
          group: `239.69.215.${k}`,
          channels: 8,
        });
        await tx.send(sapPacket(sdp, { msgIdHash: 0x100 + k }), {
          transport: "udp",
          hostname: SAP_GROUP,
          port: sapPort,
        });
      }
    };
    let phone: Awaited<ReturnType<typeof streamingClient>> | null = null;
    const { ctx, profile } = await launchChromium({ viewport: PHONE, timeoutMs: UI_TIMEOUT_MS });
    try {
      const cookie = await login(base);
      // The listener heard both streams before the page asks (announced again until it has:
      // a datagram may be lost on a loaded host, as SAP allows).
      let heard = 0;
      for (let i = 0; i < 50 && heard < 2; i++) {
        await announce();
        await new Promise((r) => setTimeout(r, 100));
        heard = (await call(base, "GET", "/api/admin/aes67/sessions", { cookie })).body.sessions
          .length;
      }
      assert.equal(heard, 2, "the SAP listener did not hear the announcements on lo");
      const page = await ctx.newPage();
      const errors = watchErrors(page);
      await page.goto(`${base}/admin/`);
      await page.fill("#login-password", PASSWORD);
      await page.click("#login-form button[type=submit]");
      await page.waitForSelector("#app-view:not([hidden])");
      await page.waitForSelector('#aes67-in-state:text-is("Off")');
      await page.waitForSelector("#aes67-in-list label:nth-child(3)");
      const rows = await page.$$eval(
        "#aes67-in-list label",
        (ls) => ls.map((l) => [l.querySelector("input")?.getAttribute("value"), l.textContent]),
      );
      assert.deepEqual(rows.map((r) => r[0]), ["Stage A", "Stage A 1", "Stage A 2"]);
      assert.match(rows[0][1] ?? "", /Stage A: all 2 streams.*16 channels · from 192\.0\.2\.77/);
      assert.match(
        rows[1][1] ?? "",
        /239\.69\.215\.1 · 8 ch · 1 ms · from 192\.0\.2\.77 · clock localmac=02-00-00-00-00-01 · heard (now|\d+ s ago)/,
      );
      assert.equal(await page.isDisabled("#aes67-in-save"), true);

      // On with nothing chosen: Apply stays off and says why.
      await page.check("#aes67-in-enabled");
      assert.equal(await page.isDisabled("#aes67-in-save"), true);
      assert.equal(await page.textContent("#aes67-in-status"), "Choose a session or type one in.");
      // The sender: all its streams.
      await page.check('#aes67-in-list input[value="Stage A"]');
      assert.equal(await page.inputValue("#aes67-in-session"), "Stage A");
      const targets = await smallTargets(page);
      assert.ok(targets.checked >= 6, `only ${targets.checked} controls found`);
      assert.deepEqual(targets.small, []);
      const fits = await page.evaluate(
        "document.documentElement.scrollWidth <= window.innerWidth",
      );
      assert.equal(fits, true, "the page is wider than the phone");

      // A phone streams (from now: it sends no heartbeat).
      phone = await streamingClient(base);
      // With the input off, a session is only stored: nothing is asked, the source stays.
      await page.uncheck("#aes67-in-enabled");
      await page.check('#aes67-in-list input[value="Stage A 2"]');
      await page.click("#aes67-in-save");
      await page.waitForSelector(
        '#aes67-in-status:text-is("Saved. The source stays as it is until the input is turned on.")',
      );
      assert.equal(await page.isVisible("#confirm"), false);
      let cfg = (await call(base, "GET", "/api/admin/config", { cookie })).body;
      assert.deepEqual(cfg.aes67.input, { enabled: false, session: "Stage A 2" });
      // Turning it on with the sender: the switch asks first; Cancel sends nothing.
      await page.check("#aes67-in-enabled");
      await page.check('#aes67-in-list input[value="Stage A"]');
      await page.click("#aes67-in-save");
      await page.waitForSelector("#confirm[open]");
      assert.match(
        await page.textContent("#confirm-text") ?? "",
        /^Saving the AES67 input reopens the audio source: the sound stops briefly on 1 phone; no phone is disconnected\.$/,
      );
      await page.click("#confirm-cancel");
      await page.waitForSelector("#confirm", { state: "hidden" });
      cfg = (await call(base, "GET", "/api/admin/config", { cookie })).body;
      assert.deepEqual(cfg.aes67.input, { enabled: false, session: "Stage A 2" });

      await page.click("#aes67-in-save");
      await page.waitForSelector("#confirm[open]");
      await page.click("#confirm-ok");
      await page.waitForSelector(
        '#aes67-in-status:text-is("Saved. The source reopens; phones keep their sessions.")',
      );
      cfg = (await call(base, "GET", "/api/admin/config", { cookie })).body;
      assert.deepEqual(cfg.aes67.input, { enabled: true, session: "Stage A" });
      assert.equal(await page.isChecked('#aes67-in-list input[value="Stage A"]'), true);

      // The source is now the AES67 input; no RTP arrives, so it names the silent stream.
      await page.waitForSelector("#aes67-in-error:not([hidden])");
      assert.match(
        await page.textContent("#aes67-in-error") ?? "",
        /^Source error: AES67 stream "Stage A 1" \(239\.69\.215\.1:5004\) delivered nothing/,
      );
      assert.match(await page.textContent("#aes67-in-state") ?? "", /^Source: /);
      const health = (await call(base, "GET", "/health")).body;
      assert.equal(health.source_state === "error" || health.source_state === "starting", true);

      await page.locator("section[aria-labelledby=h-aes67-in]").evaluate((el) =>
        el.scrollIntoView({ block: "start" })
      );
      await docScreenshot(page, "admin-aes67-input");

      await page.selectOption("#language", "ko");
      await page.waitForSelector('#h-aes67-in:text-is("AES67 입력 (유선 네트워크)")');
      assert.match(
        await page.textContent("#aes67-in-list label:first-child") ?? "",
        /Stage A: 스트림 2개 전부/,
      );
      assert.match(await page.textContent("#aes67-in-error") ?? "", /^소스 오류: /);
      // Chromium logs nothing but what the page does on purpose.
      assert.deepEqual(errors, []);
    } finally {
      await ctx.close();
      await phone?.close();
      tx.close();
      await server.close();
      await Deno.remove(profile, { recursive: true }).catch(() => {});
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    }
  },
});
