/// <reference lib="dom" />
/** How the admin page writes numbers, durations, rates, channel lists and QoS figures. */
import { h } from "./dom.ts";

export const fmtInt = (n: number | null | undefined): string =>
  n === null || n === undefined ? "—" : Math.round(n).toLocaleString("en-US");

export function fmtDuration(s: number): string {
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  const hrs = Math.floor(s / 3600);
  if (hrs < 48) return `${hrs} h ${Math.floor((s % 3600) / 60)} min`;
  return `${Math.floor(hrs / 24)} d ${hrs % 24} h`;
}

export function fmtAgo(iso: string, now: number): string {
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  return s < 1 ? "now" : `${fmtDuration(s)} ago`;
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
  const restarted = n === 0 ? "" : ` · ${n} stream${n === 1 ? "" : "s"} restarted`;
  return `Saved (version ${r.config_version})${restarted}.`;
}
