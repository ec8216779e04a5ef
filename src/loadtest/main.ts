/**
 * `deno task loadtest` — the QoS test bench of the requirements (🧪 QoS 테스트).
 * Thin: flags → runLoadtest → report.json + report.html. With `--transport`,
 * browser listeners instead (./listener_bench.ts) → runListenerLoadtest.
 */

import { parseArgs } from "node:util";
import { markdownSteps, writeReport } from "./report.ts";
import { type Condition, type LoadtestOptions, runLoadtest } from "./scenarios.ts";
import { isWifiProfileName, WIFI_PROFILES } from "../net/wifi_profile.ts";
import { type ListenerLoadOptions, logLine, runListenerLoadtest } from "./listener_bench.ts";
import {
  markdownChromiumTable,
  markdownListenerTable,
  writeListenerReport,
} from "./listener_report.ts";
import { LISTENER_TRANSPORTS } from "../listener/socket.ts";
import type { TransportKind } from "../../web/listener/connection.ts";

export const LOADTEST_USAGE = `deno task loadtest [flags]
  --scenario 1,2,3     which scenarios (default 1,2,3)
  --server URL         test an existing server (default: start one, test signal, temp dir)
  --max N --add K --step S   scenario 1: add K clients every S s up to N (default 20, 1, 10)
  --warmup S           settle time before each measurement (default 1)
  --clients N --duration S --window S   scenario 2: N clients for S s in windows (20, 30, 5);
                       --duration is also each scenario-3 condition's length
  --s3-clients N       clients per scenario-3 condition (default 3)
  --loss P --delay MS --jitter MS --reorder P   a custom scenario-3 condition
  --profile clean|stage-ap|crowded   scenarios 1 and 2: every client behind its own
                       impairment relay with this Wi-Fi profile (docs/wifi-relay.md)
  --seed N             impairment seed (default 1)
  --channels 1-8|all|1,5,32   channels per client (default 1-8)
  --force-delay 0,50,100      FORCE_DELAY_MS per client, cycled (default 0)
  --nft-loss P         scenario 3 nftables drop in a namespace (default 10; needs root)
  --no-nft --no-restart
  --adaptation         keep the own server's sample-rate adaptation (default off: fixed rate)
  --out DIR            report directory (default docs/loadtest)

deno task loadtest --transport websocket|datachannel|webtransport[,…] [flags]
  browser listeners (headless: the page's own code; werift; Deno's WebTransport)
  --listeners N        N headless listeners (default 20)
  --sweep 1,5,10,15,20 measure at each count instead (listeners are added, never restarted)
  --duration S --warmup S   each point's window and settle time (default 30, 3)
  --udp-clients K      UDP reference clients streaming beside them (default 4)
  --udp-channels 1-8   their channels (default 1-8)
  --chromium N         real Chromium listener pages on the same transport (default 2)
  --mapped N           the server maps channels 1–N (default 16)
  --listener-threads T worker threads the headless listeners are spread over (default 2)
  --server-flags "…"   extra flags for the server's Deno (e.g. "--cpu-prof --cpu-prof-dir=DIR")
  --out DIR            report directory (default docs/loadtest/listeners)`;

function channelsArg(v: string): number[] | undefined {
  if (v === "all") return undefined;
  const m = v.match(/^(\d+)-(\d+)$/);
  if (m) return Array.from({ length: Number(m[2]) - Number(m[1]) + 1 }, (_, i) => Number(m[1]) + i);
  return v.split(",").map(Number);
}

export function parseLoadtestArgs(args: string[]): LoadtestOptions & { out: string } {
  const { values: v } = parseArgs({
    args,
    options: {
      scenario: { type: "string", default: "1,2,3" },
      server: { type: "string" },
      max: { type: "string", default: "20" },
      add: { type: "string", default: "1" },
      step: { type: "string", default: "10" },
      warmup: { type: "string", default: "1" },
      clients: { type: "string", default: "20" },
      duration: { type: "string", default: "30" },
      window: { type: "string", default: "5" },
      "s3-clients": { type: "string", default: "3" },
      loss: { type: "string" },
      delay: { type: "string" },
      jitter: { type: "string" },
      reorder: { type: "string" },
      profile: { type: "string" },
      seed: { type: "string", default: "1" },
      channels: { type: "string", default: "1-8" },
      "force-delay": { type: "string", default: "0" },
      "nft-loss": { type: "string", default: "10" },
      "no-nft": { type: "boolean" },
      "no-restart": { type: "boolean" },
      adaptation: { type: "boolean" },
      out: { type: "string", default: "docs/loadtest" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (v.help) {
    console.log(LOADTEST_USAGE);
    Deno.exit(0);
  }
  const seed = Number(v.seed);
  if (!Number.isInteger(seed)) throw new RangeError(`--seed needs an integer, got ${v.seed}`);
  const profile = v.profile;
  if (profile !== undefined && !isWifiProfileName(profile)) {
    throw new RangeError(
      `--profile must be one of ${Object.keys(WIFI_PROFILES).join(", ")}, got ${profile}`,
    );
  }
  const custom = v.loss || v.delay || v.jitter || v.reorder;
  const conditions: Condition[] = custom
    ? [{
      name: `loss ${v.loss ?? 0}% delay ${v.delay ?? 0} ms jitter ${v.jitter ?? 0} ms reorder ${
        v.reorder ?? 0
      }%`,
      lossPct: Number(v.loss ?? 0),
      delayMs: Number(v.delay ?? 0),
      jitterMs: Number(v.jitter ?? 0),
      reorderPct: Number(v.reorder ?? 0),
      seed,
    }]
    : [
      { name: "clean (no relay)" },
      { name: "relay, no impairment", delayMs: 0.001, seed },
      { name: "loss 10 %", lossPct: 10, seed },
      { name: "delay 30 ms + jitter 0–10 ms", delayMs: 30, jitterMs: 10, seed },
      { name: "reorder 5 % (+10 ms)", reorderPct: 5, seed },
      { name: "loss 2 % + jitter 0–40 ms", lossPct: 2, jitterMs: 40, seed },
      ...Object.keys(WIFI_PROFILES).map((p) => ({
        name: `Wi-Fi ${p}`,
        profile: p as keyof typeof WIFI_PROFILES,
        seed,
      })),
    ];
  return {
    scenarios: v.scenario.split(",").map(Number),
    server: v.server,
    max: Number(v.max),
    add: Number(v.add),
    stepS: Number(v.step),
    warmupS: Number(v.warmup),
    clients: Number(v.clients),
    durationS: Number(v.duration),
    windowS: Number(v.window),
    s3Clients: Number(v["s3-clients"]),
    conditions,
    channels: channelsArg(v.channels),
    forceDelays: v["force-delay"].split(",").map(Number),
    nft: !v["no-nft"],
    nftLossPct: Number(v["nft-loss"]),
    restart: !v["no-restart"],
    adaptation: v.adaptation ?? false,
    profile,
    seed,
    log: (line) => console.error(line),
    out: v.out,
  };
}

export function parseListenerArgs(args: string[]): ListenerLoadOptions & { out: string } {
  const { values: v } = parseArgs({
    args,
    options: {
      transport: { type: "string" },
      listeners: { type: "string", default: "20" },
      sweep: { type: "string" },
      duration: { type: "string", default: "30" },
      warmup: { type: "string", default: "3" },
      "udp-clients": { type: "string", default: "4" },
      "udp-channels": { type: "string", default: "1-8" },
      chromium: { type: "string", default: "2" },
      mapped: { type: "string", default: "16" },
      "listener-threads": { type: "string", default: "2" },
      "server-flags": { type: "string" },
      out: { type: "string", default: "docs/loadtest/listeners" },
    },
  });
  const transports = (v.transport ?? "").split(",").filter((t) => t !== "");
  for (const t of transports) {
    if (!(LISTENER_TRANSPORTS as readonly string[]).includes(t)) {
      throw new RangeError(
        `--transport must be ${LISTENER_TRANSPORTS.join(", ")} (or a list), got ${t}`,
      );
    }
  }
  if (transports.length === 0) throw new RangeError("--transport needs a transport");
  const counts = (v.sweep ?? v.listeners).split(",").map(Number);
  if (!counts.every((n) => Number.isInteger(n) && n > 0)) {
    throw new RangeError(
      `listener counts must be positive integers, got ${v.sweep ?? v.listeners}`,
    );
  }
  const num = (name: string, x: string, min: number) => {
    const n = Number(x);
    if (!(Number.isFinite(n) && n >= min)) {
      throw new RangeError(`--${name} must be ≥ ${min}, got ${x}`);
    }
    return n;
  };
  return {
    transports: transports as TransportKind[],
    sweep: counts,
    durationS: num("duration", v.duration, 0.5),
    warmupS: num("warmup", v.warmup, 0),
    udpClients: num("udp-clients", v["udp-clients"], 0),
    udpChannels: channelsArg(v["udp-channels"]),
    chromium: num("chromium", v.chromium, 0),
    mapped: num("mapped", v.mapped, 1),
    listenerThreads: num("listener-threads", v["listener-threads"], 1),
    serverDenoFlags: v["server-flags"]?.split(/\s+/).filter((f) => f !== ""),
    log: (line) => console.error(line),
    out: v.out,
  };
}

async function listenerMain(args: string[]): Promise<void> {
  const { out, ...opts } = parseListenerArgs(args);
  const report = await runListenerLoadtest(
    opts,
    `deno task loadtest ${args.join(" ")}`,
    async (r) => void await writeListenerReport(r, out),
  );
  const files = await writeListenerReport(report, out);
  for (const run of report.runs) for (const p of run.points) console.log(logLine(p));
  console.log(`\n${markdownListenerTable(report)}\n\n${markdownChromiumTable(report)}\n`);
  console.log(`report: ${files.json} ${files.html}`);
}

if (
  import.meta.main && Deno.args.some((a) => a === "--transport" || a.startsWith("--transport="))
) {
  await listenerMain(Deno.args);
  Deno.exit(0);
}

if (import.meta.main) {
  const { out, ...opts } = parseLoadtestArgs(Deno.args);
  const report = await runLoadtest(opts);
  const files = await writeReport(report, out);
  if (report.scenario1) {
    console.log(`## Scenario 1\n\n${markdownSteps(report.scenario1.steps)}\n`);
    console.log(
      `knee: ${
        report.scenario1.knee
          ? `${report.scenario1.knee.clients} clients — ${report.scenario1.knee_reason}`
          : "none"
      }\n`,
    );
  }
  if (report.scenario2) {
    console.log(`## Scenario 2\n\n${markdownSteps([report.scenario2.overall])}\n`);
  }
  if (report.scenario3) {
    for (const c of report.scenario3.conditions) {
      console.log(
        `scenario 3 ${c.condition.name}: loss ${c.result.loss_pct} % jitter ${c.result.jitter_ms_mean} ms latency ${c.result.latency_ms_mean} ms concealed ${c.result.concealed_packets} dropped ${c.result.dropped_packets}`,
      );
    }
    console.log(`nft: ${JSON.stringify(report.scenario3.nft).slice(0, 300)}`);
    console.log(`restart: ${JSON.stringify(report.scenario3.restart)}`);
  }
  console.log(`report: ${files.json} ${files.html}`);
  Deno.exit(0);
}
