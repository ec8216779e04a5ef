/**
 * The admin page on a phone (Chromium at 390 × 844 via playwright-core):
 * asking before a save that restarts the phones' audio, a wrong current
 * password that keeps the session, the clients table naming each phone and
 * fitting the screen, a phone's RTCP receiver report in its row, channel
 * reordering by drag and by keyboard, and 44 px touch targets. With
 * M32_UPDATE_SCREENSHOTS=1 it writes docs/screenshots/admin-*.png.
 */
import assert from "node:assert/strict";
import type { BrowserContext, Page } from "playwright-core";
import { launchChromium, watchErrors } from "./helpers/browser.ts";
import {
  call,
  IPHONE_UA,
  login,
  PASSWORD,
  PIXEL_UA,
  startAdminServer,
  streamingClient,
} from "./admin_helpers.ts";
import type { RunningServer } from "../src/server.ts";
import { parseRtp } from "../src/rtp/packet.ts";
import { writeReceiverReport } from "../src/rtp/rtcp.ts";

const SHOTS = Deno.env.get("M32_UPDATE_SCREENSHOTS")
  ? new URL("../docs/screenshots/", import.meta.url)
  : new URL(`file://${Deno.makeTempDirSync({ prefix: "m32-shots-" })}/`);
const PHONE = { width: 390, height: 844 };
const UI_TIMEOUT_MS = 15_000;
/** The smallest comfortable touch target (Apple HIG, WCAG 2.5.5). */
const TOUCH_PX = 44;

type Client = Awaited<ReturnType<typeof streamingClient>>;

/** A server, some streaming phones, Chromium at phone size and the admin page logged in. */
async function withAdminPage(
  userAgents: (string | undefined)[],
  fn: (page: Page, base: string, clients: Client[]) => Promise<void>,
  /** Console errors the test provokes on purpose (Chromium logs every 4xx answer). */
  expected: RegExp | null = null,
): Promise<void> {
  const { server } = await startAdminServer();
  const clients: Client[] = [];
  let browser: { ctx: BrowserContext; profile: string } | null = null;
  try {
    for (const ua of userAgents) clients.push(await streamingClient(server.url, ua));
    browser = await launchChromium({ viewport: PHONE, timeoutMs: UI_TIMEOUT_MS });
    const page = await browser.ctx.newPage();
    const errors = watchErrors(page);
    await logIn(page, server);
    await fn(page, server.url, clients);
    assert.deepEqual(errors.filter((e) => !expected?.test(e)), []);
  } finally {
    await browser?.ctx.close();
    await Promise.all(clients.map((c) => c.close()));
    await server.close();
    if (browser) await Deno.remove(browser.profile, { recursive: true });
  }
}

async function logIn(page: Page, server: RunningServer): Promise<void> {
  await page.goto(`${server.url}/admin/`);
  await page.fill("#login-password", PASSWORD);
  await page.click("#login-form button[type=submit]");
  await page.waitForSelector("#app-view:not([hidden])");
  await page.waitForSelector("#channels-body tr:nth-child(32)");
  await page.waitForSelector('#live-state:text-is("live")');
}

function configChangedEvents(c: Client): number {
  return c.sock.messages.filter((m) => m.type === "event" && m.payload.type === "config_changed")
    .length;
}

/** Display order of the channel table, as ids. */
function rowIds(page: Page): Promise<number[]> {
  return page.$$eval("#channels-body tr", (rows) => rows.map((r) => Number(r.dataset.row)));
}

Deno.test({
  name:
    "a save that restarts the phones' audio asks first, naming how many; Cancel changes nothing",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () =>
    withAdminPage([IPHONE_UA, PIXEL_UA], async (page, base, clients) => {
      const cookie = await login(base);
      const before = (await call(base, "GET", "/api/admin/config", { cookie })).body;

      // Jitter thresholds are not on the wire: saved without a question.
      await page.fill('[name="jitter.drop"]', "250");
      await page.click("#settings-save");
      await page.waitForSelector('#settings-status:has-text("Saved")');
      assert.equal(await page.evaluate<boolean>('document.getElementById("confirm").open'), false);

      // DSCP is: the page asks, naming the two streaming phones.
      await page.fill('[name="network.dscp"]', "34");
      await page.click("#settings-save");
      await page.waitForSelector("#confirm[open]");
      const text = await page.textContent("#confirm-text");
      assert.match(text ?? "", /restarts audio on 2 phones/);
      await page.screenshot({ path: new URL("admin-confirm.png", SHOTS).pathname });

      // Cancel: nothing sent, nobody restarted, the edit is still there to save.
      await page.click("#confirm-cancel");
      await page.waitForSelector("#confirm:not([open])", { state: "attached" });
      await page.waitForSelector('#settings-status:has-text("Not saved")');
      const after = (await call(base, "GET", "/api/admin/config", { cookie })).body;
      assert.equal(after.network.dscp, before.network.dscp);
      assert.equal(after.config_version, before.config_version + 1); // the jitter save only
      assert.deepEqual(clients.map(configChangedEvents), [0, 0]);
      assert.equal((await call(base, "GET", "/api/admin/clients", { cookie })).body.length, 2);
      assert.equal(await page.inputValue('[name="network.dscp"]'), "34");
      assert.equal(await page.isEnabled("#settings-save"), true);

      // Confirm: saved, and both phones are told to reconnect.
      await page.click("#settings-save");
      await page.waitForSelector("#confirm[open]");
      await page.click("#confirm-ok");
      await page.waitForSelector('#settings-status:has-text("2 streams restarted")');
      assert.equal(
        (await call(base, "GET", "/api/admin/config", { cookie })).body.network.dscp,
        34,
      );
      await Promise.all(clients.map((c) =>
        c.sock.next(
          (m) => m.type === "event" && m.payload.type === "config_changed",
          "config_changed",
        )
      ));
    }),
});

Deno.test({
  name: "a wrong current password in the password form keeps the admin logged in and says so",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () =>
    withAdminPage([], async (page, base) => {
      await page.fill("#pw-current", "not-the-password");
      await page.fill("#pw-new", "brand-new-pass");
      await page.fill("#pw-repeat", "brand-new-pass");
      await page.click("#password-form button[type=submit]");
      await page.waitForSelector('#password-status:has-text("current password is wrong")');
      assert.equal(await page.isVisible("#app-view"), true, "the page stays logged in");
      assert.equal(await page.isHidden("#login-view"), true);
      const session = await page.evaluate(() => fetch("/api/admin/session").then((r) => r.status));
      assert.equal(session, 200, "the session is kept");
      assert.equal(await page.textContent("#live-state"), "live");
      // The old password still logs in: nothing was changed.
      await login(base, PASSWORD);
    }, /status of 403 \(Forbidden\)/),
});

Deno.test({
  name: "a phone's RTCP receiver report shows in its row of the clients table",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () =>
    withAdminPage([IPHONE_UA], async (page, base, clients) => {
      await page.waitForSelector("#clients-body tr:nth-child(1)");
      assert.equal((await page.textContent("#clients-body td.rtcp"))?.trim(), "—", "none yet");
      // The phone's stream SSRC, from its first RTP packet; then a receiver report about it.
      const [pkt] = await clients[0].udp.receive();
      const rr = new Uint8Array(32);
      writeReceiverReport(rr, 0, 0x5151, [{
        ssrc: parseRtp(pkt).ssrc,
        fractionLost: 64,
        cumulativeLost: 7,
        highestSeq: 100,
        jitter: 96,
        lsr: 0,
        dlsr: 0,
      }]);
      const rtpPort = (await (await fetch(`${base}/audio-meta`)).json()).rtp.server_port;
      await clients[0].udp.send(rr, { transport: "udp", hostname: "127.0.0.1", port: rtpPort + 1 });
      await page.waitForSelector(
        '#clients-body td.rtcp:has-text("loss 25.0 % · 7 lost · jitter 2.0 ms · RTT —")',
      );
    }),
});

Deno.test({
  name: "the clients table names each phone and fits a 390 px screen",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () =>
    withAdminPage([IPHONE_UA, PIXEL_UA], async (page) => {
      await page.waitForSelector("#clients-body tr:nth-child(2)");
      const devices = await page.$$eval(
        "#clients-body .device",
        (els) => els.map((e) => e.textContent),
      );
      assert.deepEqual(devices, ["iPhone · Safari", "Android (Pixel 8) · Chrome"]);
      const [inner, outer] = await page.$eval(
        "#clients-body",
        (b) => {
          const box = b.closest(".table-scroll")!;
          return [box.scrollWidth, box.clientWidth];
        },
      );
      assert.ok(inner <= outer, `the clients table is ${inner} px wide in ${outer} px`);
      const [scrollWidth, clientWidth] = await page.evaluate<number[]>(
        "[document.documentElement.scrollWidth, document.documentElement.clientWidth]",
      );
      assert.ok(scrollWidth <= clientWidth, `page ${scrollWidth} px > ${clientWidth} px`);
      await page.screenshot({ path: new URL("admin-overview.png", SHOTS).pathname });
      await page.evaluate('document.getElementById("h-clients").scrollIntoView({block: "start"})');
      await page.screenshot({ path: new URL("admin-clients.png", SHOTS).pathname });
    }),
});

Deno.test({
  name: "channels reorder by dragging a row and by the keyboard, saved through PUT /channels",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () =>
    withAdminPage([undefined], async (page, base) => {
      // Drag channel 5 by its handle onto the upper half of channel 2's row.
      // Rows 1–5 mid-screen, away from the edges where a drag scrolls the page.
      await page.evaluate(
        'document.querySelector("[data-row=\'3\']").scrollIntoView({block: "center"})',
      );
      const target = (await page.locator('[data-row="2"]').boundingBox())!;
      const from = (await page.locator('[data-drag="5"]').boundingBox())!;
      await page.mouse.move(from.x + from.width / 2, from.y + from.height / 2);
      await page.mouse.down();
      await page.mouse.move(from.x + from.width / 2, target.y + 4, { steps: 12 });
      await page.waitForSelector('#channels-body tr.dragging[data-row="5"]');
      assert.deepEqual(
        (await rowIds(page)).slice(0, 5),
        [1, 5, 2, 3, 4],
        `dragged from y=${from.y} to y=${target.y + 4}`,
      );
      await page.screenshot({ path: new URL("admin-channels-drag.png", SHOTS).pathname });
      await page.mouse.up();
      assert.deepEqual((await rowIds(page)).slice(0, 5), [1, 5, 2, 3, 4]);
      assert.equal(await page.$$eval("#channels-body tr.dragging", (r) => r.length), 0);

      // Keyboard: a focused handle moves its row with ↑; the ▲/▼ buttons still work.
      await page.focus('[data-drag="32"]');
      await page.keyboard.press("ArrowUp");
      assert.deepEqual((await rowIds(page)).slice(-2), [32, 31]);
      assert.equal(
        await page.evaluate<string>('document.activeElement.getAttribute("data-drag")'),
        "32",
      );
      await page.click('#channels-body button[data-move="down"][data-id="1"]');
      assert.deepEqual((await rowIds(page)).slice(0, 3), [5, 1, 2]);

      // Saving a new order restarts the streaming phone: asked, then confirmed.
      await page.click("#channels-save");
      await page.waitForSelector("#confirm[open]");
      assert.match((await page.textContent("#confirm-text")) ?? "", /restarts audio on 1 phone\b/);
      await page.click("#confirm-ok");
      await page.waitForSelector('#channels-status:has-text("Saved")');
      const ids = (await call(base, "GET", "/audio-meta")).body.channels.map((c: { id: number }) =>
        c.id
      );
      assert.deepEqual(ids.slice(0, 4), [5, 1, 2, 3]);
      assert.deepEqual(ids.slice(-2), [32, 31]);
    }),
});

/** How many visible controls there are, and those whose own box and label are under 44 × 44 px. */
function smallTargets(page: Page): Promise<{ checked: number; small: string[] }> {
  return page.evaluate(`(() => {
    const min = ${TOUCH_PX};
    const small = [];
    let checked = 0;
    for (const el of document.querySelectorAll("button, input, select, textarea")) {
      if (!el.checkVisibility()) continue;
      checked++;
      const box = el.getBoundingClientRect();
      if (box.width >= min && box.height >= min) continue;
      const label = el.closest("label")?.getBoundingClientRect();
      if (label && label.width >= min && label.height >= min) continue;
      const name = el.id || el.getAttribute("name") || el.getAttribute("aria-label") ||
        el.textContent.trim();
      small.push(el.tagName.toLowerCase() + " " + name + ": " + Math.round(box.width) + "×" +
        Math.round(box.height));
    }
    return { checked, small };
  })()`);
}

Deno.test({
  name: "every button, field and checkbox is at least 44 × 44 px to touch on a phone",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () =>
    withAdminPage([IPHONE_UA], async (page) => {
      await page.waitForSelector("#clients-body tr button");
      const app = await smallTargets(page);
      // 32 channel rows × (checkbox, name, ▲, ▼) and the forms around them, at least.
      assert.ok(app.checked > 150, `only ${app.checked} controls found`);
      assert.deepEqual(app.small, []);
      await page.click("#logout");
      await page.waitForSelector("#login-view:not([hidden])");
      const loginView = await smallTargets(page);
      assert.ok(loginView.checked >= 2, `only ${loginView.checked} controls found`);
      assert.deepEqual(loginView.small, []);
    }),
});
