/**
 * The load test report: report.json (everything) and report.html (the
 * requirements' 성능 그래프 — client count vs loss, jitter, latency and CPU as
 * inline SVG line charts, target lines dashed — plus the tables).
 */

import { missedTarget, type Report, type StepResult, TARGETS } from "./scenarios.ts";

export const esc = (s: string) =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

interface Series {
  label: string;
  color: string;
  points: [number, number][];
}

/** One line chart as an SVG string. */
export function svgChart(
  title: string,
  xLabel: string,
  yLabel: string,
  series: Series[],
  target?: number,
): string {
  const W = 460, H = 260, L = 52, R = 12, T = 28, B = 40;
  const xs = series.flatMap((s) => s.points.map((p) => p[0]));
  const ys = series.flatMap((s) => s.points.map((p) => p[1]));
  const xMin = Math.min(...xs, 0), xMax = Math.max(...xs, 1);
  const yMax = Math.max(...ys, target ?? 0, 1e-9) * 1.1;
  const px = (x: number) => L + ((x - xMin) / (xMax - xMin || 1)) * (W - L - R);
  const py = (y: number) => H - B - (y / yMax) * (H - T - B);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" font-family="sans-serif" font-size="11">`,
    `<text x="${W / 2}" y="16" text-anchor="middle" font-size="13" font-weight="bold">${
      esc(title)
    }</text>`,
    `<line x1="${L}" y1="${H - B}" x2="${W - R}" y2="${H - B}" stroke="#444"/>`,
    `<line x1="${L}" y1="${T}" x2="${L}" y2="${H - B}" stroke="#444"/>`,
    `<text x="${(L + W - R) / 2}" y="${H - 8}" text-anchor="middle">${esc(xLabel)}</text>`,
    `<text x="12" y="${(T + H - B) / 2}" text-anchor="middle" transform="rotate(-90 12 ${
      (T + H - B) / 2
    })">${esc(yLabel)}</text>`,
  ];
  for (let k = 0; k <= 4; k++) {
    const y = (yMax * k) / 4;
    parts.push(
      `<line x1="${L}" y1="${py(y)}" x2="${W - R}" y2="${py(y)}" stroke="#ddd"/>`,
      `<text x="${L - 4}" y="${py(y) + 4}" text-anchor="end">${
        y < 10 ? y.toFixed(2) : y.toFixed(0)
      }</text>`,
    );
  }
  const ticks = [...new Set(xs)].sort((a, b) => a - b);
  const every = Math.max(1, Math.ceil(ticks.length / 12));
  ticks.forEach((x, i) => {
    if (i % every === 0) {
      parts.push(`<text x="${px(x)}" y="${H - B + 14}" text-anchor="middle">${x}</text>`);
    }
  });
  if (target !== undefined) {
    parts.push(
      `<line x1="${L}" y1="${py(target)}" x2="${W - R}" y2="${
        py(target)
      }" stroke="#c00" stroke-dasharray="5,4"/>`,
      `<text x="${W - R - 2}" y="${
        py(target) - 4
      }" text-anchor="end" fill="#c00">target ${target}</text>`,
    );
  }
  series.forEach((s, i) => {
    if (s.points.length === 0) return;
    const d = s.points.map((p, k) =>
      `${k ? "L" : "M"}${px(p[0]).toFixed(1)},${py(p[1]).toFixed(1)}`
    ).join(" ");
    parts.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="2"/>`);
    for (const p of s.points) {
      parts.push(
        `<circle cx="${px(p[0]).toFixed(1)}" cy="${
          py(p[1]).toFixed(1)
        }" r="2.5" fill="${s.color}"/>`,
      );
    }
    parts.push(
      `<rect x="${L + 8}" y="${T + 4 + i * 14}" width="10" height="3" fill="${s.color}"/>`,
      `<text x="${L + 22}" y="${T + 9 + i * 14}">${esc(s.label)}</text>`,
    );
  });
  parts.push("</svg>");
  return parts.join("\n");
}

const pts = (steps: StepResult[], f: (s: StepResult) => number | null): [number, number][] =>
  steps.filter((s) => f(s) !== null).map((s) => [s.clients, f(s)!]);

function stepTable(steps: StepResult[], first: string, firstOf: (s: StepResult) => string): string {
  const head = [
    first,
    "streaming",
    "loss %",
    "jitter ms (mean/max)",
    "latency ms (mean/max)",
    "server CPU %",
    "server RSS MiB (anon)",
    "threads / fds / timers",
    "load test CPU %",
    "machine CPU %",
    "concealed",
    "dropped",
    "verdict",
  ];
  const rows = steps.map((s) => {
    const miss = missedTarget(s);
    return [
      firstOf(s),
      `${s.streaming}/${s.clients}`,
      s.loss_pct,
      `${s.jitter_ms_mean} / ${s.jitter_ms_max}`,
      `${s.latency_ms_mean ?? "—"} / ${s.latency_ms_max ?? "—"}`,
      s.server_cpu_pct ?? "—",
      `${s.server_rss_mib ?? "—"} (${s.server_rss_anon_mib ?? "—"})`,
      `${s.server_threads ?? "—"} / ${s.server_fds ?? "—"} / ${s.server_timers ?? "—"}`,
      s.loadtest_cpu_pct ?? "—",
      s.system_cpu_pct ?? "—",
      s.concealed_packets,
      s.dropped_packets,
      miss ? `<span class="bad">${esc(miss)}</span>` : "ok",
    ];
  });
  return `<table><tr>${head.map((h) => `<th>${h}</th>`).join("")}</tr>${
    rows.map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join("")}</tr>`).join("")
  }</table>`;
}

/** Markdown table of a step list (for the console and reports). */
export function markdownSteps(steps: StepResult[]): string {
  const lines = [
    "| clients | streaming | loss % | jitter ms mean/max | latency ms mean/max | server CPU % | server RSS MiB | load test CPU % | machine CPU % | verdict |",
    "|---|---|---|---|---|---|---|---|---|---|",
  ];
  for (const s of steps) {
    lines.push(
      `| ${s.clients} | ${s.streaming} | ${s.loss_pct} | ${s.jitter_ms_mean} / ${s.jitter_ms_max} | ${
        s.latency_ms_mean ?? "—"
      } / ${s.latency_ms_max ?? "—"} | ${s.server_cpu_pct ?? "—"} | ${s.server_rss_mib ?? "—"} | ${
        s.loadtest_cpu_pct ?? "—"
      } | ${s.system_cpu_pct ?? "—"} | ${missedTarget(s) ?? "ok"} |`,
    );
  }
  return lines.join("\n");
}

export function renderHtml(r: Report): string {
  const out: string[] = [];
  out.push(
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>m32-server load test</title>
<style>body{font-family:sans-serif;margin:24px;max-width:1200px}table{border-collapse:collapse;margin:8px 0 24px}
td,th{border:1px solid #ccc;padding:3px 7px;font-size:13px;text-align:right}th{background:#f3f3f3}
.bad{color:#b00}.charts{display:flex;flex-wrap:wrap;gap:12px}code{background:#f3f3f3;padding:1px 4px}</style></head><body>`,
  );
  out.push(
    `<h1>m32-server load test</h1><p>${esc(r.generated)} — ${r.machine.cpus} CPUs (${
      esc(r.machine.cpu_model)
    }),
kernel ${esc(r.machine.kernel)}, Deno ${
      esc(r.machine.deno)
    }. Targets (requirements, 성능 목표): loss &lt; ${TARGETS.loss_pct} %,
jitter &lt; ${TARGETS.jitter_ms} ms, latency &lt; ${TARGETS.latency_ms} ms, server CPU &lt; ${TARGETS.server_cpu_pct} % with 20 clients.
Channels per client: ${
      r.options.channels ? r.options.channels.join(",") : "all mapped"
    }. The clients run in one process on the
same machine as the server and share its cores: "load test CPU" is their cost, "machine CPU" the whole box (100 % = all cores busy).
Server CPU is in percent of one core.</p>`,
  );
  if (r.scenario1) {
    const s = r.scenario1.steps;
    out.push(
      `<h2>Scenario 1 — ramp (add ${r.options.add} client(s) every ${r.options.stepS} s up to ${r.options.max})</h2>`,
    );
    out.push(
      `<p>Knee: ${
        r.scenario1.knee
          ? `${r.scenario1.knee.clients} clients — ${esc(r.scenario1.knee_reason ?? "")}`
          : "none within the run"
      }</p>`,
    );
    out.push(`<div class="charts">`);
    out.push(
      svgChart("Packet loss", "clients", "loss %", [{
        label: "loss %",
        color: "#d62728",
        points: pts(s, (x) => x.loss_pct),
      }], TARGETS.loss_pct),
    );
    out.push(svgChart("Jitter (RFC 3550)", "clients", "ms", [
      { label: "mean", color: "#1f77b4", points: pts(s, (x) => x.jitter_ms_mean) },
      { label: "max", color: "#aec7e8", points: pts(s, (x) => x.jitter_ms_max) },
    ], TARGETS.jitter_ms));
    out.push(svgChart("Latency (capture → client)", "clients", "ms", [
      { label: "mean", color: "#2ca02c", points: pts(s, (x) => x.latency_ms_mean) },
      { label: "max", color: "#98df8a", points: pts(s, (x) => x.latency_ms_max) },
    ], TARGETS.latency_ms));
    out.push(svgChart("CPU", "clients", "% of one core", [
      { label: "server", color: "#ff7f0e", points: pts(s, (x) => x.server_cpu_pct) },
      { label: "load test clients", color: "#9467bd", points: pts(s, (x) => x.loadtest_cpu_pct) },
      {
        label: "machine (% of all cores)",
        color: "#7f7f7f",
        points: pts(s, (x) => x.system_cpu_pct),
      },
    ], TARGETS.server_cpu_pct));
    out.push(`</div>`);
    out.push(stepTable(s, "clients", (x) => String(x.clients)));
  }
  if (r.scenario2) {
    out.push(`<h2>Scenario 2 — ${r.options.clients} clients for ${r.options.durationS} s</h2>`);
    out.push(stepTable([r.scenario2.overall], "window", () => "overall"));
    out.push(stepTable(r.scenario2.windows, "t (s)", (x) => String(x.t_s)));
  }
  if (r.scenario3) {
    out.push(
      `<h2>Scenario 3 — impaired network (${r.options.s3Clients} clients per condition, ${r.options.durationS} s)</h2>`,
    );
    out.push(
      `<table><tr><th>condition</th><th>relay dropped</th><th>measured loss %</th><th>jitter ms</th><th>latency ms</th><th>concealed</th><th>dropped</th></tr>${
        r.scenario3.conditions.map((c) =>
          `<tr><td>${esc(c.condition.name)}</td><td>${
            c.relay_received ? ((c.relay_dropped / c.relay_received) * 100).toFixed(2) + " %" : "—"
          }</td><td>${c.result.loss_pct}</td><td>${c.result.jitter_ms_mean} / ${c.result.jitter_ms_max}</td><td>${
            c.result.latency_ms_mean ?? "—"
          } / ${
            c.result.latency_ms_max ?? "—"
          }</td><td>${c.result.concealed_packets}</td><td>${c.result.dropped_packets}</td></tr>`
        ).join("")
      }</table>`,
    );
    const nft = r.scenario3.nft;
    out.push(
      `<p>nftables random drop in a network namespace: ${
        "skipped" in nft
          ? `skipped — ${esc(nft.skipped)}`
          : nft.summary
          ? `configured ${nft.configured_loss_pct} %, measured ${
            ((nft.summary.packet_loss_rate as number) * 100).toFixed(2)
          } % (${nft.summary.packets_received}/${nft.summary.packets_expected} packets)`
          : `failed — ${esc(nft.error ?? "")}`
      }</p>`,
    );
    const rs = r.scenario3.restart;
    out.push(
      `<p>Server restart on the same port: ${
        "skipped" in rs
          ? `skipped — ${esc(rs.skipped)}`
          : `${rs.reconnected}/${rs.clients} clients reconnected by themselves in ${
            rs.recovery_s ?? "—"
          } s`
      }</p>`,
    );
  }
  out.push(`</body></html>`);
  return out.join("\n");
}

export async function writeReport(r: Report, dir: string): Promise<{ json: string; html: string }> {
  await Deno.mkdir(dir, { recursive: true });
  const json = `${dir}/report.json`, html = `${dir}/report.html`;
  await Deno.writeTextFile(json, JSON.stringify(r, null, 2) + "\n");
  await Deno.writeTextFile(html, renderHtml(r));
  return { json, html };
}
