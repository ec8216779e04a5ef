/// <reference lib="dom" />
/**
 * Logging in and out: the login form, the app view after a login, and back
 * to the login form whenever the server says the session is gone (a 401, or
 * the live socket's close code 4401).
 */
import { api, onUnauthorized, statusOf } from "./api.ts";
import { loadChannels } from "./channels.ts";
import { $, $button, $form, $input, messageOf } from "./dom.ts";
import { loadHttps } from "./https.ts";
import { loadAes67 } from "./aes67.ts";
import { loadAes67Input } from "./aes67_input.ts";
import { onSessionEnded, startLive, stopLive } from "./live.ts";
import { loadQr } from "./qr.ts";
import { loadConfig } from "./settings.ts";
import { localText } from "../i18n/dom.ts";
import { t } from "../i18n/i18n.ts";

export function showLogin(): void {
  stopLive();
  $("app-view").hidden = true;
  $("logout").hidden = true;
  $("live-state").hidden = true;
  $("login-view").hidden = false;
  $input("login-password").focus();
}

export async function showApp(): Promise<void> {
  $("login-view").hidden = true;
  $("app-view").hidden = false;
  $("logout").hidden = false;
  $("live-state").hidden = false;
  await Promise.all([
    loadConfig(),
    loadChannels(),
    loadQr(),
    loadHttps(),
    loadAes67(),
    loadAes67Input(),
  ]);
  startLive();
}

async function onLogin(ev: Event): Promise<void> {
  ev.preventDefault();
  const err = $("login-error");
  err.hidden = true;
  try {
    await api("POST", "/login", { password: $input("login-password").value });
    $input("login-password").value = "";
    await showApp();
  } catch (e) {
    localText(err, () => statusOf(e) === 401 ? t("err_wrong_password") : messageOf(e));
    err.hidden = false;
  }
}

async function onLogout(): Promise<void> {
  try {
    await api("POST", "/logout");
  } finally {
    showLogin();
  }
}

export function wireSession(): void {
  onUnauthorized(showLogin);
  onSessionEnded(showLogin);
  $form("login-form").addEventListener("submit", onLogin);
  $button("logout").addEventListener("click", onLogout);
}
