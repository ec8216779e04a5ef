/**
 * Fan-out benchmark: the real StreamingEngine, fed by the real-time paced
 * TestSignalSource (32 channels, 48 kHz, 240-frame = 5 ms periods), sends
 * 16-channel L24 to N loopback clients; a separate receiver process
 * (bench/udp_counter.ts) drains and counts what arrives.
 *
 * Two channel layouts per client count:
 *   same      every client takes channels 1..16 → one encode per period;
 *   distinct  client i takes 16 channels rotated by i (reversed from the 33rd
 *             client on) → N distinct layouts, N encodes per period.
 *
 * Measured over the steady-state window (after `warmupS`):
 *   cpu %        this process's CPU time (user + system, all threads) per wall
 *                second, as a percentage of one core;
 *   pkts/s       datagrams the sender handed to the kernel per second, and
 *                datagrams the receiver counted (loss = 1 − received/sent);
 *   c2w p50/p99  engine.captureToWire: capture time of a period's first frame
 *                → its last datagram handed to the kernel (includes the 5 ms
 *                packet time; "deno" only queues the send, see README);
 *   late p99     period delivery lateness: sink call − (capture + 5 ms);
 *   work p99     time spent inside engine.onPeriod.
 *
 *   deno run -A bench/fanout_bench.ts [--duration 5] [--clients 1,5,20,50]
 *     [--senders sendmmsg,deno] [--layouts same,distinct] [--signal id|tone]
 *     [--pacing worker|timeout]
 */

import { cpuUsage } from "node:process";
import type { Period } from "../src/audio/source.ts";
import { type TestSignalMode, TestSignalSource } from "../src/audio/test_signal.ts";
import { createSender, SENDER_KINDS, type SenderKind } from "../src/net/create_sender.ts";
import { planPackets } from "../src/rtp/packetizer.ts";
import { StreamingEngine } from "../src/session/engine.ts";
import { TimeoutTicker, WorkerTicker } from "../src/audio/ticker.ts";
import { SeededRandom, systemClock } from "../src/util/clock.ts";
import { int, num, table } from "./report.ts";
import { UdpCounter } from "./udp_count_client.ts";

export const SAMPLE_RATE = 48000;
export const PTIME_MS = 5;
export const FRAMES_PER_PERIOD = (SAMPLE_RATE * PTIME_MS) / 1000;
export const SOURCE_CHANNELS = 32;
export const CLIENT_CHANNELS = 16;
export const MAX_DATAGRAM_BYTES = 1400;
export const L24_BYTES = 3;
export const DSCP_EF = 46;
export const EXT_INTERVAL_MS = 5000;
const LOOPBACK = "127.0.0.1";

export const LAYOUT_MODES = ["same", "distinct"] as const;
/** What wakes the test signal once per period: the server's pacing worker, or plain setTimeout. */
export const PACINGS = ["worker", "timeout"] as const;
export type Pacing = typeof PACINGS[number];
export type LayoutMode = typeof LAYOUT_MODES[number];

export interface FanoutOptions {
  clients?: number[];
  senders?: SenderKind[];
  layouts?: LayoutMode[];
  /** Steady-state seconds measured per case. */
  durationS?: number;
  /** Seconds run and discarded before measuring. */
  warmupS?: number;
  /** Test signal: "id" (constant data, no per-period synthesis) or "tone" (32 sines per period). */
  signal?: TestSignalMode;
  /** Pacing of the test signal (default: the server's, "worker"). */
  pacing?: Pacing;
  /** Called after each case (progress output). */
  onResult?: (r: FanoutResult) => void;
}

export interface FanoutResult {
  sender: SenderKind;
  layout: LayoutMode;
  pacing: Pacing;
  clients: number;
  distinctLayouts: number;
  durationS: number;
  /** CPU time of this process per wall second, % of one core; and its user/system parts. */
  cpuPercent: number;
  userPercent: number;
  systemPercent: number;
  /** Datagrams handed to the kernel per second, and per period. */
  sentPerSecond: number;
  packetsPerPeriod: number;
  /** Datagrams the receiver process counted per second. */
  receivedPerSecond: number;
  lossPercent: number;
  sendErrors: number;
  /** CPU µs per datagram sent. */
  cpuUsPerPacket: number;
  /** Capture → last datagram of the period handed to the kernel, ms. */
  captureToWireP50: number;
  captureToWireP99: number;
  captureToWireMax: number;
  /** Sink call time − (capture + packet time), ms. */
  lateP50: number;
  lateP99: number;
  /** Time inside engine.onPeriod, ms. */
  workP50: number;
  workP99: number;
  periods: number;
  skippedPeriods: number;
  /**
   * The sender fell behind by more than MAX_BACKLOG_S of output (datagrams
   * queued but not yet handed to the kernel) and the case was cut short.
   */
  saturated: boolean;
  /** Largest backlog seen, datagrams (engine.totalPackets − sent − errors). */
  maxBacklog: number;
  /**
   * Sent less than KEPT_UP_SHARE of the nominal output, or the source had to
   * drop periods: the process could not keep up in real time.
   */
  behind: boolean;
}

export const KEPT_UP_SHARE = 0.98;

/** A case whose numbers describe sustained real-time streaming. */
export function healthy(r: FanoutResult): boolean {
  return !r.saturated && !r.behind;
}

/**
 * The deno sender queues one promise (and one copy) per datagram without
 * backpressure: once it cannot keep up, memory grows without bound (GBs in
 * seconds at 50 clients). Beyond this much queued output the case stops.
 */
export const MAX_BACKLOG_S = 1;
const WATCH_MS = 100;

/** The 16 channel ids client `i` listens to. */
export function channelsFor(mode: LayoutMode, i: number): number[] {
  const ids = Array.from(
    { length: CLIENT_CHANNELS },
    (_, k) => mode === "same" ? k + 1 : ((i + k) % SOURCE_CHANNELS) + 1,
  );
  if (mode === "distinct" && Math.floor(i / SOURCE_CHANNELS) % 2 === 1) ids.reverse();
  return ids;
}

/** Grows-never sample store for percentiles, preallocated so the hot path does not allocate. */
class Samples {
  private readonly v: Float64Array;
  n = 0;
  constructor(capacity: number) {
    this.v = new Float64Array(capacity);
  }
  add(x: number): void {
    if (this.n < this.v.length) this.v[this.n++] = x;
  }
  percentile(p: number): number {
    if (this.n === 0) return NaN;
    const s = this.v.slice(0, this.n).sort();
    return s[Math.min(this.n - 1, Math.max(0, Math.ceil((p / 100) * this.n) - 1))];
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runFanoutCase(
  sender: SenderKind,
  layout: LayoutMode,
  clients: number,
  durationS: number,
  warmupS: number,
  signal: TestSignalMode,
  pacing: Pacing = "worker",
): Promise<FanoutResult> {
  const counter = await UdpCounter.start(clients);
  const udp = await createSender(sender, {
    hostname: LOOPBACK,
    port: 0,
    maxDatagramBytes: MAX_DATAGRAM_BYTES,
    dscp: DSCP_EF,
  }, (reason) => {
    throw new Error(`benchmark wanted ${sender}: ${reason}`);
  });
  const clock = systemClock;
  const engine = new StreamingEngine({
    sender: udp,
    clock,
    extIntervalMs: EXT_INTERVAL_MS,
    maxDatagramBytes: MAX_DATAGRAM_BYTES,
  });
  const rnd = new SeededRandom(clients * 7919 + (layout === "same" ? 1 : 2));
  const layoutKeys = new Set<string>();
  for (let i = 0; i < clients; i++) {
    const stream = engine.addClient({
      clientId: `bench-${i}`,
      hostname: LOOPBACK,
      port: counter.ports[i],
      spec: {
        channels: channelsFor(layout, i),
        sampleRate: SAMPLE_RATE,
        compression: "none",
        encoding: "L24",
      },
      ssrc: rnd.u32(),
      sequence: rnd.u32() & 0xffff,
      timestampBase: rnd.u32(),
    });
    layoutKeys.add(stream.layout.key);
  }

  const capacity = Math.ceil(((durationS + 1) * 1000) / PTIME_MS) * 2;
  const late = new Samples(capacity);
  const work = new Samples(capacity);
  let recording = false;
  let saturated = false;
  let maxBacklog = 0;
  const perPeriod = planPackets(FRAMES_PER_PERIOD, CLIENT_CHANNELS * L24_BYTES, MAX_DATAGRAM_BYTES);
  const nominalPerSecond = (1000 / PTIME_MS) * clients * perPeriod.packets;
  const limit = MAX_BACKLOG_S * nominalPerSecond;
  const sink = (p: Period): void => {
    if (saturated) return;
    const t0 = clock.now();
    engine.onPeriod(p);
    // Checked here, not in a timer: a saturated event loop runs timers too late.
    const backlog = engine.totalPackets - udp.stats.packets - udp.stats.errors;
    if (backlog > maxBacklog) maxBacklog = backlog;
    if (backlog > limit) {
      saturated = true;
      return;
    }
    if (!recording) return;
    const t1 = clock.now();
    late.add(t0 - (p.captureTimeMs + PTIME_MS));
    work.add(t1 - t0);
  };
  const source = new TestSignalSource({
    mode: signal,
    sampleRate: SAMPLE_RATE,
    framesPerPeriod: FRAMES_PER_PERIOD,
    bits: 24,
    channels: SOURCE_CHANNELS,
    clock,
    ticker: pacing === "worker" ? new WorkerTicker() : new TimeoutTicker(),
  });

  /** Sleeps `ms`; false as soon as the sender is saturated. */
  const watch = async (ms: number): Promise<boolean> => {
    const end = performance.now() + ms;
    for (let left = ms; left > 0 && !saturated; left = end - performance.now()) {
      await sleep(Math.min(WATCH_MS, left));
    }
    return !saturated;
  };

  try {
    await source.start(sink, { onFault: () => {} });
    await watch(warmupS * 1000);

    const r0 = await counter.snapshot();
    engine.captureToWire.reset();
    recording = true;
    const periods0 = engine.periods;
    const skipped0 = source.skippedPeriods;
    const sent0 = udp.stats.packets;
    const errors0 = udp.stats.errors;
    const t0 = performance.now();
    const c0 = cpuUsage();

    if (!saturated) await watch(durationS * 1000);

    const c = cpuUsage(c0);
    const wallMs = performance.now() - t0;
    const sent = udp.stats.packets - sent0;
    const periods = engine.periods - periods0;
    recording = false;
    const c2w = engine.captureToWire;
    const p50 = c2w.percentile(50), p99 = c2w.percentile(99), max = c2w.percentile(100);
    await source.stop();
    await sleep(50); // let in-flight datagrams land before the last count
    const r1 = await counter.snapshot();
    // Received while measuring: everything sent in the window arrives by r1.
    const received = r1.total - r0.total;
    const wallS = wallMs / 1000;
    return {
      sender: udp.kind as SenderKind,
      layout,
      pacing,
      clients,
      distinctLayouts: layoutKeys.size,
      durationS: wallS,
      cpuPercent: ((c.user + c.system) / 1000 / wallMs) * 100,
      userPercent: (c.user / 1000 / wallMs) * 100,
      systemPercent: (c.system / 1000 / wallMs) * 100,
      sentPerSecond: sent / wallS,
      packetsPerPeriod: periods > 0 ? sent / periods : NaN,
      receivedPerSecond: saturated ? NaN : received / wallS,
      lossPercent: sent > 0 && !saturated ? Math.max(0, (1 - received / sent) * 100) : NaN,
      sendErrors: udp.stats.errors - errors0,
      cpuUsPerPacket: sent > 0 ? (c.user + c.system) / sent : NaN,
      captureToWireP50: p50,
      captureToWireP99: p99,
      captureToWireMax: max,
      lateP50: late.percentile(50),
      lateP99: late.percentile(99),
      workP50: work.percentile(50),
      workP99: work.percentile(99),
      periods,
      skippedPeriods: source.skippedPeriods - skipped0,
      saturated,
      maxBacklog,
      behind: saturated || source.skippedPeriods - skipped0 > 0 ||
        sent / wallS < KEPT_UP_SHARE * nominalPerSecond,
    };
  } finally {
    await source.stop();
    udp.close();
    await counter.close();
  }
}

interface CaseArgs {
  sender: SenderKind;
  layout: LayoutMode;
  clients: number;
  durationS: number;
  warmupS: number;
  signal: TestSignalMode;
  pacing: Pacing;
}

/**
 * Runs one case in a fresh Deno process (`--case <json>`), so no case
 * inherits another's heap, JIT state or unsent backlog (a saturated deno
 * sender keeps its queued datagrams alive after close).
 */
async function runCaseInChild(c: CaseArgs): Promise<FanoutResult> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", "--unstable-net", SELF, "--case", JSON.stringify(c)],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout).trim();
  if (!out.success || !text) {
    throw new Error(
      `fan-out case ${JSON.stringify(c)} failed (exit ${out.code}): ` +
        new TextDecoder().decode(out.stderr).trim().slice(-2000),
    );
  }
  return JSON.parse(text.split("\n").at(-1)!) as FanoutResult;
}

const SELF = new URL(import.meta.url).pathname;

/** Every (sender, layout, client count) case, one after the other, each in its own process. */
export async function benchFanout(opts: FanoutOptions = {}): Promise<FanoutResult[]> {
  const clients = opts.clients ?? [1, 5, 20, 50];
  const senders = opts.senders ?? [...SENDER_KINDS];
  const layouts = opts.layouts ?? [...LAYOUT_MODES];
  const durationS = opts.durationS ?? 5;
  const warmupS = opts.warmupS ?? 1;
  const signal = opts.signal ?? "id";
  const pacing = opts.pacing ?? "worker";
  const out: FanoutResult[] = [];
  for (const sender of senders) {
    for (const layout of layouts) {
      for (const n of clients) {
        const r = await runCaseInChild({
          sender,
          layout,
          clients: n,
          durationS,
          warmupS,
          signal,
          pacing,
        });
        opts.onResult?.(r);
        out.push(r);
      }
    }
  }
  return out;
}

export function formatFanout(results: readonly FanoutResult[]): string {
  return table(results, [
    { title: "sender", value: (r) => r.sender, align: "left" },
    { title: "layout", value: (r) => r.layout, align: "left" },
    { title: "pacing", value: (r) => r.pacing, align: "left" },
    { title: "clients", value: (r) => String(r.clients) },
    { title: "encodes", value: (r) => String(r.distinctLayouts) },
    { title: "cpu %", value: (r) => num(r.cpuPercent, 1) },
    { title: "(usr", value: (r) => num(r.userPercent, 1) },
    { title: "sys)", value: (r) => num(r.systemPercent, 1) },
    { title: "µs/pkt", value: (r) => num(r.cpuUsPerPacket, 2) },
    { title: "sent/s", value: (r) => int(r.sentPerSecond) },
    { title: "pkt/period", value: (r) => num(r.packetsPerPeriod, 1) },
    { title: "recv/s", value: (r) => int(r.receivedPerSecond) },
    { title: "loss %", value: (r) => num(r.lossPercent, 2) },
    { title: "c2w p50", value: (r) => num(r.captureToWireP50, 2) },
    { title: "p99", value: (r) => num(r.captureToWireP99, 2) },
    { title: "max", value: (r) => num(r.captureToWireMax, 2) },
    { title: "late p99", value: (r) => num(r.lateP99, 2) },
    { title: "work p50", value: (r) => num(r.workP50, 3) },
    { title: "p99", value: (r) => num(r.workP99, 3) },
    {
      title: "note",
      value: (r) => (r.saturated ? "SATURATED" : r.behind ? "BEHIND" : ""),
      align: "left",
    },
  ]);
}

if (import.meta.main && Deno.args[0] === "--case") {
  const c = JSON.parse(Deno.args[1]) as CaseArgs;
  const r = await runFanoutCase(
    c.sender,
    c.layout,
    c.clients,
    c.durationS,
    c.warmupS,
    c.signal,
    c.pacing,
  );
  console.log(JSON.stringify(r));
  // A saturated deno sender may still hold queued sends: do not wait for them.
  Deno.exit(0);
} else if (import.meta.main) {
  const arg = (name: string) => {
    const i = Deno.args.indexOf(name);
    return i >= 0 ? Deno.args[i + 1] : undefined;
  };
  const durationS = Number(arg("--duration") ?? 5);
  const clients = arg("--clients")?.split(",").map(Number);
  const senders = arg("--senders")?.split(",") as SenderKind[] | undefined;
  const layouts = arg("--layouts")?.split(",") as LayoutMode[] | undefined;
  const signal = arg("--signal") as TestSignalMode | undefined;
  const pacing = arg("--pacing") as Pacing | undefined;
  const results = await benchFanout({
    durationS,
    clients,
    senders,
    layouts,
    signal,
    pacing,
    onResult: (r) =>
      console.error(
        `  ${r.sender} ${r.layout} ×${r.clients}: ${num(r.cpuPercent)} % CPU, ` +
          `c2w p99 ${num(r.captureToWireP99, 2)} ms${
            r.saturated ? " SATURATED" : r.behind ? " BEHIND" : ""
          }`,
      ),
  });
  console.log(formatFanout(results));
}
