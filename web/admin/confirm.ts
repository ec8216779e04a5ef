/// <reference lib="dom" />
/**
 * Asks before a save that restarts the phones' audio (a change on the wire:
 * src/config/wire.ts), naming how many phones stream right now
 * (GET /api/admin/clients). With no phone streaming there is nothing to
 * interrupt and nothing is asked. Cancel (or Escape) sends nothing.
 */
import type { ClientView } from "../../src/admin/api_types.ts";
import { api } from "./api.ts";
import { $, $button, byId } from "./dom.ts";
import { localText } from "../i18n/dom.ts";
import { type MessageKey, t } from "../i18n/i18n.ts";

/** "1 phone", "3 phones". */
export function phones(n: number): string {
  return t(n === 1 ? "a_phones_one" : "a_phones", { n });
}

/**
 * Resolves true to go ahead with the save, false when the admin cancelled;
 * `what` names what is saved ("a_what_channels"), `text` says what happens
 * to the phones (default: their streams restart and they reconnect).
 */
export async function confirmRestart(
  what: MessageKey,
  text: MessageKey = "a_confirm_text",
): Promise<boolean> {
  const clients = await api<ClientView[]>("GET", "/clients");
  const streaming = clients.filter((c) => c.streaming).length;
  if (streaming === 0) return true;
  const dialog = byId("confirm", HTMLDialogElement);
  localText(
    $("confirm-text"),
    () => t(text, { what: t(what), phones: phones(streaming) }),
  );
  localText($button("confirm-ok"), () => t("a_confirm_ok_n", { phones: phones(streaming) }));
  return await new Promise<boolean>((resolve) => {
    const done = (ok: boolean) => {
      dialog.removeEventListener("close", onClose);
      $button("confirm-ok").removeEventListener("click", onOk);
      $button("confirm-cancel").removeEventListener("click", onCancel);
      if (dialog.open) dialog.close();
      resolve(ok);
    };
    const onOk = () => done(true);
    const onCancel = () => done(false);
    const onClose = () => done(false); // Escape
    dialog.addEventListener("close", onClose);
    $button("confirm-ok").addEventListener("click", onOk);
    $button("confirm-cancel").addEventListener("click", onCancel);
    dialog.showModal();
    $button("confirm-cancel").focus();
  });
}
