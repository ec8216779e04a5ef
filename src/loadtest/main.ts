/**
 * `deno task loadtest` — the QoS test bench of the requirements (🧪 QoS 테스트).
 * Thin: flags → runLoadtest → report.json + report.html.
 */

import { parseArgs } from "node:util";
import { markdownSteps, writeReport } from "./report.ts";
import { type Condition, type LoadtestOptions, runLoadtest } from "./scenarios.ts";
import { isWifiProfileName, WIFI_PROFILES } from "../net/wifi_profile.ts";

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
  --out DIR            report directory (default docs/loadtest)`;

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
