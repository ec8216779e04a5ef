/**
 * The same fan-out done by GStreamer, as the baseline our CPU is compared to:
 *
 *   gst-launch-1.0 audiotestsrc is-live=true samplesperbuffer=240 wave=silence
 *     ! audio/x-raw,format=S24BE,rate=48000,channels=16,layout=interleaved
 *     ! rtpL24pay mtu=<M> min-ptime=5000000 max-ptime=5000000
 *     ! multiudpsink clients=127.0.0.1:p1,... qos-dscp=46 sync=<S>
 *
 * to the ports of a separate counting receiver (bench/udp_counter.ts). The
 * gst-launch process's CPU is read from /proc/<pid>/stat (utime + stime, all
 * threads, in clock ticks of `getconf CLK_TCK`) over the steady-state window.
 *
 * Comparability: rtpL24pay fills every packet up to the MTU, while our
 * packetizer spreads a 5 ms period evenly (16 ch L24 at 1400 bytes: 9
 * datagrams of 26–27 frames). M is set to the RTP header + 27 frames, so both
 * send datagrams of the same size (1308 bytes) and GStreamer sends ~1% fewer
 * of them (48000/27 = 1778/s per client against our 1800/s).
 * `sync=false` lets the live source pace the pipeline and multiudpsink send a
 * buffer's packets as soon as they are made (like our per-period burst);
 * `sync=true` (multiudpsink's default) also waits for each packet's own
 * timestamp, i.e. ~0.56 ms pacing. A `clients: 0` case runs the source alone
 * (`... ! fakesink sync=false`) to show what generation costs GStreamer.
 */

import { RTP_HEADER_BYTES } from "../src/rtp/packet.ts";
import { planPackets } from "../src/rtp/packetizer.ts";
import {
  CLIENT_CHANNELS,
  DSCP_EF,
  FRAMES_PER_PERIOD,
  L24_BYTES,
  MAX_DATAGRAM_BYTES,
  PTIME_MS,
  SAMPLE_RATE,
} from "./fanout_bench.ts";
import { int, num, table } from "./report.ts";
import { UdpCounter } from "./udp_count_client.ts";

const GST_LAUNCH = "gst-launch-1.0";
const NS_PER_MS = 1_000_000;
/** /proc/<pid>/stat: utime and stime are fields 14 and 15; after "comm)" the first is field 3. */
const STAT_UTIME_INDEX = 14 - 3;
const STAT_STIME_INDEX = 15 - 3;

/** The MTU that makes rtpL24pay's datagrams as large as our largest (see above). */
export function matchingMtu(): number {
  const plan = planPackets(FRAMES_PER_PERIOD, CLIENT_CHANNELS * L24_BYTES, MAX_DATAGRAM_BYTES);
  return RTP_HEADER_BYTES + Math.max(...plan.frameCounts) * CLIENT_CHANNELS * L24_BYTES;
}

export interface GstOptions {
  clients?: number[];
  durationS?: number;
  warmupS?: number;
  /** multiudpsink sync values to run. */
  syncs?: boolean[];
  /** Also run the source alone (clients: 0). */
  sourceOnly?: boolean;
  onResult?: (r: GstResult) => void;
}

export interface GstResult {
  /** 0: source alone, nothing sent. */
  clients: number;
  sync: boolean;
  mtu: number;
  durationS: number;
  /** gst-launch CPU per wall second, % of one core; user/system parts. */
  cpuPercent: number;
  userPercent: number;
  systemPercent: number;
  receivedPerSecond: number;
  meanDatagramBytes: number;
  /** CPU µs per datagram received. */
  cpuUsPerPacket: number;
}

/** "gst-launch-1.0 version …" or null when GStreamer or a needed element is missing. */
export async function gstreamerVersion(): Promise<string | null> {
  try {
    const v = await new Deno.Command(GST_LAUNCH, { args: ["--version"], stdout: "piped" })
      .output();
    const inspect = await new Deno.Command("gst-inspect-1.0", {
      args: ["--exists", "audiotestsrc", "rtpL24pay", "multiudpsink"],
    }).output();
    if (!v.success || !inspect.success) return null;
    return new TextDecoder().decode(v.stdout).split("\n")[0].trim();
  } catch {
    return null;
  }
}

let clockTicks = 0;

async function clkTck(): Promise<number> {
  if (clockTicks > 0) return clockTicks;
  const out = await new Deno.Command("getconf", { args: ["CLK_TCK"], stdout: "piped" }).output();
  const n = Number(new TextDecoder().decode(out.stdout).trim());
  if (!(n > 0)) throw new Error(`getconf CLK_TCK gave ${new TextDecoder().decode(out.stdout)}`);
  clockTicks = n;
  return n;
}

/** utime and stime of `pid` in clock ticks. */
export function procCpuTicks(pid: number): { user: number; system: number } {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return { user: Number(fields[STAT_UTIME_INDEX]), system: Number(fields[STAT_STIME_INDEX]) };
}

export function pipeline(ports: number[], mtu: number, sync: boolean): string[] {
  const ptimeNs = String(PTIME_MS * NS_PER_MS);
  const head = [
    "-q",
    "audiotestsrc",
    "is-live=true",
    `samplesperbuffer=${FRAMES_PER_PERIOD}`,
    "wave=silence",
    "!",
    `audio/x-raw,format=S24BE,rate=${SAMPLE_RATE},channels=${CLIENT_CHANNELS},layout=interleaved`,
    "!",
  ];
  if (ports.length === 0) return [...head, "fakesink", "sync=false"];
  return [
    ...head,
    "rtpL24pay",
    `mtu=${mtu}`,
    `min-ptime=${ptimeNs}`,
    `max-ptime=${ptimeNs}`,
    "!",
    "multiudpsink",
    `clients=${ports.map((p) => `127.0.0.1:${p}`).join(",")}`,
    `qos-dscp=${DSCP_EF}`,
    `sync=${sync}`,
  ];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runGstCase(
  clients: number,
  sync: boolean,
  durationS: number,
  warmupS: number,
): Promise<GstResult> {
  const tck = await clkTck();
  const mtu = matchingMtu();
  const counter = clients > 0 ? await UdpCounter.start(clients) : null;
  const child = new Deno.Command(GST_LAUNCH, {
    args: pipeline(counter?.ports ?? [], mtu, sync),
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const stderr = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let errText = "";
  const errDone = (async () => {
    for (let r = await stderr.read(); !r.done; r = await stderr.read()) errText += r.value;
  })();
  try {
    await sleep(warmupS * 1000);
    const r0 = await counter?.snapshot();
    const c0 = procCpuTicks(child.pid);
    const t0 = performance.now();
    await sleep(durationS * 1000);
    const c1 = procCpuTicks(child.pid);
    const wallMs = performance.now() - t0;
    const r1 = await counter?.snapshot();
    const received = r0 && r1 ? r1.total - r0.total : 0;
    const bytes = r0 && r1 ? r1.bytes - r0.bytes : 0;
    const userMs = ((c1.user - c0.user) / tck) * 1000;
    const systemMs = ((c1.system - c0.system) / tck) * 1000;
    const wallS = wallMs / 1000;
    return {
      clients,
      sync,
      mtu,
      durationS: wallS,
      cpuPercent: ((userMs + systemMs) / wallMs) * 100,
      userPercent: (userMs / wallMs) * 100,
      systemPercent: (systemMs / wallMs) * 100,
      receivedPerSecond: received / wallS,
      meanDatagramBytes: received > 0 ? bytes / received : NaN,
      cpuUsPerPacket: received > 0 ? ((userMs + systemMs) * 1000) / received : NaN,
    };
  } catch (err) {
    throw new Error(`gst-launch failed: ${err instanceof Error ? err.message : err}\n${errText}`);
  } finally {
    try {
      child.kill("SIGINT");
    } catch { /* already exited */ }
    const status = await child.status;
    await errDone;
    await counter?.close();
    if (!status.success && status.signal !== "SIGINT" && errText.trim()) {
      console.error(`gst-launch-1.0 exited with ${status.code}: ${errText.trim()}`);
    }
  }
}

/** Every (sync, client count) case, plus the source alone, one after the other. */
export async function benchGstreamer(opts: GstOptions = {}): Promise<GstResult[]> {
  const clients = opts.clients ?? [1, 5, 20, 50];
  const durationS = opts.durationS ?? 5;
  const warmupS = opts.warmupS ?? 1;
  const syncs = opts.syncs ?? [false, true];
  const out: GstResult[] = [];
  const run = async (n: number, sync: boolean) => {
    const r = await runGstCase(n, sync, durationS, warmupS);
    opts.onResult?.(r);
    out.push(r);
  };
  if (opts.sourceOnly ?? true) await run(0, false);
  for (const sync of syncs) for (const n of clients) await run(n, sync);
  return out;
}

export function formatGst(results: readonly GstResult[]): string {
  return table(results, [
    { title: "clients", value: (r) => (r.clients === 0 ? "source only" : String(r.clients)) },
    { title: "sync", value: (r) => String(r.sync), align: "left" },
    { title: "mtu", value: (r) => String(r.mtu) },
    { title: "cpu %", value: (r) => num(r.cpuPercent, 1) },
    { title: "(usr", value: (r) => num(r.userPercent, 1) },
    { title: "sys)", value: (r) => num(r.systemPercent, 1) },
    { title: "µs/pkt", value: (r) => num(r.cpuUsPerPacket, 2) },
    { title: "recv/s", value: (r) => int(r.receivedPerSecond) },
    { title: "bytes/pkt", value: (r) => num(r.meanDatagramBytes, 0) },
  ]);
}

if (import.meta.main) {
  const i = Deno.args.indexOf("--duration");
  const durationS = i >= 0 ? Number(Deno.args[i + 1]) : 5;
  if ((await gstreamerVersion()) === null) {
    console.error(
      "GStreamer (gst-launch-1.0 with audiotestsrc, rtpL24pay, multiudpsink) not found",
    );
    Deno.exit(1);
  }
  console.log(formatGst(await benchGstreamer({ durationS })));
}
