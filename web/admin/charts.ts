/// <reference lib="dom" />
/**
 * The quality charts: packet loss, jitter and latency of the worst client
 * over up to the last 10 minutes, hand-drawn SVG from the live feed's
 * history points.
 */
import type { HistoryPoint } from "../../src/admin/api_types.ts";
import { $, h, s } from "./dom.ts";
import { state } from "./state.ts";
import { type MessageKey, t } from "../i18n/i18n.ts";

/** The charts show up to 10 minutes, at least 1 (a young server shows what it has). */
export const CHART_MAX_WINDOW_MS = 10 * 60 * 1000;
const CHART_MIN_WINDOW_MS = 60 * 1000;

type SeriesKey = "loss_pct" | "jitter_ms" | "latency_ms";
type Sample = HistoryPoint & Record<SeriesKey, number>;

interface ChartSpec {
  id: string;
  cls: string;
  title: MessageKey;
  key: SeriesKey;
  unit: string;
  /** The y axis reaches at least this far. */
  min: number;
  digits: number;
}

const CHARTS: readonly ChartSpec[] = [
  {
    id: "chart-loss",
    cls: "loss",
    title: "a_chart_loss",
    key: "loss_pct",
    unit: "%",
    min: 1,
    digits: 2,
  },
  {
    id: "chart-jitter",
    cls: "jitter",
    title: "a_col_jitter",
    key: "jitter_ms",
    unit: "ms",
    min: 10,
    digits: 1,
  },
  {
    id: "chart-latency",
    cls: "latency",
    title: "a_col_latency",
    key: "latency_ms",
    unit: "ms",
    min: 50,
    digits: 1,
  },
];
/** The SVG's own coordinate box and the room kept for the axis labels. */
const CW = 320;
const CH = 120;
const PAD = { l: 34, r: 6, t: 8, b: 18 };

function niceMax(v: number): number {
  const exp = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * exp >= v) return m * exp;
  return 10 * exp;
}

function fmtSpan(ms: number): string {
  const sec = Math.round(ms / 1000);
  return sec < 60 ? t("a_dur_s", { s: sec }) : t("a_span_min", { m: +(sec / 60).toFixed(1) });
}

export function drawCharts(now = Date.now()): void {
  const first = state.history[0]?.t ?? now;
  const win = Math.min(CHART_MAX_WINDOW_MS, Math.max(CHART_MIN_WINDOW_MS, now - first));
  $("h-charts").textContent = t("a_quality_last", { span: fmtSpan(win) });
  for (const c of CHARTS) drawChart(c, now, win);
}

function drawChart(c: ChartSpec, now: number, win: number): void {
  const fig = $(c.id);
  const has = (p: HistoryPoint): p is Sample => p[c.key] !== null;
  const pts = state.history.filter(has);
  const latest = pts[pts.length - 1];
  const max = niceMax(Math.max(c.min, ...pts.map((p) => p[c.key])));
  const x0 = now - win;
  const X = (t: number) => PAD.l + ((t - x0) / win) * (CW - PAD.l - PAD.r);
  const Y = (v: number) => PAD.t + (1 - v / max) * (CH - PAD.t - PAD.b);
  const svg = s("svg", {
    viewBox: `0 0 ${CW} ${CH}`,
    role: "img",
    "aria-label": t("a_chart_label", { title: t(c.title), span: fmtSpan(win) }),
  });
  for (const f of [0, 0.5, 1]) {
    const y = Y(max * f);
    svg.append(s("line", { class: "grid", x1: PAD.l, x2: CW - PAD.r, y1: y, y2: y }));
    const label = s("text", { class: "axis-label", x: PAD.l - 4, y: y + 3, "text-anchor": "end" });
    label.textContent = `${+(max * f).toFixed(2)}`;
    svg.append(label);
  }
  for (const [part, anchor] of [[1, "start"], [0.5, "middle"], [0, "end"]] as const) {
    const tick = s("text", {
      class: "axis-label",
      x: X(now - part * win),
      y: CH - 4,
      "text-anchor": anchor,
    });
    tick.textContent = part === 0 ? t("a_now") : `−${fmtSpan(part * win)}`;
    svg.append(tick);
  }
  // Break the line where a sample has no data (nobody reporting).
  let d = "";
  let area = "";
  let run: Sample[] = [];
  const flush = () => {
    if (run.length === 0) return;
    const line = run.map((p, i) => `${i ? "L" : "M"}${X(p.t).toFixed(1)},${Y(p[c.key]).toFixed(1)}`)
      .join("");
    d += line;
    area += `${line}L${X(run[run.length - 1].t).toFixed(1)},${Y(0)}L${X(run[0].t).toFixed(1)},${
      Y(0)
    }Z`;
    run = [];
  };
  for (const p of state.history) {
    if (p.t < x0) continue;
    if (has(p)) run.push(p);
    else flush();
  }
  flush();
  if (area) svg.append(s("path", { class: "area", d: area }));
  if (d) svg.append(s("path", { class: "line", d }));
  const value = latest ? `${latest[c.key].toFixed(c.digits)} ${c.unit}` : t("a_no_data");
  fig.className = `chart ${c.cls}`;
  fig.dataset.points = String(pts.length);
  fig.replaceChildren(h("figcaption", {}, h("span", {}, t(c.title)), h("strong", {}, value)), svg);
}
