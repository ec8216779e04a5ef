/// <reference lib="dom" />
/**
 * The two small forms: a message to every connected phone
 * (POST /api/admin/message) and the admin password change
 * (POST /api/admin/password).
 */
import { api, statusOf } from "./api.ts";
import { HttpError } from "./api.ts";
import { $, $form, $input, flash, messageOf } from "./dom.ts";
import { t } from "../i18n/i18n.ts";

async function onMessage(ev: Event): Promise<void> {
  ev.preventDefault();
  const text = $input("message-text").value.trim();
  if (!text) return;
  try {
    const r = await api<{ clients: number }>("POST", "/message", { text });
    const n = r.clients;
    flash($("message-status"), () => t(n === 1 ? "a_sent_one" : "a_sent", { n }));
    $input("message-text").value = "";
  } catch (e) {
    flash($("message-status"), () => messageOf(e), true);
  }
}

async function onPassword(ev: Event): Promise<void> {
  ev.preventDefault();
  const status = $("password-status");
  const next = $input("pw-new").value;
  if (next !== $input("pw-repeat").value) return flash(status, () => t("a_pw_differ"), true);
  try {
    await api("POST", "/password", { current: $input("pw-current").value, new: next });
    $form("password-form").reset();
    flash(status, () => t("a_pw_changed"));
  } catch (e) {
    const wrong = statusOf(e) === 401 || (e instanceof HttpError && e.code === "wrong_password");
    flash(status, () => wrong ? t("a_pw_current_wrong") : messageOf(e), true);
  }
}

export function wireForms(): void {
  $form("message-form").addEventListener("submit", onMessage);
  $form("password-form").addEventListener("submit", onPassword);
}
