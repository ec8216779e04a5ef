/**
 * The requirements' QoS scenarios (🧪 QoS 테스트) with durations as parameters:
 *
 *   1  ramp:     add `add` clients every `stepS` seconds up to `max`; each step
 *                is measured over its hold window (after `warmupS`)
 *   2  stress:   `clients` clients for `durationS`, measured every `windowS`
 *   3  impaired: per condition, `s3Clients` clients behind impairment relays
 *                (loss, delay, jitter, reordering, or a Wi-Fi profile of
 *                docs/wifi-relay.md) for `durationS`; then the
 *                nftables drop in a namespace (where permitted) and a server
 *                restart (own server only) with the clients' reconnects
 *
 * With `profile`, every client of scenarios 1 and 2 is behind its own relay
 * with that Wi-Fi profile (seeded per client), and each window reports the
 * relays' drops and in-spike datagrams beside the clients' loss and latency.
 *
 * Server CPU/RSS from /proc of the server child (own server) or from the
 * `server_metrics` of the clients' `/qos-metrics` answers (--server).
 */

import type { ImpairmentModel } from "../net/impairment.ts";
import { type Impairment, UniformImpairment } from "../net/uniform_impairment.ts";
import { WifiImpairment } from "../net/wifi_impairment.ts";
import { WIFI_PROFILES, type WifiProfileName } from "../net/wifi_profile.ts";
import { LoadClient, type Snapshot, type WindowFigures, windowFigures } from "./fleet.ts";
import { netnsAvailable, type NetnsResult, runNetnsDrop } from "./netns_drop.ts";
import { CpuWindow, procOpenFds, procRssAnonMiB, procRssMiB, procThreads } from "./proc_stats.ts";
import { type ServerHandle, spawnServer } from "./server_handle.ts";

export interface Condition extends Impairment {
  name: string;
  /** A Wi-Fi profile instead of the uniform settings. */
  profile?: WifiProfileName;
}

/** The impairment of one client under `cond` (undefined: no relay at all). */
export function conditionModel(cond: Condition, seed: number): ImpairmentModel | undefined {
  if (cond.profile) return new WifiImpairment(WIFI_PROFILES[cond.profile], seed);
  const { name: _n, profile: _p, seed: _s, ...imp } = cond;
  if (!Object.values(imp).some((v) => typeof v === "number" && v > 0)) return undefined;
  return new UniformImpairment({ ...imp, seed });
}

/** Client `index`'s seed under the bench seed `seed` (clients differ, runs repeat). */
export const clientSeed = (seed: number, index: number) => seed * 1000 + index;

export interface LoadtestOptions {
  scenarios: number[];
  /** An existing server; absent = start one. */
  server?: string;
  max: number;
  add: number;
  stepS: number;
  warmupS: number;
  clients: number;
  durationS: number;
  windowS: number;
  s3Clients: number;
  conditions: Condition[];
  channels?: number[];
  /** FORCE_DELAY_MS per client, cycled. */
  forceDelays: number[];
  nft: boolean;
  nftLossPct: number;
  /** Keep the own server's sample-rate adaptation on (default off: a fixed rate). */
  adaptation?: boolean;
  /** Scenarios 1 and 2: every client behind a relay with this Wi-Fi profile. */
  profile?: WifiProfileName;
  /** The impairment seed of `profile` (default 1). */
  seed?: number;
  restart: boolean;
  log: (line: string) => void;
}

export interface StepResult extends WindowFigures {
  t_s: number;
  window_s: number;
  server_cpu_pct: number | null;
  server_rss_mib: number | null;
  /** Of it, anonymous memory (heaps, JIT code): where a leak shows (own server only). */
  server_rss_anon_mib?: number | null;
  /** The own server's threads, open file descriptors and live timers at the window's end. */
  server_threads?: number | null;
  server_fds?: number | null;
  server_timers?: number | null;
  loadtest_cpu_pct: number | null;
  system_cpu_pct: number | null;
  server_metrics: Record<string, unknown> | null;
}

export interface ConditionResult {
  condition: Condition;
  result: StepResult;
  relay_dropped: number;
  relay_received: number;
}

export interface Report {
  generated: string;
  machine: { cpus: number; cpu_model: string; kernel: string; deno: string };
  options: Omit<LoadtestOptions, "log">;
  targets: { loss_pct: number; jitter_ms: number; latency_ms: number; server_cpu_pct: number };
  scenario1?: { steps: StepResult[]; knee: StepResult | null; knee_reason: string | null };
  scenario2?: { windows: StepResult[]; overall: StepResult };
  scenario3?: {
    conditions: ConditionResult[];
    nft: NetnsResult | { skipped: string };
    restart: { reconnected: number; clients: number; recovery_s: number | null } | {
      skipped: string;
    };
  };
}

export const TARGETS = { loss_pct: 1, jitter_ms: 5, latency_ms: 50, server_cpu_pct: 80 };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Which target a step misses, or null. */
export function missedTarget(s: StepResult): string | null {
  const miss: string[] = [];
  if (s.loss_pct >= TARGETS.loss_pct) miss.push(`loss ${s.loss_pct} % ≥ ${TARGETS.loss_pct} %`);
  if (s.jitter_ms_mean >= TARGETS.jitter_ms) {
    miss.push(`jitter ${s.jitter_ms_mean} ms ≥ ${TARGETS.jitter_ms} ms`);
  }
  if (s.latency_ms_mean !== null && s.latency_ms_mean >= TARGETS.latency_ms) {
    miss.push(`latency ${s.latency_ms_mean} ms ≥ ${TARGETS.latency_ms} ms`);
  }
  if (s.server_cpu_pct !== null && s.server_cpu_pct >= TARGETS.server_cpu_pct) {
    miss.push(`server CPU ${s.server_cpu_pct} % ≥ ${TARGETS.server_cpu_pct} %`);
  }
  if (s.streaming < s.clients) miss.push(`${s.clients - s.streaming} clients not streaming`);
  if (s.reconnects > 0) miss.push(`${s.reconnects} reconnects`);
  return miss.length ? miss.join("; ") : null;
}

const r1 = (x: number | null | undefined) => (x == null ? null : Math.round(x * 10) / 10);

class Bench {
  readonly fleet: LoadClient[] = [];
  readonly t0 = performance.now();
  readonly dataDirs: string[] = [];
  constructor(
    public server: ServerHandle | null,
    public url: string,
    readonly o: LoadtestOptions,
  ) {}

  /** A client behind `impairment` (null: no relay; absent: the bench's profile, if any). */
  addClient(impairment?: ImpairmentModel | null): LoadClient {
    const i = this.fleet.length;
    const fd = this.o.forceDelays.length ? this.o.forceDelays[i % this.o.forceDelays.length] : 0;
    if (impairment === undefined && this.o.profile) {
      impairment = new WifiImpairment(
        WIFI_PROFILES[this.o.profile],
        clientSeed(this.o.seed ?? 1, i),
      );
    }
    const c = new LoadClient({
      server: this.url,
      channels: this.o.channels,
      forceDelayMs: fd,
      impairment: impairment ?? undefined,
    });
    this.fleet.push(c);
    return c;
  }

  async removeAll(): Promise<void> {
    await Promise.all(this.fleet.splice(0).map((c) => c.stop()));
  }

  /** Measures the fleet over `seconds`. */
  async measure(seconds: number): Promise<StepResult> {
    const pids = [Deno.pid, ...(this.server ? [this.server.pid] : [])];
    const before: Snapshot[] = this.fleet.map((c) => c.snapshot());
    const cpu = new CpuWindow(pids).start();
    const start = performance.now();
    await sleep(seconds * 1000);
    const after = this.fleet.map((c) => c.snapshot());
    const { procs, systemPct } = cpu.stop();
    const fig = windowFigures(before, after);
    const sm = this.fleet.map((c) => c.client.serverMetrics).find((m) => m !== null) ?? null;
    const serverCpu = this.server
      ? procs.get(this.server.pid) ?? null
      : (typeof sm?.server_cpu_usage === "number" ? sm.server_cpu_usage : null);
    const serverRss = this.server
      ? procRssMiB(this.server.pid)
      : (typeof sm?.server_memory_usage === "number" ? sm.server_memory_usage : null);
    return {
      t_s: r1((start - this.t0) / 1000)!,
      window_s: r1((performance.now() - start) / 1000)!,
      ...fig,
      server_cpu_pct: r1(serverCpu),
      server_rss_mib: r1(serverRss),
      server_rss_anon_mib: this.server ? r1(procRssAnonMiB(this.server.pid)) : null,
      server_threads: this.server ? procThreads(this.server.pid) : null,
      server_fds: this.server ? procOpenFds(this.server.pid) : null,
      server_timers: this.server ? this.server.timers() : null,
      loadtest_cpu_pct: r1(procs.get(Deno.pid)),
      system_cpu_pct: r1(systemPct),
      server_metrics: sm,
    };
  }

  logStep(what: string, s: StepResult): void {
    this.o.log(
      `[LOAD] ${what}: clients=${s.clients} streaming=${s.streaming} loss=${s.loss_pct}% ` +
        `jitter=${s.jitter_ms_mean}/${s.jitter_ms_max}ms latency=${s.latency_ms_mean}/${s.latency_ms_max}ms ` +
        `server_cpu=${s.server_cpu_pct}% rss=${s.server_rss_mib}MiB rss_anon=${
          s.server_rss_anon_mib ?? "—"
        }MiB threads=${s.server_threads ?? "—"} ` +
        `fds=${s.server_fds ?? "—"} timers=${
          s.server_timers ?? "—"
        } loadtest_cpu=${s.loadtest_cpu_pct}% ` +
        `system=${s.system_cpu_pct}% concealed=${s.concealed_packets} dropped=${s.dropped_packets} ` +
        `rate=${s.sample_rates.join("/")}Hz reconnects=${s.reconnects}` +
        (s.relay_received > 0
          ? ` relay_received=${s.relay_received} relay_dropped=${s.relay_dropped} ` +
            `relay_in_spike=${s.relay_in_spike} relay_forwarded=${s.relay_forwarded} ` +
            `relay_own_loss=${s.relay_own_loss} (datagrams)`
          : ""),
    );
  }
}

async function waitStreaming(b: Bench, limitS = 10): Promise<void> {
  const end = performance.now() + limitS * 1000;
  while (performance.now() < end && b.fleet.some((c) => c.client.ack === null)) await sleep(50);
}

async function scenario1(b: Bench): Promise<NonNullable<Report["scenario1"]>> {
  const o = b.o;
  const steps: StepResult[] = [];
  while (b.fleet.length < o.max) {
    const n = Math.min(o.add, o.max - b.fleet.length);
    for (let k = 0; k < n; k++) b.addClient();
    await waitStreaming(b);
    await sleep(o.warmupS * 1000);
    const s = await b.measure(Math.max(0.5, o.stepS - o.warmupS));
    b.logStep("scenario 1", s);
    steps.push(s);
  }
  await b.removeAll();
  const knee = steps.find((s) => missedTarget(s) !== null) ?? null;
  return { steps, knee, knee_reason: knee ? missedTarget(knee) : null };
}

async function scenario2(b: Bench): Promise<NonNullable<Report["scenario2"]>> {
  const o = b.o;
  for (let k = 0; k < o.clients; k++) b.addClient();
  await waitStreaming(b);
  await sleep(o.warmupS * 1000);
  const first = b.fleet.map((c) => c.snapshot());
  const windows: StepResult[] = [];
  const t0 = performance.now();
  const cpu = new CpuWindow([Deno.pid, ...(b.server ? [b.server.pid] : [])]).start();
  while ((performance.now() - t0) / 1000 < o.durationS - 0.05) {
    const left = o.durationS - (performance.now() - t0) / 1000;
    const s = await b.measure(Math.min(o.windowS, left));
    b.logStep("scenario 2", s);
    windows.push(s);
  }
  const { procs, systemPct } = cpu.stop();
  const fig = windowFigures(first, b.fleet.map((c) => c.snapshot()));
  const last = windows[windows.length - 1];
  const overall: StepResult = {
    ...last,
    ...fig,
    t_s: r1((t0 - b.t0) / 1000)!,
    window_s: r1((performance.now() - t0) / 1000)!,
    server_cpu_pct: b.server ? r1(procs.get(b.server.pid)) : last?.server_cpu_pct ?? null,
    loadtest_cpu_pct: r1(procs.get(Deno.pid)),
    system_cpu_pct: r1(systemPct),
  };
  await b.removeAll();
  return { windows, overall };
}

async function scenario3(b: Bench): Promise<NonNullable<Report["scenario3"]>> {
  const o = b.o;
  const conditions: ConditionResult[] = [];
  for (const [ci, cond] of o.conditions.entries()) {
    for (let k = 0; k < o.s3Clients; k++) {
      // A condition without a relay is a clean client even when the bench has a profile.
      const model = conditionModel(cond, (cond.seed ?? o.seed ?? 1) + ci * 100 + k);
      b.addClient(model ?? null);
    }
    await waitStreaming(b);
    await sleep(o.warmupS * 1000);
    const s = await b.measure(o.durationS);
    b.logStep(`scenario 3 ${cond.name}`, s);
    let rd = 0, rr = 0;
    for (const c of b.fleet) {
      rd += c.relay?.link.stats.dropped ?? 0;
      rr += c.relay?.link.stats.received ?? 0;
    }
    conditions.push({ condition: cond, result: s, relay_dropped: rd, relay_received: rr });
    await b.removeAll();
  }
  let nft: NetnsResult | { skipped: string };
  const why = !o.nft
    ? "disabled (--no-nft)"
    : !b.server
    ? "needs the load test's own server (listening on 0.0.0.0)"
    : await netnsAvailable();
  if (why !== null) {
    nft = { skipped: why };
    o.log(`[LOAD] scenario 3 nftables drop skipped: ${why}`);
  } else {
    nft = await runNetnsDrop(b.server!.httpPort, o.nftLossPct, o.durationS + 1, o.channels);
    o.log(
      `[LOAD] scenario 3 nftables drop ${o.nftLossPct}%: ${
        JSON.stringify(nft.summary ?? nft.error)
      }`,
    );
  }
  let restart: NonNullable<Report["scenario3"]>["restart"];
  if (!o.restart || !b.server) {
    restart = { skipped: !o.restart ? "disabled" : "needs the load test's own server" };
  } else {
    for (let k = 0; k < o.s3Clients; k++) b.addClient();
    await waitStreaming(b);
    const ssrcs = b.fleet.map((c) => c.client.ack?.ssrc);
    const port = b.server.httpPort;
    await b.server.stop();
    const t0 = performance.now();
    const dir2 = await Deno.makeTempDir({ prefix: "m32-loadtest-srv-" });
    b.dataDirs.push(dir2);
    b.server = await spawnServer({
      adaptation: o.adaptation,
      port,
      hostname: "0.0.0.0",
      dataDir: dir2,
      maxClients: Math.max(o.max, o.clients, 20),
    });
    const back = () =>
      b.fleet.filter((c, i) => c.client.ack !== null && c.client.ack.ssrc !== ssrcs[i]).length;
    const end = performance.now() + 20_000;
    while (back() < b.fleet.length && performance.now() < end) await sleep(50);
    const recovery = back() === b.fleet.length ? r1((performance.now() - t0) / 1000) : null;
    restart = { reconnected: back(), clients: b.fleet.length, recovery_s: recovery };
    o.log(
      `[LOAD] scenario 3 server restart: ${back()}/${b.fleet.length} clients back in ${
        recovery ?? "—"
      } s`,
    );
    await b.removeAll();
  }
  return { conditions, nft, restart };
}

export async function runLoadtest(o: LoadtestOptions): Promise<Report> {
  let server: ServerHandle | null = null;
  let dataDir: string | null = null;
  if (!o.server) {
    dataDir = await Deno.makeTempDir({ prefix: "m32-loadtest-srv-" });
    server = await spawnServer({
      adaptation: o.adaptation,
      hostname: "0.0.0.0",
      dataDir,
      maxClients: Math.max(o.max, o.clients, 20),
    });
    o.log(`[LOAD] server ${server.url} (pid ${server.pid}, data ${dataDir})`);
  }
  const b = new Bench(server, o.server ?? server!.url, o);
  // Ctrl-C / SIGTERM: stop the server child too, never leave it behind.
  const onSignal = () => {
    void b.server?.stop().finally(() => Deno.exit(130));
  };
  for (const sig of ["SIGINT", "SIGTERM"] as const) Deno.addSignalListener(sig, onSignal);
  const { log: _log, ...options } = o;
  const report: Report = {
    generated: new Date().toISOString(),
    machine: machineInfo(),
    options,
    targets: TARGETS,
  };
  try {
    if (o.scenarios.includes(1)) report.scenario1 = await scenario1(b);
    if (o.scenarios.includes(2)) report.scenario2 = await scenario2(b);
    if (o.scenarios.includes(3)) report.scenario3 = await scenario3(b);
  } finally {
    for (const sig of ["SIGINT", "SIGTERM"] as const) Deno.removeSignalListener(sig, onSignal);
    await b.removeAll();
    await b.server?.stop();
    if (dataDir) b.dataDirs.push(dataDir);
    for (const d of b.dataDirs) await Deno.remove(d, { recursive: true }).catch(() => {});
  }
  return report;
}

export function machineInfo(): Report["machine"] {
  let model = "";
  try {
    model = Deno.readTextFileSync("/proc/cpuinfo").match(/^model name\s*:\s*(.*)$/m)?.[1] ?? "";
  } catch { /* not Linux */ }
  return {
    cpus: navigator.hardwareConcurrency,
    cpu_model: model,
    kernel: Deno.osRelease(),
    deno: Deno.version.deno,
  };
}
