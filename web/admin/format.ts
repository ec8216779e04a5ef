/// <reference lib="dom" />
/** How the admin page writes numbers, durations, rates, channel lists and QoS figures. */
import { h } from "./dom.ts";
import { t } from "../i18n/i18n.ts";

export const fmtInt = (n: number | null | undefined): string =>
  n === null || n === undefined ? "—" : Math.round(n).toLocaleString("en-US");

export function fmtDuration(s: number): string {
  if (s < 60) return t("a_dur_s", { s });
  if (s < 3600) return t("a_dur_min_s", { m: Math.floor(s / 60), s: s % 60 });
  const hrs = Math.floor(s / 3600);
  if (hrs < 48) return t("a_dur_h_min", { h: hrs, m: Math.floor((s % 3600) / 60) });
  return t("a_dur_d_h", { d: Math.floor(hrs / 24), h: hrs % 24 });
}

export function fmtAgo(iso: string, now: number): string {
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  return s < 1 ? t("a_now") : t("a_ago", { time: fmtDuration(s) });
}

export function fmtRate(hz: number | null | undefined): string {
  return hz ? `${(hz / 1000).toLocaleString("en-US")} kHz` : "—";
}

/** 1,2,3,5 → "1–3, 5 (4)". */
export function fmtChannels(ids: readonly number[] | null | undefined): string {
  if (!ids || ids.length === 0) return "—";
  const parts: string[] = [];
  let start = ids[0];
  let prev = ids[0];
  for (const id of [...ids.slice(1), null]) {
    if (id !== null && id === prev + 1) {
      prev = id;
      continue;
    }
    parts.push(start === prev ? `${start}` : `${start}–${prev}`);
    if (id !== null) start = prev = id;
  }
  return `${parts.join(", ")} (${ids.length})`;
}

/** A figure coloured by how bad it is (≥ warn: amber, ≥ bad: red). */
export function quality(
  value: number | null | undefined,
  warn: number,
  bad: number,
  digits = 1,
  unit = "",
): HTMLSpanElement {
  if (value === null || value === undefined) return h("span", { class: "muted" }, "—");
  const cls = value >= bad ? "q-bad" : value >= warn ? "q-warn" : "q-ok";
  return h("span", { class: cls }, `${value.toFixed(digits)}${unit}`);
}

/** "Saved (version 5) · 2 streams restarted." */
export function savedText(r: { config_version: number; sessions_ended?: number }): string {
  const n = r.sessions_ended ?? 0;
  const version = r.config_version;
  if (n === 0) return t("a_saved", { version });
  return t(n === 1 ? "a_saved_restarted_one" : "a_saved_restarted", { version, n });
}
