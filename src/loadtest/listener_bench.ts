/**
 * `deno task loadtest --transport websocket|datachannel|webtransport`: browser
 * listeners at the spec's scale against the real server (a child process, so
 * its CPU and memory are its own).
 *
 * Per transport, one fresh server; beside the listeners for the whole run:
 *   - `udpClients` UDP reference clients (src/loadtest/fleet.ts, in a worker
 *     thread of their own: ./udp_fleet.ts), whose loss must stay 0 (the browser
 *     transports must not cost the UDP path); the kernel's UDP receive-buffer
 *     drops are counted beside them (loss on this machine's sockets, not the
 *     server's);
 *   - `chromium` real listener pages (./chromium_listeners.ts), the check
 *     that the headless listeners behave like the page.
 * Then for each count of the sweep, headless listeners (./headless_listener.ts:
 * the page's own connection and receive code, each with its own mix) are
 * added up to that count, settle for `warmupS`, and are measured for
 * `durationS`: loss, latency (capture → receive), concealments per minute,
 * server CPU (percent of one core) and RSS, and the server's period lateness
 * (the engine's histogram, reset at the window's start through the load
 * server's own route, src/loadtest/server_proc.ts).
 */
import type { TransportKind } from "../../web/listener/connection.ts";
import { type LatenessCounts, LatenessHistogram } from "../session/lateness.ts";
import { ChromiumListeners, type PageSnapshot } from "./chromium_listeners.ts";
import { type WindowFigures, windowFigures } from "./fleet.ts";
import { UdpFleet } from "./udp_fleet.ts";
import { listenerMix, type ListenerSnapshot } from "./headless_listener.ts";
import { ListenerPool, type ListenerState } from "./listener_pool.ts";
import { CpuWindow, procRssMiB, procThreads } from "./proc_stats.ts";
import { machineInfo } from "./scenarios.ts";
import { type ServerHandle, spawnServer } from "./server_handle.ts";

export const LISTENER_TARGETS = { loss_pct: 0, server_cpu_pct: 50, udp_loss_pct: 0 };
/** One packet time: a period later than this has held the next one up. */
const PACKET_TIME_MS = 5;

export interface ListenerLoadOptions {
  transports: TransportKind[];
  /** Headless listener counts, measured in turn (listeners are added, never restarted). */
  sweep: number[];
  durationS: number;
  warmupS: number;
  udpClients: number;
  /** Channels of each UDP client (default 1–8). */
  udpChannels?: number[];
  chromium: number;
  /** Channels the server maps (1–N): the listeners' mixes are chosen among them. */
  mapped: number;
  /** Extra flags for the server's Deno (e.g. `--cpu-prof`). */
  serverDenoFlags?: string[];
  /** Worker threads the headless listeners are spread over (default 2). */
  listenerThreads?: number;
  /** How long listeners may take to stream after being added. */
  streamTimeoutS?: number;
  log: (line: string) => void;
}

export interface Percentiles {
  count: number;
  p50: number | null;
  p95: number | null;
  p99: number | null;
  p999: number | null;
  max: number | null;
}

export interface PageFigures {
  transport: string | null;
  audio_path: string;
  playout: string | null;
  packets_expected: number;
  packets_received: number;
  loss_pct: number;
  concealed_packets: number;
  concealed_groups: number;
  concealments_per_min: number;
  dropped_packets: number;
  reconnects: number;
  underruns: number;
  /** The page's network latency (newest packet), sampled every half second. */
  latency_ms_p50: number | null;
  latency_ms_p95: number | null;
  /** The page's own capture → playout schedule latency at the window's end. */
  playout_latency_ms: number | null;
}

export interface ListenerPoint {
  transport: TransportKind;
  listeners: number;
  streaming: number;
  /** Listeners that received nothing in the window. */
  silent: number;
  window_s: number;
  /** Opus and PCM listeners, and channels asked for in all. */
  mixes: { opus: number; pcm: number; channels: number };
  packets_expected: number;
  packets_received: number;
  loss_pct: number;
  latency_ms_mean: number | null;
  latency_ms_p50: number | null;
  latency_ms_p95: number | null;
  latency_ms_max: number | null;
  concealed_packets: number;
  concealed_groups: number;
  /** Concealments (jitter buffer + Opus decoder) per listener per minute. */
  concealments_per_min: number;
  dropped_packets: number;
  decode_errors: number;
  reconnects: number;
  server_cpu_pct: number | null;
  server_rss_mib: number | null;
  server_threads: number | null;
  /** Period lateness over the window (ms), and periods later than one packet time. */
  lateness_ms: Percentiles;
  late_periods: number;
  /** Packets the server's browser senders dropped in the window (backed-up channel). */
  server_sender_dropped: number;
  /** Browser datagrams the server's audio worker dropped: its main thread fell a relay ring behind. */
  server_relay_dropped: number;
  /** Packets a second the server handed to its browser listeners' transports (Chromium's included). */
  server_packets_per_s: number;
  /** Server CPU per browser packet (all of the server's CPU, UDP clients' included), µs. */
  server_cpu_us_per_packet: number | null;
  udp: WindowFigures | null;
  /**
   * Datagrams this machine's kernel dropped in the window (/proc/net/snmp Udp
   * RcvbufErrors + SndbufErrors, every process's): UDP loss on loopback can only be here.
   */
  kernel_udp_drops: number | null;
  /** The transport each headless listener's connection picked, counted. */
  transports_used: Record<string, number>;
  /** The server's browser-listener sessions with a sender, by transport. */
  server_sessions: Record<string, number>;
  chromium: PageFigures[];
  loadtest_cpu_pct: number | null;
  system_cpu_pct: number | null;
  /** Listeners not streaming at the window's end, with their state. */
  not_streaming: string[];
  /** Listeners that lost packets in the window: which, their stream, how many. */
  lossy: string[];
  /** Listeners whose stream is not the mix they asked for (channels, compression). */
  mix_mismatches: string[];
}

export interface TransportRun {
  transport: TransportKind;
  points: ListenerPoint[];
  error: string | null;
}

export interface ListenerReport {
  kind: "listeners";
  generated: string;
  command: string;
  machine: { cpus: number; cpu_model: string; kernel: string; deno: string };
  options: Omit<ListenerLoadOptions, "log">;
  targets: typeof LISTENER_TARGETS;
  runs: TransportRun[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const r1 = (x: number | null | undefined) =>
  x == null || !Number.isFinite(x) ? null : Math.round(x * 10) / 10;
const r3 = (x: number | null | undefined) =>
  x == null || !Number.isFinite(x) ? null : Math.round(x * 1000) / 1000;

function pctOf(xs: number[], p: number): number | null {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] : null;
}

export function percentiles(h: LatenessHistogram): Percentiles {
  const s = h.summary();
  return {
    count: s.count,
    p50: r3(s.p50),
    p95: r3(h.percentile(95)),
    p99: r3(s.p99),
    p999: r3(s.p999),
    max: r3(s.max),
  };
}

interface ServerStats {
  lateness: LatenessCounts;
  senders: { kind: string; packets: number; dropped: number }[];
  relay_dropped: number;
}

async function serverStats(base: string, reset = false): Promise<ServerStats> {
  const r = await fetch(`${base}/loadtest/stats${reset ? "?reset=1" : ""}`);
  if (r.status !== 200) throw new Error(`/loadtest/stats ${r.status}: ${await r.text()}`);
  return await r.json();
}

const senderDropped = (s: ServerStats) => s.senders.reduce((n, x) => n + x.dropped, 0);
const senderPackets = (s: ServerStats) => s.senders.reduce((n, x) => n + x.packets, 0);

/** Figures of the headless listeners between two snapshots (listeners in the same order). */
export function listenerWindow(
  before: ListenerSnapshot[],
  after: ListenerSnapshot[],
  seconds: number,
): Pick<
  ListenerPoint,
  | "streaming"
  | "silent"
  | "packets_expected"
  | "packets_received"
  | "loss_pct"
  | "latency_ms_mean"
  | "concealed_packets"
  | "concealed_groups"
  | "concealments_per_min"
  | "dropped_packets"
  | "decode_errors"
  | "reconnects"
> {
  let exp = 0, rec = 0, cp = 0, cg = 0, dp = 0, de = 0, rc = 0, silent = 0, lc = 0, ls = 0;
  for (let i = 0; i < after.length; i++) {
    const a = before[i], b = after[i];
    const e = b.expected - a.expected, r = b.received - a.received;
    exp += e;
    rec += r;
    if (r <= 0) silent++;
    cp += b.concealedPackets - a.concealedPackets;
    cg += b.concealedGroups - a.concealedGroups;
    dp += b.droppedPackets - a.droppedPackets;
    de += b.decodeErrors - a.decodeErrors;
    rc += b.reconnects - a.reconnects;
    lc += b.latCount - a.latCount;
    ls += b.latSum - a.latSum;
  }
  const n = after.length;
  return {
    streaming: after.filter((s) => s.streaming).length,
    silent,
    packets_expected: exp,
    packets_received: rec,
    // Nothing expected from listeners that should stream is total loss, not none.
    loss_pct: exp > 0 ? r3((Math.max(0, exp - rec) / exp) * 100)! : (n > 0 ? 100 : 0),
    latency_ms_mean: lc > 0 ? r3(ls / lc) : null,
    concealed_packets: cp,
    concealed_groups: cg,
    concealments_per_min: n > 0 && seconds > 0 ? r1(((cp + cg) / n) * (60 / seconds))! : 0,
    dropped_packets: dp,
    decode_errors: de,
    reconnects: rc,
  };
}

function pageWindow(a: PageSnapshot, b: PageSnapshot, lat: number[], seconds: number): PageFigures {
  const exp = b.expected - a.expected, rec = b.received - a.received;
  const cp = b.concealedPackets - a.concealedPackets, cg = b.concealedGroups - a.concealedGroups;
  return {
    transport: b.transport,
    audio_path: b.audioPath,
    playout: b.playout,
    packets_expected: exp,
    packets_received: rec,
    loss_pct: exp > 0 ? r3((Math.max(0, exp - rec) / exp) * 100)! : 100,
    concealed_packets: cp,
    concealed_groups: cg,
    concealments_per_min: seconds > 0 ? r1((cp + cg) * (60 / seconds))! : 0,
    dropped_packets: b.droppedPackets - a.droppedPackets,
    reconnects: b.reconnects - a.reconnects,
    underruns: b.underruns - a.underruns,
    latency_ms_p50: r3(pctOf(lat, 50)),
    latency_ms_p95: r3(pctOf(lat, 95)),
    playout_latency_ms: r1(b.playoutLatencyMs),
  };
}

class TransportBench {
  readonly pool: ListenerPool;
  udp: UdpFleet | null = null;
  chromium: ChromiumListeners | null = null;
  mapped: number[] = [];

  constructor(
    readonly transport: TransportKind,
    readonly server: ServerHandle,
    readonly o: ListenerLoadOptions,
  ) {
    this.pool = new ListenerPool(o.listenerThreads ?? 2);
  }

  get url(): string {
    return this.server.url;
  }

  async start(): Promise<void> {
    const meta = await (await fetch(`${this.url}/audio-meta`)).json();
    this.mapped = (meta.channels as { id: number }[]).map((c) => c.id);
    if (this.o.udpClients > 0) {
      this.udp = await UdpFleet.start(this.url, this.o.udpClients, this.o.udpChannels);
    }
    if (this.o.chromium > 0) {
      this.chromium = await ChromiumListeners.open(this.o.chromium, this.transport, {
        http: this.url,
        https: this.server.httpsPort ? `https://127.0.0.1:${this.server.httpsPort}` : null,
      });
    }
  }

  async grow(n: number): Promise<void> {
    while (this.pool.size < n) {
      await this.pool.add(this.url, this.transport, listenerMix(this.pool.size, this.mapped));
    }
    const end = performance.now() + (this.o.streamTimeoutS ?? 30) * 1000;
    for (;;) {
      const st = await this.pool.states();
      if (st.every((l) => l.snap.streaming && l.snap.received > 0)) return;
      if (performance.now() > end) {
        this.o.log(
          `[LISTEN] ${n} ${this.transport} listeners not streaming within ${
            this.o.streamTimeoutS ?? 30
          } s; measuring anyway`,
        );
        return;
      }
      await sleep(200);
    }
  }

  async measure(): Promise<ListenerPoint> {
    const o = this.o;
    const seconds = o.durationS;
    const s0 = await serverStats(this.url, true);
    await this.pool.resetLatency();
    const before = (await this.pool.states()).map((l) => l.snap);
    const udpBefore = await this.udp?.snapshot() ?? [];
    const kernel0 = kernelUdpDrops();
    const pagesBefore = this.chromium ? await this.chromium.snapshot() : [];
    const pageLat: number[][] = pagesBefore.map(() => []);
    const cpu = new CpuWindow([this.server.pid, Deno.pid]).start();
    const t0 = performance.now();
    while (performance.now() - t0 < seconds * 1000) {
      await sleep(Math.min(500, seconds * 1000 - (performance.now() - t0)));
      if (this.chromium) {
        const snaps = await this.chromium.snapshot();
        snaps.forEach((s, i) => pageLat[i].push(s.latencyMs));
      }
    }
    const states = await this.pool.states(true);
    const after = states.map((l) => l.snap);
    const udpAfter = await this.udp?.snapshot() ?? [];
    const kernel1 = kernelUdpDrops();
    const pagesAfter = this.chromium ? await this.chromium.snapshot() : [];
    const { procs, systemPct } = cpu.stop();
    const windowS = (performance.now() - t0) / 1000;
    const s1 = await serverStats(this.url);
    const late = new LatenessHistogram();
    late.merge(s1.lateness);
    const lat = new LatenessHistogram();
    for (const l of states) if (l.latency) lat.merge(l.latency);
    const lp = percentiles(lat);
    const pps = (senderPackets(s1) - senderPackets(s0)) / windowS;
    const cpuPct = procs.get(this.server.pid) ?? null;
    const mixes = { opus: 0, pcm: 0, channels: 0 };
    for (const l of states) {
      if (l.ack?.encoding === "opus") mixes.opus++;
      else mixes.pcm++;
      mixes.channels += l.ack?.channels.length ?? 0;
    }
    return {
      transport: this.transport,
      listeners: states.length,
      window_s: r1(windowS)!,
      mixes,
      ...listenerWindow(before, after, windowS),
      latency_ms_p50: lp.p50,
      latency_ms_p95: lp.p95,
      latency_ms_max: lp.max,
      server_cpu_pct: r1(cpuPct),
      server_rss_mib: r1(procRssMiB(this.server.pid)),
      server_threads: procThreads(this.server.pid),
      lateness_ms: percentiles(late),
      late_periods: late.countAbove(PACKET_TIME_MS),
      server_sender_dropped: senderDropped(s1) - senderDropped(s0),
      server_relay_dropped: s1.relay_dropped - s0.relay_dropped,
      server_packets_per_s: Math.round(pps),
      server_cpu_us_per_packet: cpuPct !== null && pps > 0 ? r1((cpuPct / 100) * 1e6 / pps) : null,
      udp: this.udp ? windowFigures(udpBefore, udpAfter) : null,
      kernel_udp_drops: kernel0 !== null && kernel1 !== null ? kernel1 - kernel0 : null,
      transports_used: countBy(states.map((l) => l.transport ?? "none")),
      server_sessions: countBy(s1.senders.map((x) => x.kind)),
      chromium: pagesAfter.map((b, i) => pageWindow(pagesBefore[i], b, pageLat[i], windowS)),
      loadtest_cpu_pct: r1(procs.get(Deno.pid)),
      system_cpu_pct: r1(systemPct),
      lossy: states.flatMap((l, i) => {
        const e = after[i].expected - before[i].expected;
        const r = after[i].received - before[i].received;
        return e > r
          ? [`#${i} ${l.ack?.encoding ?? "?"} ${l.ack?.channels.length ?? 0} ch: ${e - r} of ${e}`]
          : [];
      }),
      mix_mismatches: states.flatMap((l, i) => {
        const why = mixMismatch(l.mix.channels.filter((c) => this.mapped.includes(c)), l);
        return why ? [`#${i} ${why}`] : [];
      }),
      not_streaming: states.flatMap((l, i) => l.snap.streaming ? [] : [`#${i} ${l.lastState}`]),
    };
  }

  async stop(): Promise<void> {
    await this.pool.stop();
    await this.udp?.stop();
    this.udp = null;
    await this.chromium?.close();
    this.chromium = null;
  }
}

/** How listener `l`'s stream differs from the mix it asked for (`want`: its mapped channels), or null. */
function mixMismatch(want: number[], l: ListenerState): string | null {
  const a = l.ack;
  if (!a) return "no stream";
  const got = [...a.channels].sort((x, y) => x - y);
  if (got.join(",") !== want.join(",")) return `channels ${got} instead of ${want}`;
  if (a.compression !== l.mix.compression) {
    return `${a.compression} instead of ${l.mix.compression}`;
  }
  return null;
}

function countBy(xs: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const x of xs) out[x] = (out[x] ?? 0) + 1;
  return out;
}

/** RcvbufErrors + SndbufErrors of the `Udp:` lines of /proc/net/snmp, or null. */
export function kernelUdpDrops(): number | null {
  try {
    const lines = Deno.readTextFileSync("/proc/net/snmp").split("\n")
      .filter((l) => l.startsWith("Udp: "));
    const names = lines[0].split(/\s+/), values = lines[1].split(/\s+/).map(Number);
    return values[names.indexOf("RcvbufErrors")] + values[names.indexOf("SndbufErrors")];
  } catch {
    return null;
  }
}

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** Which target a point misses, or null. */
export function missedListenerTarget(p: ListenerPoint): string | null {
  const miss: string[] = [];
  if (p.loss_pct > LISTENER_TARGETS.loss_pct) miss.push(`loss ${p.loss_pct} %`);
  if (p.silent > 0) miss.push(`${p.silent} listeners received nothing`);
  if (p.mix_mismatches.length > 0) {
    miss.push(`${p.mix_mismatches.length} listeners got another mix`);
  }
  const used = p.transports_used[p.transport] ?? 0;
  if (used < p.listeners) miss.push(`${p.listeners - used} listeners on another transport`);
  if (p.server_cpu_pct !== null && p.server_cpu_pct >= LISTENER_TARGETS.server_cpu_pct) {
    miss.push(`server CPU ${p.server_cpu_pct} % ≥ ${LISTENER_TARGETS.server_cpu_pct} %`);
  }
  if (p.udp && p.udp.loss_pct > LISTENER_TARGETS.udp_loss_pct) {
    miss.push(`UDP clients lost ${p.udp.loss_pct} %`);
  }
  return miss.length ? miss.join("; ") : null;
}

export async function runListenerLoadtest(
  o: ListenerLoadOptions,
  command = "",
  /** Called with the report so far after each transport (to write it as it grows). */
  onRun?: (r: ListenerReport) => Promise<void>,
): Promise<ListenerReport> {
  const { log: _log, ...options } = o;
  const report: ListenerReport = {
    kind: "listeners",
    generated: new Date().toISOString(),
    command,
    machine: machineInfo(),
    options,
    targets: LISTENER_TARGETS,
    runs: [],
  };
  let current: { bench: TransportBench | null; server: ServerHandle | null } = {
    bench: null,
    server: null,
  };
  // Ctrl-C / SIGTERM: stop the server child and the browser too, never leave them behind.
  const onSignal = () => {
    void (async () => {
      await current.bench?.stop().catch(() => {});
      await current.server?.stop();
      Deno.exit(130);
    })();
  };
  for (const sig of ["SIGINT", "SIGTERM"] as const) Deno.addSignalListener(sig, onSignal);
  try {
    for (const transport of o.transports) {
      const run: TransportRun = { transport, points: [], error: null };
      report.runs.push(run);
      const dataDir = await Deno.makeTempDir({ prefix: "m32-loadtest-srv-" });
      const server = await spawnServer({
        hostname: "127.0.0.1",
        dataDir,
        maxClients: 60,
        mapped: o.mapped,
        httpsPort: transport === "webtransport" ? freePort() : undefined,
        denoFlags: o.serverDenoFlags,
      });
      const bench = new TransportBench(transport, server, o);
      current = { bench, server };
      o.log(`[LISTEN] ${transport}: server ${server.url} (pid ${server.pid})`);
      try {
        await bench.start();
        for (const n of o.sweep) {
          await bench.grow(n);
          await sleep(o.warmupS * 1000);
          const p = await bench.measure();
          run.points.push(p);
          o.log(logLine(p));
        }
      } catch (e) {
        run.error = (e as Error).message;
        o.log(`[LISTEN] ${transport} failed: ${run.error}`);
      } finally {
        await bench.stop();
        await server.stop();
        current = { bench: null, server: null };
        await Deno.remove(dataDir, { recursive: true }).catch(() => {});
      }
      await onRun?.(report);
    }
  } finally {
    for (const sig of ["SIGINT", "SIGTERM"] as const) Deno.removeSignalListener(sig, onSignal);
  }
  return report;
}

export function logLine(p: ListenerPoint): string {
  const pages = p.chromium.map((c) =>
    `loss=${c.loss_pct}% conc/min=${c.concealments_per_min} lat=${c.latency_ms_p50}/${c.latency_ms_p95}ms`
  ).join(" | ");
  return `[LISTEN] ${p.transport} ${p.listeners} listeners: streaming=${p.streaming} ` +
    `loss=${p.loss_pct}% (${p.packets_received}/${p.packets_expected}) ` +
    `latency p50/p95=${p.latency_ms_p50}/${p.latency_ms_p95}ms conc/min=${p.concealments_per_min} ` +
    `server_cpu=${p.server_cpu_pct}% rss=${p.server_rss_mib}MiB ` +
    `lateness p99/p99.9=${p.lateness_ms.p99}/${p.lateness_ms.p999}ms ` +
    `sender_dropped=${p.server_sender_dropped} relay_dropped=${p.server_relay_dropped} pkt/s=${p.server_packets_per_s} ` +
    `us/pkt=${p.server_cpu_us_per_packet} udp_loss=${p.udp?.loss_pct ?? "—"}% ` +
    `loadtest_cpu=${p.loadtest_cpu_pct}% system=${p.system_cpu_pct}%` +
    (pages ? ` chromium: ${pages}` : "") +
    (p.not_streaming.length ? ` not streaming: ${p.not_streaming.join(", ")}` : "");
}
