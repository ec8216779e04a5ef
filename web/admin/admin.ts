/// <reference lib="dom" />
/**
 * m32-server's admin page (bundled into web/gen/admin.js by web/build.ts).
 * Talks to the admin API (docs/admin.md, docs/protocol.md §9) and its live
 * feed; each card is a module of its own:
 *
 *   session.ts   login / logout          overview.ts  status and warnings
 *   clients.ts   connected clients       charts.ts    quality charts
 *   channels.ts  channel table           settings.ts  configuration form
 *   qr.ts        phone QR code           https.ts     secure listener page
 *   aes67.ts     AES67 output        aes67_input.ts  AES67 input
 *   forms.ts     message, password       live.ts      the live feed
 */
import type { LoginProbe } from "../../src/admin/api_types.ts";
import { startI18n } from "../i18n/dom.ts";
import { onLanguageChange } from "../i18n/i18n.ts";
import { api } from "./api.ts";
import { renderAes67, wireAes67 } from "./aes67.ts";
import { renderAes67Input, wireAes67Input } from "./aes67_input.ts";
import { channelsDirty, renderChannels, wireChannels } from "./channels.ts";
import { $, byId } from "./dom.ts";
import { wireForms } from "./forms.ts";
import { renderHttps, wireHttps } from "./https.ts";
import { redrawSnapshot } from "./live.ts";
import { renderQr, wireQr } from "./qr.ts";
import { showApp, showLogin, wireSession } from "./session.ts";
import { settingsDirty, wireSettings } from "./settings.ts";

/** Another language: every card the page drew is drawn again (static text: ../i18n/dom.ts). */
function relabel(): void {
  if ($("app-view").hidden) return;
  renderChannels();
  renderHttps();
  renderAes67();
  renderAes67Input();
  renderQr();
  redrawSnapshot();
}

function wire(): void {
  startI18n(byId("language", HTMLSelectElement));
  onLanguageChange(relabel);
  wireSession();
  wireSettings();
  wireChannels();
  wireHttps();
  wireAes67();
  wireAes67Input();
  wireQr();
  wireForms();
  globalThis.addEventListener("beforeunload", (ev) => {
    if (!$("app-view").hidden && (channelsDirty() || settingsDirty())) ev.preventDefault();
  });
}

async function init(): Promise<void> {
  wire();
  let who: LoginProbe = { logged_in: false, expires_at: null };
  try {
    who = await api<LoginProbe>("GET", "/login");
  } catch {
    // the server is unreachable; the login form says so on submit
  }
  if (!who.logged_in) return showLogin();
  await showApp();
}

init();
