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
  $("qr-url").textContent = (secure ? r.https!.url : r.url) ?? "no network address";
  const modeNote = $("qr-mode-note");
  modeNote.textContent = secure
    ? "Secure page: lower latency. Phones warn once about the certificate (see “Secure listener page” below)."
    : r.https
    ? "Plain page: no certificate warning, but no WebTransport or AudioWorklet."
    : "";
  modeNote.hidden = modeNote.textContent === "";
  const extra = r.addresses.length > 1
    ? `Also reachable at ${r.addresses.slice(1).join(", ")}.`
    : "";
  const note = $("qr-note");
  note.textContent = [r.note, extra].filter(Boolean).join(" ");
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
