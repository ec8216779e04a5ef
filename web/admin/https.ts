/// <reference lib="dom" />
/**
 * The secure listener page card: HTTPS on/off and its port
 * (GET/POST /api/admin/https), its addresses and the page certificate's
 * fingerprint and expiry.
 */
import type { HttpsSaveAnswer, HttpsView } from "../../src/admin/api_types.ts";
import { api } from "./api.ts";
import { $, $button, $form, $input, flash, h, messageOf } from "./dom.ts";
import { loadQr } from "./qr.ts";
import { state } from "./state.ts";
import { language, t } from "../i18n/i18n.ts";

export async function loadHttps(): Promise<void> {
  const https = await api<HttpsView>("GET", "/https");
  state.https = https;
  $input("https-enabled").checked = https.enabled;
  $input("https-port").value = String(https.port);
  renderHttps(https);
  httpsChanged();
}

function httpsEdits(): { enabled?: boolean; port?: number } {
  const s = state.https;
  if (!s) return {};
  const edits: { enabled?: boolean; port?: number } = {};
  const enabled = $input("https-enabled").checked;
  const portText = $input("https-port").value;
  const port = portText.trim() === "" ? NaN : Number(portText);
  if (enabled !== s.enabled) edits.enabled = enabled;
  if (port !== s.port) edits.port = port;
  return edits;
}

function httpsChanged(): void {
  const input = $input("https-port");
  const bad = !input.checkValidity();
  input.classList.toggle("invalid", bad);
  const dirty = Object.keys(httpsEdits()).length > 0;
  $button("https-save").disabled = !dirty || bad;
  $button("https-revert").disabled = !dirty;
  if (dirty) flash($("https-status"), () => t(bad ? "a_fix_port" : "a_not_applied"), bad);
}

export function renderHttps(s: HttpsView | null = state.https): void {
  if (!s) return;
  const pill = $("https-state");
  if (!s.enabled) {
    pill.textContent = t("a_https_pill_off");
    pill.className = "pill pill-muted";
  } else if (s.listening) {
    pill.textContent = t("a_https_pill_on", { port: s.port });
    pill.className = "pill pill-ok";
  } else {
    pill.textContent = t("a_https_pill_down");
    pill.className = "pill pill-bad";
  }
  $("https-error").textContent = s.error ?? "";
  $("https-error").hidden = !s.error;
  const urls = s.listening ? s.urls : [];
  $("https-urls").replaceChildren(
    ...(urls.length > 0
      ? urls.map((u) => h("li", {}, u))
      : [h("li", { class: "muted" }, t(s.enabled ? "a_https_not_listening" : "a_https_off"))]),
  );
  const cert = s.page_certificate;
  $("https-fingerprint").textContent = cert ? cert.sha256 : t("a_https_no_cert");
  $("https-expiry").textContent = cert
    ? t("a_https_expiry", {
      date: new Date(cert.not_after).toLocaleDateString(language()),
    })
    : "—";
  const pending = s.pending_certificate;
  $("https-pending").textContent = pending ? t("a_https_pending", { sha: pending.sha256 }) : "";
  $("https-pending").hidden = !pending;
}

async function onSaveHttps(ev: Event): Promise<void> {
  ev.preventDefault();
  const edits = httpsEdits();
  if (Object.keys(edits).length === 0) return;
  $button("https-save").disabled = true;
  state.saving++;
  try {
    const r = await api<HttpsSaveAnswer>("POST", "/https", edits);
    state.lastVersion = r.config_version;
    state.qrMode = null;
    await Promise.all([loadHttps(), loadQr()]);
    flash(
      $("https-status"),
      () => t(!r.enabled ? "a_https_off" : r.listening ? "a_https_on" : "a_https_saved_down"),
      r.enabled && !r.listening,
    );
  } catch (e) {
    flash($("https-status"), () => messageOf(e), true);
    httpsChanged();
  } finally {
    state.saving--;
  }
}

export function wireHttps(): void {
  const form = $form("https-form");
  form.addEventListener("input", httpsChanged);
  form.addEventListener("change", httpsChanged);
  form.addEventListener("submit", onSaveHttps);
  $button("https-revert").addEventListener("click", () => {
    loadHttps();
    flash($("https-status"), "");
  });
}
