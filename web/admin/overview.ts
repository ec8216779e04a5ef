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

const LOG_LINES = 30;

export function renderStatus(st: StatusView): void {
  const src = st.source;
  const health = $("health");
  health.textContent = st.status === "ok" ? "healthy" : "degraded";
  health.className = `pill ${st.status === "ok" ? "pill-ok" : "pill-warn"}`;
  $("st-source").textContent = src.kind === "test"
    ? "test signal"
    : `ALSA ${src.description || ""}`;
  // The same state as /health: idle, starting, running or error.
  $("st-state").textContent = src.sink_errors > 0
    ? `${src.state} · ${fmtInt(src.sink_errors)} periods dropped (sink errors)`
    : src.state;
  $("st-streaming").textContent = fmtInt(st.streaming_clients);
  $("st-connected").textContent = fmtInt(st.connected_clients);
  $("st-packets").textContent = fmtInt(st.total_packets_sent);
  const lowered = st.lowered_clients ?? [];
  $("st-rate").textContent = fmtRate(st.sample_rate) +
    (lowered.length === 0
      ? ""
      : ` (lower for ${lowered.map((c) => `${c.address}: ${fmtRate(c.sample_rate)}`).join(", ")})`);
  $("st-cpu").textContent = `${st.cpu_pct.toFixed(1)} %`;
  $("st-uptime").textContent = fmtDuration(st.uptime_s);
  $("st-version").textContent = String(st.config_version);
  const err = $("st-error");
  err.textContent = src.error ? `Source error: ${src.error}` : "";
  err.hidden = !src.error;
  const ov = Object.entries(st.overrides);
  state.overrides = new Set(Object.keys(st.overrides));
  $("st-overrides").textContent = ov.length === 0
    ? ""
    : `Command-line overrides for this run: ${
      ov.map(([k, v]) => `${k} = ${JSON.stringify(v)}`).join(", ")
    }.`;
  $("st-overrides").hidden = ov.length === 0;
  const alsa = st.overrides["alsa.device"];
  $("alsa-override").textContent = alsa === undefined
    ? ""
    : `This run uses --alsa-device ${alsa}; the saved value applies from the next start.`;
  $("alsa-override").hidden = alsa === undefined;
}

export function renderLog(lines: LogLine[]): void {
  const list = lines.slice(0, LOG_LINES).map((l) =>
    h(
      "li",
      { title: l.text },
      h("time", { datetime: l.time }, new Date(l.time).toLocaleTimeString("en-GB")),
      h("span", { class: `lvl ${l.level}` }, l.level),
      `${l.category}: ${l.message}`,
    )
  );
  $("log-list").replaceChildren(...list);
  $("log-empty").hidden = lines.length > 0;
}
