/**
 * The pages in Korean and English (issue #13 item 7), on a phone in Chromium
 * with the browser's language set (playwright's `locale`: navigator.languages
 * and Accept-Language):
 *
 * - each page comes up in the browser's language (ko-KR → Korean, en-US →
 *   English), `<html lang>` with it;
 * - in Korean no English UI words are left: every text node and every
 *   aria-label / title / placeholder / aria-valuetext is scanned for the
 *   English catalogue's words and for any English word that is not a channel
 *   name or a technical name (Opus, WebSocket, kHz…); in English no Korean;
 * - the switch changes the language live: the listener's mix keeps playing
 *   (the analyser hears the same mix, the session is not restarted, the page
 *   is not reloaded), the admin page redraws every card;
 * - the choice survives a reload and beats the browser's language;
 * - the admin's server errors are shown by code in the page's language.
 *
 * With M32_UPDATE_SCREENSHOTS=1: docs/screenshots/listener-ko.png, admin-ko.png.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import type { Page } from "playwright-core";
import { EN } from "../web/i18n/en.ts";
import { KO } from "../web/i18n/ko.ts";
import { launchChromium, watchErrors } from "./helpers/browser.ts";
import {
  docScreenshot,
  expectMix,
  launchBrowser,
  PHONE,
  startToneServer,
  status,
  UI_TIMEOUT_MS,
  waitStatus,
} from "./listener_helpers.ts";
import { IPHONE_UA, PASSWORD, startAdminServer, streamingClient } from "./admin_helpers.ts";

/** Names the pages show in every language: products, protocols, units, the language's own name. */
const NAMES = new Set([
  "Opus",
  "PCM",
  "WebTransport",
  "WebRTC",
  "WebSocket",
  "AudioWorklet",
  "HTTPS",
  "HTTP",
  "https",
  "http",
  "kHz",
  "dBFS",
  "ALSA",
  "DSCP",
  "SHA",
  "LAN",
  "IPv",
  "JSON",
  "CPU",
  "Android",
  "Chrome",
  "iPhone",
  "Safari",
  "English",
  // AES67 (the admin page's AES67 card): names of standards, as in Korean manuals.
  "AES",
  "PTP",
  "TTL",
  "IGMP",
  "MAC",
  // AES67 input card: the discovery protocol and the session file format.
  "SAP",
  "SDP",
  // The admin clients table's receiver-report column: the protocol's name (RFC 3550).
  "RTCP",
]);

/** The musicians' channel names: data, shown as the engineer typed them. */
const CHANNELS: Record<number, string> = { 1: "Kick", 2: "Snare", 3: "보컬", 4: "Keys" };

/**
 * Every string the page shows or speaks: all text nodes of the body (hidden
 * ones too: they show later) and every aria-label, title, placeholder,
 * aria-valuetext and data-label, plus the document title; `skip` leaves out
 * data (log lines, a phone's own name).
 */
function pageStrings(page: Page, skip = ""): Promise<string[]> {
  return page.evaluate(`(() => {
    const skip = ${JSON.stringify(skip)};
    const out = [document.title];
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const el = n.parentElement;
      if (!el || el.closest("script, style") || (skip && el.closest(skip))) continue;
      if (el.closest("option[lang]")) continue; // the language switch names each language in itself
      const t = n.textContent.trim();
      if (t) out.push(t);
    }
    const attrs = ["aria-label", "title", "placeholder", "aria-valuetext", "data-label"];
    for (const el of document.querySelectorAll(attrs.map((a) => "[" + a + "]").join(","))) {
      if (skip && el.closest(skip)) continue;
      for (const a of attrs) {
        const v = el.getAttribute(a);
        if (v) out.push(v);
      }
    }
    return out;
  })()`);
}

/** The English words (3+ letters) in `strings` that are neither names nor channel names. */
function englishWords(strings: string[]): string[] {
  const channelWords = new Set(Object.values(CHANNELS).flatMap((n) => n.match(/[A-Za-z]+/g) ?? []));
  const found = new Set<string>();
  for (const s of strings) {
    for (const w of s.match(/[A-Za-z]{3,}/g) ?? []) {
      if (!NAMES.has(w) && !channelWords.has(w)) found.add(`${w} (in ${JSON.stringify(s)})`);
    }
  }
  return [...found];
}

/**
 * The English catalogue's own text found in `strings`: every value that the
 * Korean catalogue says differently, cut at its {placeholders}, each piece
 * with a word of its own (not only names).
 */
function englishCatalogueText(strings: string[]): string[] {
  const en = EN as Record<string, string>;
  const ko = KO as Record<string, string>;
  const found: string[] = [];
  for (const [key, value] of Object.entries(en)) {
    if (ko[key] === value) continue;
    for (const piece of value.split(/\{\w+\}/).map((p) => p.trim())) {
      const words = piece.match(/[A-Za-z]{3,}/g) ?? [];
      if (words.every((w) => NAMES.has(w))) continue;
      const alone = new RegExp(`(?<![A-Za-z])${RegExp.escape(piece)}(?![A-Za-z])`);
      const hit = strings.find((s) => alone.test(s));
      if (hit !== undefined) {
        found.push(`${key}: ${JSON.stringify(piece)} in ${JSON.stringify(hit)}`);
      }
    }
  }
  return found;
}

/** A mix the musician saves under a Korean name (data, like the channel names). */
const MIX_NAME = "주일 예배";
/** The engineer's message, typed in Korean (data too). */
const MESSAGE = "사운드체크 5분 전";

/** Korean text in `strings` beyond the channel and mix names. */
function koreanText(strings: string[]): string[] {
  const names = [...Object.values(CHANNELS), MIX_NAME, MESSAGE];
  return strings.filter((s) =>
    /[\uac00-\ud7a3]/.test(names.reduce((r, n) => r.split(n).join(""), s))
  );
}

/** The page is in Korean: `<html lang>`, and nothing English is left. */
async function assertKorean(page: Page, what: string, skip = ""): Promise<void> {
  assert.equal(await page.getAttribute("html", "lang"), "ko", `${what}: html lang`);
  const strings = await pageStrings(page, skip);
  assert.deepEqual(englishCatalogueText(strings), [], `${what}: English catalogue text`);
  assert.deepEqual(englishWords(strings), [], `${what}: English words`);
}

async function assertEnglish(page: Page, what: string, skip = ""): Promise<void> {
  assert.equal(await page.getAttribute("html", "lang"), "en", `${what}: html lang`);
  assert.deepEqual(koreanText(await pageStrings(page, skip)), [], `${what}: Korean text`);
}

async function listenerServer() {
  const { server, dataDir } = await startToneServer({ channels: 4 });
  const store = server.ctx.store;
  store.setChannels(store.getChannels().map((c) => ({ ...c, name: CHANNELS[c.id] ?? c.name })));
  return { server, dataDir };
}

Deno.test({
  name:
    "listener: a Korean phone gets the page in Korean; switching to English live keeps the mix " +
    "playing; the choice survives a reload",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const { server, dataDir } = await listenerServer();
    const { ctx } = await launchBrowser(PHONE, { locale: "ko-KR" });
    try {
      const page = await ctx.newPage();
      const errors = watchErrors(page);
      await page.goto(`${server.url}/?transport=websocket`);
      assert.equal((await page.textContent("#start"))?.trim(), KO.l_start);
      assert.equal(await page.inputValue("#start-language"), "ko");
      await assertKorean(page, "start card");

      await page.click("#start");
      await waitStatus(page, (s) => s.state === "streaming", "streaming");
      await page.waitForSelector('.strip[data-id="4"]');
      assert.equal((await status(page)).badge, KO.l_state_streaming);
      // Snare muted, Kick panned: the mix the switch must not touch.
      await page.click(`button[aria-label="${KO.l_mute_ch.replace("{name}", "Snare")}"]`);
      await page.getByRole("slider", { name: KO.l_pan_ch.replace("{name}", "Kick") }).fill("-0.2");
      await page.click(".strip[data-id='1'] .eq summary");
      await page.click("details.settings summary");
      await page.evaluate(() => (globalThis as unknown as { marker: number }).marker = 1);
      await expectMix(page, [1, 3, 4], [2], "the Korean page plays the mix");
      // The mixes panel's own words: a saved mix, a file that is not a mix.
      await page.fill("#mix-name", MIX_NAME);
      await page.click("#mix-save");
      assert.equal(await page.textContent("#mix-status"), `“${MIX_NAME}” 저장했습니다.`);
      // The engineer's message (their text; the page's words and time) and a network warning
      // told from its figures.
      server.ctx.sessions.broadcast({ type: "custom_message", text: MESSAGE });
      server.ctx.sessions.broadcast({
        type: "network_warning",
        reason: "poor network: latency 140 ms is over the 80 ms threshold",
        latency_ms: 140,
        packet_loss_rate: 0,
        jitter_ms: 12,
        latency_threshold_ms: 80,
        loss_threshold: 0.02,
      });
      await waitStatus(page, (s) => s.banner !== "" && s.message !== "", "the message and warning");
      assert.equal(
        (await status(page)).banner,
        KO.l_banner_poor_network.replace("{what}", "지연 140 ms (한도 80 ms)"),
      );
      assert.match(await page.textContent("#msg-time") ?? "", /^(오전|오후) \d{1,2}:\d{2}$/);
      await assertKorean(page, "live mixer");
      await page.setInputFiles("#mix-import", {
        name: "photo.json",
        mimeType: "application/json",
        buffer: Buffer.from('{"format":"something-else"}'),
      });
      await page.waitForSelector('#mix-status[data-kind="error"]');
      assert.equal(await page.textContent("#mix-status"), `photo.json: ${KO.l_mixerr_not_a_mix}`);
      assert.equal(
        await page.getByRole("slider", { name: "Kick 팬" }).getAttribute("aria-valuetext"),
        "왼쪽 20",
      );
      await page.evaluate("scrollTo(0, 0)");
      await docScreenshot(page, "listener-ko");

      const before = await status(page);
      await page.selectOption("#opt-language", "en");
      await assertEnglish(page, "after the switch");
      const after = await status(page);
      assert.equal(after.badge, "Live");
      assert.equal(
        after.banner,
        "Poor Wi-Fi: latency 140 ms (limit 80 ms). The network is the problem, not the box.",
      );
      assert.equal(after.message, MESSAGE, "the engineer's own words stay");
      assert.match(await page.textContent("#msg-time") ?? "", /^\d{1,2}:\d{2} (AM|PM)$/);
      assert.equal(after.clientId, before.clientId, "the same session");
      assert.equal(after.reconnects, before.reconnects, "no reconnect");
      assert.equal(after.audio, "running");
      assert.equal(
        await page.evaluate(() => (globalThis as unknown as { marker?: number }).marker),
        1,
        "the page was not reloaded",
      );
      assert.equal(
        await page.getAttribute('button[aria-label="Mute Snare"]', "aria-pressed"),
        "true",
      );
      assert.equal(
        await page.getByRole("slider", { name: "Pan Kick" }).getAttribute("aria-valuetext"),
        "L 20",
      );
      assert.equal(await page.inputValue("#start-language"), "en", "both switches agree");
      assert.equal(await page.textContent("#mix-status"), "photo.json: this file is not a mix");
      await expectMix(page, [1, 3, 4], [2], "the same mix plays on in English");

      // The choice beats the browser's language from now on.
      await page.reload();
      assert.equal((await page.textContent("#start"))?.trim(), EN.l_start);
      await assertEnglish(page, "reloaded");
      await page.selectOption("#start-language", "ko");
      assert.equal((await page.textContent("#start"))?.trim(), KO.l_start);
      await page.reload();
      await assertKorean(page, "reloaded after switching back");
      assert.deepEqual(errors, []);
    } finally {
      await ctx.close();
      await server.close();
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    }
  },
});

Deno.test({
  name: "listener: an English phone gets the page in English, without a Korean word",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const { server, dataDir } = await listenerServer();
    const { ctx } = await launchBrowser(PHONE, { locale: "en-US" });
    try {
      const page = await ctx.newPage();
      const errors = watchErrors(page);
      await page.goto(`${server.url}/?transport=websocket`);
      assert.equal((await page.textContent("#start"))?.trim(), EN.l_start);
      await page.click("#start");
      await waitStatus(page, (s) => s.state === "streaming", "streaming");
      await page.waitForSelector('.strip[data-id="4"]');
      await page.click("details.settings summary");
      await assertEnglish(page, "live mixer");
      assert.equal((await status(page)).badge, "Live");
      assert.deepEqual(errors, []);
    } finally {
      await ctx.close();
      await server.close();
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    }
  },
});

/**
 * The admin page's data the catalogue does not translate: server log lines, a phone's name,
 * the box's network interface names (AES67 card).
 */
const ADMIN_DATA = "#log-list, .c-phone, #aes67-interface";

Deno.test({
  name: "admin: a Korean browser gets the admin page in Korean (login, every card, server errors " +
    "by code); switching redraws it in English; the choice survives a reload",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const { server, dataDir } = await startAdminServer();
    const phone = await streamingClient(server.url, IPHONE_UA);
    const { ctx, profile } = await launchChromium({
      viewport: PHONE,
      timeoutMs: UI_TIMEOUT_MS,
      locale: "ko-KR",
    });
    try {
      const page = await ctx.newPage();
      const errors = watchErrors(page);
      await page.goto(`${server.url}/admin/`);
      await page.waitForSelector("#login-view:not([hidden])");
      assert.equal(await page.textContent("#login-form h1"), KO.a_login_title);
      await assertKorean(page, "login");

      // The server's refusal (401 wrong_password), in the page's words.
      await page.fill("#login-password", "not-the-password");
      await page.click("#login-form button[type=submit]");
      await page.waitForSelector("#login-error:not([hidden])");
      assert.equal(await page.textContent("#login-error"), KO.err_wrong_password);

      await page.fill("#login-password", PASSWORD);
      await page.click("#login-form button[type=submit]");
      await page.waitForSelector("#channels-body tr:nth-child(32)");
      await page.waitForSelector(`#live-state:text-is("${KO.a_live}")`);
      await page.waitForSelector("#clients-body tr");
      await page.waitForSelector("#chart-loss figcaption");
      await assertKorean(page, "admin page", ADMIN_DATA);
      await docScreenshot(page, "admin-ko");

      // A save that restarts the phone's audio asks first, in Korean; Cancel sends nothing.
      await page.click('#channels-body input[type=checkbox][data-id="32"]');
      await page.click("#channels-save");
      await page.waitForSelector("#confirm[open]");
      assert.equal(
        await page.textContent("#confirm-text"),
        KO.a_confirm_text.replace("{what}", KO.a_what_channels).replace(
          "{phones}",
          KO.a_phones_one.replace("{n}", "1"),
        ),
      );
      await assertKorean(page, "confirm dialog", ADMIN_DATA);
      await page.click("#confirm-cancel");
      await page.waitForSelector(`#channels-status:text-is("${KO.a_not_saved}")`);
      await page.click("#channels-revert");

      await page.selectOption("#language", "en");
      await page.waitForSelector('#live-state:text-is("live")');
      await assertEnglish(page, "after the switch", ADMIN_DATA);
      assert.equal(await page.textContent("#h-overview"), "Overview");
      assert.equal(await page.getAttribute("#clients-body td.mono", "data-label"), "Address");
      assert.match(await page.textContent("#clients-count") ?? "", /^1 connected · 1 streaming$/);

      await page.reload();
      await page.waitForSelector('#live-state:text-is("live")');
      await assertEnglish(page, "reloaded", ADMIN_DATA);
      await page.selectOption("#language", "ko");
      await page.reload();
      await page.waitForSelector(`#live-state:text-is("${KO.a_live}")`);
      await page.waitForSelector("#clients-body tr");
      await assertKorean(page, "reloaded after switching back", ADMIN_DATA);
      // Chromium logs the refused login's 401 itself.
      assert.deepEqual(errors.filter((e) => !/401/.test(e)), []);
    } finally {
      await ctx.close();
      await phone.close();
      await server.close();
      await Deno.remove(profile, { recursive: true }).catch(() => {});
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    }
  },
});
