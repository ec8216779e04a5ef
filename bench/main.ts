/**
 * `deno task bench`: every benchmark in one run, printed as tables with
 * ratios and written to bench/out/results.json.
 *
 *   deno run --allow-all bench/main.ts [--quick] [--duration S] [--json out.json]
 *                                       [--only fanout,gstreamer,senders,alsa,codec,opus,busy,budgets]
 *                                       [--busy-seconds S] [--busy-rounds N]
 *
 *   --quick       CI smoke: 1 s cases (0.5 s warm-up), 1 and 20 clients, fewer packets
 *   --duration S  steady-state seconds per fan-out / GStreamer case (default 5)
 *   --json FILE   also write the results there
 *   --only LIST   run only these parts
 *   --busy-seconds S  seconds per block of the idle-vs-busy control-plane bench (default 5;
 *                 --quick: 2)
 *   --busy-rounds N   idle/busy blocks, interleaved and pooled per case (default 3; --quick: 1)
 *
 * Parts written by others (bench/alsa_bench.ts, bench/codec_bench.ts) are
 * imported only when their files exist.
 */

import {
  benchFanout,
  type FanoutResult,
  formatFanout,
  healthy,
  LAYOUT_MODES,
} from "./fanout_bench.ts";
import { SENDER_KINDS } from "../src/net/create_sender.ts";
import {
  benchGstreamer,
  formatGst,
  gstreamerVersion,
  type GstResult,
} from "./gstreamer_baseline.ts";
import { benchSenders, formatTable as formatSenders } from "./sender_bench.ts";
import { generic, heading, num, ratio, table } from "./report.ts";
import { benchBusy, type BusyResult, formatBusy } from "./busy_bench.ts";
import { benchBudgets, formatBudgets } from "./budgets_bench.ts";

const PARTS = [
  "fanout",
  "gstreamer",
  "senders",
  "alsa",
  "codec",
  "opus",
  "busy",
  "budgets",
] as const;
type Part = typeof PARTS[number];
/** Targets stated by the issue. */
const TARGET_CPU_RATIO = 0.5;
const TARGET_C2W_P99_MS = 6;
const OUT_DIR = new URL("./out/", import.meta.url);

interface Flags {
  quick: boolean;
  durationS: number;
  json: string | null;
  only: Set<Part>;
  busySeconds: number;
  busyRounds: number;
}

function parseFlags(args: string[]): Flags {
  const flags: Flags = {
    quick: false,
    durationS: 5,
    json: null,
    only: new Set(PARTS),
    busySeconds: 5,
    busyRounds: 3,
  };
  let durationGiven = false;
  let busyGiven = false;
  let roundsGiven = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const value = () => {
      const v = args[++i];
      if (v === undefined) usage(`${a} needs a value`);
      return v;
    };
    if (a === "--quick") flags.quick = true;
    else if (a === "--duration") {
      const v = value();
      flags.durationS = Number(v);
      durationGiven = true;
      if (!(flags.durationS > 0)) usage(`--duration needs a positive number of seconds, got ${v}`);
    } else if (a === "--busy-seconds") {
      const v = value();
      flags.busySeconds = Number(v);
      busyGiven = true;
      if (!(flags.busySeconds > 0)) usage(`--busy-seconds needs a positive number, got ${v}`);
    } else if (a === "--busy-rounds") {
      const v = value();
      flags.busyRounds = Number(v);
      roundsGiven = true;
      if (!(Number.isInteger(flags.busyRounds) && flags.busyRounds > 0)) {
        usage(`--busy-rounds needs a positive whole number, got ${v}`);
      }
    } else if (a === "--json") flags.json = value();
    else if (a === "--only") {
      const list = value().split(",");
      const bad = list.filter((p) => !(PARTS as readonly string[]).includes(p));
      if (bad.length) usage(`--only takes ${PARTS.join(",")}; unknown: ${bad.join(",")}`);
      flags.only = new Set(list as Part[]);
    } else usage(`unknown argument ${a}`);
  }
  if (flags.quick && !durationGiven) flags.durationS = 1;
  if (flags.quick && !busyGiven) flags.busySeconds = 2;
  if (flags.quick && !roundsGiven) flags.busyRounds = 1;
  return flags;
}

function usage(msg: string): never {
  console.error(
    `${msg}\nusage: bench/main.ts [--quick] [--duration S] [--json FILE] ` +
      `[--only ${PARTS.join(",")}] [--busy-seconds S] [--busy-rounds N]`,
  );
  Deno.exit(2);
}

function exists(url: URL): boolean {
  try {
    return Deno.statSync(url).isFile;
  } catch {
    return false;
  }
}

async function version(cmd: string, args: string[]): Promise<string> {
  try {
    const o = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "null" }).output();
    return new TextDecoder().decode(o.stdout).trim();
  } catch {
    return "n/a";
  }
}

/** Ours against GStreamer (sync=false) per client count; the headline table. */
function formatComparison(fan: FanoutResult[], gst: GstResult[]): string {
  const counts = [...new Set(fan.map((r) => r.clients))].sort((a, b) => a - b);
  // Cases that did not keep up in real time have no meaningful CPU ratio.
  const find = (sender: string, layout: string, n: number) =>
    fan.find((r) => r.sender === sender && r.layout === layout && r.clients === n && healthy(r));
  const g = (n: number, sync: boolean) => gst.find((r) => r.clients === n && r.sync === sync);
  const rows = counts.map((n) => ({
    n,
    gst: g(n, false),
    gstSync: g(n, true),
    mm: find("sendmmsg", "same", n),
    mmDistinct: find("sendmmsg", "distinct", n),
    deno: find("deno", "same", n),
  }));
  const body = table(rows, [
    { title: "clients", value: (r) => String(r.n) },
    { title: "gst cpu %", value: (r) => num(r.gst?.cpuPercent) },
    { title: "gst sync cpu %", value: (r) => num(r.gstSync?.cpuPercent) },
    { title: "sendmmsg same %", value: (r) => num(r.mm?.cpuPercent) },
    { title: "÷gst", value: (r) => ratio(r.mm?.cpuPercent, r.gst?.cpuPercent) },
    { title: "µs/pkt ÷gst", value: (r) => ratio(r.mm?.cpuUsPerPacket, r.gst?.cpuUsPerPacket) },
    { title: "distinct %", value: (r) => num(r.mmDistinct?.cpuPercent) },
    { title: "÷gst", value: (r) => ratio(r.mmDistinct?.cpuPercent, r.gst?.cpuPercent) },
    { title: "deno same %", value: (r) => num(r.deno?.cpuPercent) },
    { title: "÷gst", value: (r) => ratio(r.deno?.cpuPercent, r.gst?.cpuPercent) },
    { title: "c2w p99 ms", value: (r) => num(r.mm?.captureToWireP99, 2) },
    {
      title: "targets",
      align: "left",
      value: (r) => {
        const cpu = r.mm && r.gst ? r.mm.cpuPercent / r.gst.cpuPercent : NaN;
        const c2w = r.mm?.captureToWireP99 ?? NaN;
        const mark = (ok: boolean, x: number) => (Number.isNaN(x) ? "n/a" : ok ? "ok" : "MISS");
        return `cpu≤${TARGET_CPU_RATIO}× ${mark(cpu <= TARGET_CPU_RATIO, cpu)}, ` +
          `p99<${TARGET_C2W_P99_MS} ms ${mark(c2w < TARGET_C2W_P99_MS, c2w)}`;
      },
    },
  ]);
  return body + "\n(gst = GStreamer with multiudpsink sync=false; ratios are CPU shares " +
    "measured in this run; c2w = sendmmsg, same layout; n/a = that case could not keep up)";
}

async function main(): Promise<void> {
  const flags = parseFlags(Deno.args);
  const durationS = flags.durationS;
  const warmupS = flags.quick ? 0.5 : 1;
  const clients = flags.quick ? [1, 20] : [1, 5, 20, 50];
  const results: Record<string, unknown> = {
    meta: {
      date: new Date().toISOString(),
      deno: Deno.version.deno,
      kernel: await version("uname", ["-r"]),
      cpus: navigator.hardwareConcurrency,
      loadavg: Deno.loadavg(),
      quick: flags.quick,
      durationS,
      warmupS,
      clients,
    },
  };
  const say = (s: string) => console.log(s);
  say(
    `m32-server bench — Deno ${Deno.version.deno}, ${navigator.hardwareConcurrency} CPUs, ` +
      `load ${Deno.loadavg().map((l) => l.toFixed(2)).join(" ")}, ${durationS} s per case ` +
      `after ${warmupS} s warm-up${flags.quick ? " (quick)" : ""}`,
  );

  // Ours and GStreamer run interleaved per client count, so the load of the
  // (shared) machine is as alike as it can be for the two sides of a ratio.
  const doFan = flags.only.has("fanout");
  const gstVersion = flags.only.has("gstreamer") ? await gstreamerVersion() : null;
  const fan: FanoutResult[] = [];
  const gst: GstResult[] = [];
  for (const [i, n] of clients.entries()) {
    if (doFan) {
      fan.push(
        ...await benchFanout({
          clients: [n],
          durationS,
          warmupS,
          onResult: (r) =>
            console.error(
              `  ${r.sender} ${r.layout} ×${r.clients}: ${num(r.cpuPercent)} % CPU` +
                (r.saturated ? " SATURATED" : ""),
            ),
        }),
      );
    }
    if (gstVersion) {
      gst.push(
        ...await benchGstreamer({
          clients: [n],
          durationS,
          warmupS,
          sourceOnly: i === 0,
          syncs: flags.quick ? [false] : [false, true],
          onResult: (r) =>
            console.error(`  gst sync=${r.sync} ×${r.clients}: ${num(r.cpuPercent)} %`),
        }),
      );
    }
  }
  if (doFan) {
    say(heading("fan-out: StreamingEngine, 16 ch L24 @ 48 kHz, 5 ms, to N loopback clients"));
    const order = (r: FanoutResult) =>
      SENDER_KINDS.indexOf(r.sender) * 2 + LAYOUT_MODES.indexOf(r.layout);
    fan.sort((a, b) => order(a) - order(b) || a.clients - b.clients);
    say(formatFanout(fan));
    results.fanout = fan;
  }
  if (flags.only.has("gstreamer")) {
    say(heading(`GStreamer baseline (${gstVersion ?? "not installed"})`));
    if (gstVersion) {
      gst.sort((a, b) => Number(a.sync) - Number(b.sync) || a.clients - b.clients);
      say(formatGst(gst));
      results.gstreamer = { version: gstVersion, results: gst };
    } else {
      say("gst-launch-1.0 with audiotestsrc, rtpL24pay and multiudpsink not present: skipped");
    }
  }

  if (fan.length && gst.length) {
    say(heading("ours ÷ GStreamer (CPU share of one core)"));
    say(formatComparison(fan, gst));
  }

  if (flags.only.has("senders")) {
    say(heading("senders: CPU per datagram"));
    const senders = await benchSenders(flags.quick ? { packets: 20_000, warmupPackets: 2000 } : {});
    say(formatSenders(senders));
    results.senders = senders;
  }

  if (flags.only.has("busy")) {
    say(heading("busy: period lateness, 20 UDP clients, control plane idle vs loaded"));
    // Both audio planes in one run: the main thread's (before) and the worker's (after).
    const busy: BusyResult[] = [];
    for (const plane of ["main", "worker"] as const) {
      busy.push(
        ...await benchBusy({ seconds: flags.busySeconds, rounds: flags.busyRounds, plane }),
      );
    }
    say(formatBusy(busy));
    results.busy = busy;
  }

  if (flags.only.has("budgets")) {
    say(heading("budgets the tests no longer assert (measured here, now)"));
    const budgets = await benchBudgets(flags.quick ? 2 : flags.durationS);
    say(formatBudgets(budgets));
    results.budgets = budgets;
  }

  const optional: { part: Part; file: string; fn: string }[] = [
    { part: "alsa", file: "alsa_bench.ts", fn: "benchAlsa" },
    { part: "codec", file: "codec_bench.ts", fn: "benchCodec" },
    { part: "opus", file: "opus_fanout_bench.ts", fn: "benchOpusFanout" },
  ];
  for (const o of optional) {
    if (!flags.only.has(o.part)) continue;
    const url = new URL(`./${o.file}`, import.meta.url);
    say(heading(`${o.part}: bench/${o.file}`));
    if (!exists(url)) {
      say(`bench/${o.file} not present: skipped`);
      continue;
    }
    const mod = await import(url.href) as Record<string, unknown>;
    const fn = mod[o.fn];
    if (typeof fn !== "function") {
      say(`bench/${o.file} does not export ${o.fn}(): skipped`);
      continue;
    }
    // Each takes the seconds of audio per case as their first argument.
    const r = await fn(flags.quick ? 1 : Math.max(3, durationS));
    say(generic(r));
    results[o.part] = r;
  }

  Deno.mkdirSync(OUT_DIR, { recursive: true });
  const json = JSON.stringify(results, null, 2) + "\n";
  const outFile = new URL("results.json", OUT_DIR);
  Deno.writeTextFileSync(outFile, json);
  if (flags.json) Deno.writeTextFileSync(flags.json, json);
  say(`\nresults: ${outFile.pathname}${flags.json ? `, ${flags.json}` : ""}`);
}

if (import.meta.main) await main();
