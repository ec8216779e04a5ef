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
 *   forms.ts     message, password       live.ts      the live feed
 */
import type { LoginProbe } from "../../src/admin/api_types.ts";
import { api } from "./api.ts";
import { channelsDirty, wireChannels } from "./channels.ts";
import { $ } from "./dom.ts";
import { wireForms } from "./forms.ts";
import { wireHttps } from "./https.ts";
import { wireQr } from "./qr.ts";
import { showApp, showLogin, wireSession } from "./session.ts";
import { settingsDirty, wireSettings } from "./settings.ts";

function wire(): void {
  wireSession();
  wireSettings();
  wireChannels();
  wireHttps();
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
