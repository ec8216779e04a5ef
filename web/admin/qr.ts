/// <reference lib="dom" />
/**
 * The "Connect a phone" card: the QR code of the listener page's address
 * (GET /api/admin/qr), and with HTTPS up a switch between the secure and the
 * plain page.
 */
import type { QrAnswer } from "../../src/admin/api_types.ts";
import { api } from "./api.ts";
import { $, $button } from "./dom.ts";
import { state } from "./state.ts";
import { t } from "../i18n/i18n.ts";

export async function loadQr(): Promise<void> {
  state.qr = await api<QrAnswer>("GET", "/qr");
  renderQr();
}

/** With HTTPS on the code opens the secure page; a switch shows the plain one instead. */
export function renderQr(): void {
  const r = state.qr;
  if (!r) return;
  const secure = r.https !== null && r.https !== undefined && state.qrMode !== "http";
  $("qr-switch").hidden = !r.https;
  $button("qr-show-https").setAttribute("aria-pressed", String(secure));
  $button("qr-show-http").setAttribute("aria-pressed", String(!secure));
  const svgText = secure ? r.https!.svg : r.svg;
  const box = $("qr");
  if (svgText) {
    const doc = new DOMParser().parseFromString(svgText, "image/svg+xml");
    const svg = document.importNode(doc.documentElement, true);
    svg.setAttribute("aria-hidden", "true");
    box.replaceChildren(svg);
    box.hidden = false;
  } else {
    box.replaceChildren();
    box.hidden = true;
  }
  $("qr-url").textContent = (secure ? r.https!.url : r.url) ?? t("a_qr_no_address");
  const modeNote = $("qr-mode-note");
  modeNote.textContent = secure ? t("a_qr_secure_note") : r.https ? t("a_qr_plain_note") : "";
  modeNote.hidden = modeNote.textContent === "";
  // The server's note (in English) says what the addresses show: the page says it from them.
  const note = $("qr-note");
  note.textContent = r.addresses.length === 0
    ? t("a_qr_no_lan")
    : r.addresses.length > 1
    ? t("a_qr_several", { others: r.addresses.slice(1).join(", ") })
    : "";
  note.hidden = note.textContent === "";
}

export function wireQr(): void {
  $button("qr-show-https").addEventListener("click", () => {
    state.qrMode = "https";
    renderQr();
  });
  $button("qr-show-http").addEventListener("click", () => {
    state.qrMode = "http";
    renderQr();
  });
}
