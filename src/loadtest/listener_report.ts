/**
 * The browser-listener load test's report (./listener_bench.ts): report.json
 * (everything), report.html (listeners vs server CPU, loss, latency and period
 * lateness per transport as inline SVG charts, then the tables) and the
 * Markdown tables the README carries.
 */
import { esc, svgChart } from "./report.ts";
import {
  LISTENER_TARGETS,
  type ListenerPoint,
  type ListenerReport,
  missedListenerTarget,
} from "./listener_bench.ts";

const COLORS: Record<string, string> = {
  websocket: "#1f77b4",
  datachannel: "#d62728",
  webtransport: "#2ca02c",
};
const dash = (v: number | null | undefined) => (v == null ? "—" : String(v));
const pair = (a: number | null | undefined, b: number | null | undefined) =>
  `${dash(a)} / ${dash(b)}`;

function pages(p: ListenerPoint, f: (c: ListenerPoint["chromium"][number]) => string): string {
  return p.chromium.length ? p.chromium.map(f).join("; ") : "—";
}

/** The main table: one row per transport and listener count. */
export function markdownListenerTable(r: ListenerReport): string {
  const lines = [
    "| transport | listeners | streaming | loss % | latency p50 / p95 ms | concealments / min / listener | server CPU % of a core | server RSS MiB | lateness p99 / p99.9 ms | UDP clients' loss % | verdict |",
    "|---|---|---|---|---|---|---|---|---|---|---|",
  ];
  for (const run of r.runs) {
    for (const p of run.points) {
      lines.push(
        `| ${p.transport} | ${p.listeners} | ${p.streaming} | ${p.loss_pct} | ${
          pair(p.latency_ms_p50, p.latency_ms_p95)
        } | ${p.concealments_per_min} | ${dash(p.server_cpu_pct)} | ${dash(p.server_rss_mib)} | ${
          pair(p.lateness_ms.p99, p.lateness_ms.p999)
        } | ${p.udp ? p.udp.loss_pct : "—"} | ${missedListenerTarget(p) ?? "ok"} |`,
      );
    }
    if (run.error) lines.push(`| ${run.transport} | failed: ${run.error} |`);
  }
  return lines.join("\n");
}

/** Headless listeners beside the Chromium pages of the same window. */
export function markdownChromiumTable(r: ListenerReport): string {
  const lines = [
    "| transport | listeners | headless: loss % / concealments per min / latency p50, p95 ms | Chromium pages: loss % / concealments per min / latency p50, p95 ms / playout latency ms |",
    "|---|---|---|---|",
  ];
  for (const run of r.runs) {
    for (const p of run.points) {
      lines.push(
        `| ${p.transport} | ${p.listeners} | ${p.loss_pct} / ${p.concealments_per_min} / ${
          dash(p.latency_ms_p50)
        }, ${dash(p.latency_ms_p95)} | ${
          pages(p, (c) =>
            `${c.loss_pct} / ${c.concealments_per_min} / ${dash(c.latency_ms_p50)}, ${
              dash(c.latency_ms_p95)
            } / ${dash(c.playout_latency_ms)}`)
        } |`,
      );
    }
  }
  return lines.join("\n");
}

function table(r: ListenerReport): string {
  const head = [
    "transport",
    "listeners",
    "streaming",
    "mixes (Opus/PCM, channels)",
    "loss %",
    "packets",
    "latency mean / p50 / p95 / max ms",
    "concealed (buffer / Opus)",
    "concealments / min / listener",
    "late drops",
    "server CPU %",
    "RSS MiB",
    "threads",
    "lateness p50 / p99 / p99.9 / max ms",
    "periods &gt; 5 ms",
    "sender / relay drops",
    "browser packets / s",
    "server CPU µs / packet",
    "UDP loss % (clients)",
    "kernel UDP drops",
    "load test CPU %",
    "machine CPU %",
    "Chromium pages",
    "verdict",
  ];
  const rows: string[] = [];
  for (const run of r.runs) {
    for (const p of run.points) {
      const miss = missedListenerTarget(p);
      const cells = [
        p.transport,
        p.listeners,
        p.streaming,
        `${p.mixes.opus}/${p.mixes.pcm}, ${p.mixes.channels}`,
        p.loss_pct,
        `${p.packets_received}/${p.packets_expected}`,
        `${dash(p.latency_ms_mean)} / ${dash(p.latency_ms_p50)} / ${dash(p.latency_ms_p95)} / ${
          dash(p.latency_ms_max)
        }`,
        `${p.concealed_packets} / ${p.concealed_groups}`,
        p.concealments_per_min,
        p.dropped_packets,
        dash(p.server_cpu_pct),
        dash(p.server_rss_mib),
        dash(p.server_threads),
        `${dash(p.lateness_ms.p50)} / ${dash(p.lateness_ms.p99)} / ${dash(p.lateness_ms.p999)} / ${
          dash(p.lateness_ms.max)
        }`,
        p.late_periods,
        `${p.server_sender_dropped} / ${p.server_relay_dropped}`,
        p.server_packets_per_s,
        dash(p.server_cpu_us_per_packet),
        p.udp ? `${p.udp.loss_pct} (${p.udp.clients})` : "—",
        dash(p.kernel_udp_drops),
        dash(p.loadtest_cpu_pct),
        dash(p.system_cpu_pct),
        esc(
          pages(
            p,
            (c) =>
              `${c.transport}/${c.audio_path}: loss ${c.loss_pct} %, ${c.concealments_per_min}/min, ` +
              `latency ${dash(c.latency_ms_p50)}/${dash(c.latency_ms_p95)} ms, playout ${
                dash(c.playout_latency_ms)
              } ms`,
          ),
        ),
        miss ? `<span class="bad">${esc(miss)}</span>` : "ok",
      ];
      rows.push(`<tr>${cells.map((c) => `<td>${c}</td>`).join("")}</tr>`);
    }
    if (run.error) {
      rows.push(
        `<tr><td>${run.transport}</td><td colspan="${head.length - 1}" class="bad">failed: ${
          esc(run.error)
        }</td></tr>`,
      );
    }
  }
  return `<table><tr>${head.map((h) => `<th>${h}</th>`).join("")}</tr>${rows.join("")}</table>`;
}

export function renderListenerHtml(r: ListenerReport): string {
  const series = (f: (p: ListenerPoint) => number | null) =>
    r.runs.map((run) => ({
      label: run.transport,
      color: COLORS[run.transport] ?? "#7f7f7f",
      points: run.points.flatMap((p) => {
        const y = f(p);
        return y === null ? [] : [[p.listeners, y] as [number, number]];
      }),
    }));
  const o = r.options;
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>m32-server browser listeners load test</title>
<style>body{font-family:sans-serif;margin:24px;max-width:1400px}table{border-collapse:collapse;margin:8px 0 24px}
td,th{border:1px solid #ccc;padding:3px 6px;font-size:12px;text-align:right}th{background:#f3f3f3}
.bad{color:#b00}.charts{display:flex;flex-wrap:wrap;gap:12px}code{background:#f3f3f3;padding:1px 4px}</style></head><body>
<h1>Browser listeners: ${esc(r.runs.map((x) => x.transport).join(", "))}</h1>
<p>${esc(r.generated)} — ${r.machine.cpus} CPUs (${esc(r.machine.cpu_model)}), kernel ${
    esc(r.machine.kernel)
  }, Deno ${esc(r.machine.deno)}.
Command: <code>${esc(r.command)}</code></p>
<p>Per transport a fresh server (child process, ${o.mapped} channels mapped); ${o.udpClients} UDP reference clients and ${o.chromium}
Chromium listener pages stream for the whole run; headless listeners (the page's own connection and receive code in Deno:
werift as the DataChannel peer, Deno's WebTransport) are added up to ${
    o.sweep.join(", ")
  }, each with its own mix, and measured for ${o.durationS} s
after ${o.warmupS} s. Targets: loss ${LISTENER_TARGETS.loss_pct} %, server under ${LISTENER_TARGETS.server_cpu_pct} % of one core, UDP clients' loss ${LISTENER_TARGETS.udp_loss_pct} %.
Latency: capture → receive (RTP header extension, clock-synced), per packet. Lateness: the server's period lateness
(period end → its last datagram handed on), every period of the window.</p>
<div class="charts">
${
    svgChart(
      "Server CPU",
      "headless listeners",
      "% of one core",
      series((p) => p.server_cpu_pct),
      LISTENER_TARGETS.server_cpu_pct,
    )
  }
${svgChart("Listener loss", "headless listeners", "loss %", series((p) => p.loss_pct))}
${
    svgChart(
      "Latency p95 (capture → receive)",
      "headless listeners",
      "ms",
      series((p) => p.latency_ms_p95),
    )
  }
${svgChart("Period lateness p99.9", "headless listeners", "ms", series((p) => p.lateness_ms.p999))}
${svgChart("Server RSS", "headless listeners", "MiB", series((p) => p.server_rss_mib))}
${
    svgChart(
      "UDP clients' loss",
      "headless listeners",
      "loss %",
      series((p) => p.udp?.loss_pct ?? null),
    )
  }
</div>
${table(r)}
</body></html>`;
}

export async function writeListenerReport(
  r: ListenerReport,
  dir: string,
): Promise<{ json: string; html: string }> {
  await Deno.mkdir(dir, { recursive: true });
  const json = `${dir}/report.json`, html = `${dir}/report.html`;
  await Deno.writeTextFile(json, JSON.stringify(r, null, 2) + "\n");
  await Deno.writeTextFile(html, renderListenerHtml(r));
  return { json, html };
}
