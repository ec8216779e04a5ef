/// <reference lib="dom" />
/**
 * The two small forms: a message to every connected phone
 * (POST /api/admin/message) and the admin password change
 * (POST /api/admin/password).
 */
import { api, statusOf } from "./api.ts";
import { $, $form, $input, flash, messageOf } from "./dom.ts";

async function onMessage(ev: Event): Promise<void> {
  ev.preventDefault();
  const text = $input("message-text").value.trim();
  if (!text) return;
  try {
    const r = await api<{ clients: number }>("POST", "/message", { text });
    flash($("message-status"), `Sent to ${r.clients} client${r.clients === 1 ? "" : "s"}.`);
    $input("message-text").value = "";
  } catch (e) {
    flash($("message-status"), messageOf(e), true);
  }
}

async function onPassword(ev: Event): Promise<void> {
  ev.preventDefault();
  const status = $("password-status");
  const next = $input("pw-new").value;
  if (next !== $input("pw-repeat").value) return flash(status, "The new passwords differ.", true);
  try {
    await api("POST", "/password", { current: $input("pw-current").value, new: next });
    $form("password-form").reset();
    flash(status, "Password changed. Other browsers are logged out.");
  } catch (e) {
    flash(status, statusOf(e) === 401 ? "The current password is wrong." : messageOf(e), true);
  }
}

export function wireForms(): void {
  $form("message-form").addEventListener("submit", onMessage);
  $form("password-form").addEventListener("submit", onPassword);
}
