/// <reference lib="dom" />
/**
 * The overview card (source, state, clients, packets, rate, CPU, uptime,
 * config version, command-line overrides) and the recent warnings list,
 * from each live snapshot's `status`.
 */
import type { LogLine, StatusView } from "../../src/admin/api_types.ts";
import { $, h } from "./dom.ts";
import { fmtDuration, fmtInt, fmtRate } from "./format.ts";
import { state } from "./state.ts";
import { language, type MessageKey, t } from "../i18n/i18n.ts";

/** The source's states (as /health gives them) in words. */
const SOURCE_STATE: Record<string, MessageKey> = {
  idle: "a_src_idle",
  starting: "a_src_starting",
  running: "a_src_running",
  error: "a_src_error",
};

const LOG_LINES = 30;
/** The log's levels in words (the line itself is the server's, in English). */
const LOG_LEVEL: Record<string, MessageKey> = {
  info: "a_lvl_info",
  warn: "a_lvl_warn",
  error: "a_lvl_error",
};

export function renderStatus(st: StatusView): void {
  const src = st.source;
  const health = $("health");
  health.textContent = t(st.status === "ok" ? "a_healthy" : "a_degraded");
  health.className = `pill ${st.status === "ok" ? "pill-ok" : "pill-warn"}`;
  $("st-source").textContent = src.kind === "test"
    ? t("a_src_test")
    : src.kind === "aes67"
    ? src.description || "AES67"
    : `ALSA ${src.description || ""}`;
  // The same state as /health: idle, starting, running or error.
  const srcState = SOURCE_STATE[src.state] ? t(SOURCE_STATE[src.state]) : src.state;
  $("st-state").textContent = src.sink_errors > 0
    ? t("a_src_sink_errors", { state: srcState, n: fmtInt(src.sink_errors) })
    : srcState;
  $("st-streaming").textContent = fmtInt(st.streaming_clients);
  $("st-connected").textContent = fmtInt(st.connected_clients);
  $("st-packets").textContent = fmtInt(st.total_packets_sent);
  const lowered = st.lowered_clients ?? [];
  $("st-rate").textContent = fmtRate(st.sample_rate) +
    (lowered.length === 0 ? "" : " " + t("a_rate_lowered", {
      list: lowered.map((c) => `${c.address}: ${fmtRate(c.sample_rate)}`).join(", "),
    }));
  $("st-cpu").textContent = `${st.cpu_pct.toFixed(1)} %`;
  $("st-uptime").textContent = fmtDuration(st.uptime_s);
  $("st-version").textContent = String(st.config_version);
  const err = $("st-error");
  err.textContent = src.error ? t("a_source_error", { error: src.error }) : "";
  err.hidden = !src.error;
  const ov = Object.entries(st.overrides);
  state.overrides = new Set(Object.keys(st.overrides));
  $("st-overrides").textContent = ov.length === 0
    ? ""
    : t("a_overrides", { list: ov.map(([k, v]) => `${k} = ${JSON.stringify(v)}`).join(", ") });
  $("st-overrides").hidden = ov.length === 0;
  const alsa = st.overrides["alsa.device"];
  $("alsa-override").textContent = alsa === undefined
    ? ""
    : t("a_alsa_override", { device: String(alsa) });
  $("alsa-override").hidden = alsa === undefined;
}

export function renderLog(lines: LogLine[]): void {
  const list = lines.slice(0, LOG_LINES).map((l) =>
    h(
      "li",
      { title: l.text },
      h(
        "time",
        { datetime: l.time },
        new Date(l.time).toLocaleTimeString(language() === "ko" ? "ko-KR" : "en-GB"),
      ),
      h("span", { class: `lvl ${l.level}` }, LOG_LEVEL[l.level] ? t(LOG_LEVEL[l.level]) : l.level),
      `${l.category}: ${l.message}`,
    )
  );
  $("log-list").replaceChildren(...list);
  $("log-empty").hidden = lines.length > 0;
}
