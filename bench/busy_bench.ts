/**
 * `busy`: does the control plane stall the audio path? One server process
 * (bench/busy_server.ts, the real `startServer`) streams to 20 UDP clients
 * (16 ch L24, 5 ms, to a separate `udp_counter.ts` process) in two cases,
 * interleaved in the same process (idle, busy, idle, busy, … `--rounds` of
 * each, pooled per case, so the host's noise of the moment falls on both):
 *
 *   idle  only the 20 UDP clients;
 *   busy  the same, while the control plane is loaded: 20 WebSocket listeners
 *         and 5 DataChannel listeners (werift, SCTP/DTLS in JavaScript on the
 *         server's side) each receiving the same 16 channels, the admin page
 *         (its live WebSocket plus GET status and clients every second), a
 *         `/qos-metrics` report per UDP client every 2 s, and a 30 ms block
 *         of the server's main thread every 200 ms.
 *
 * Period lateness = the period's scheduled time (its last frame captured) →
 * its last datagram handed to the kernel, from the engine's histogram
 * (src/session/lateness.ts: every period, 10 µs bins). Target (issue #12):
 * busy p99.9 within 1 ms of idle, no period later than one packet time.
 *
 * Both audio planes (src/plane/audio_plane.ts) unless `--plane` picks one.
 * BUSY_SERVER_LOG=1 shows the server's log; BUSY_V8_FLAGS passes --v8-flags to it.
 *
 *   deno run -A bench/busy_bench.ts [--seconds 5] [--rounds 3] [--plane main|worker]
 */
import { RTCPeerConnection } from "werift";
import { parseArgs } from "node:util";
import { UdpCounter } from "./udp_count_client.ts";
import { num, table } from "./report.ts";
import {
  type LatenessCounts,
  LatenessHistogram,
  type LatenessSummary,
} from "../src/session/lateness.ts";
import { WakeProbe, type WakeProbeResult } from "./wake_probe.ts";

const SERVER_SCRIPT = new URL("./busy_server.ts", import.meta.url).pathname;
export const UDP_CLIENTS = 20;
export const WS_LISTENERS = 20;
export const DC_LISTENERS = 5;
export const BLOCK_MS = 30;
export const BLOCK_EVERY_MS = 200;
const QOS_INTERVAL_MS = 2000;
const ADMIN_INTERVAL_MS = 1000;
const PACKET_TIME_MS = 5;
/** Issue #12: busy p99.9 within this much of idle's. */
const TARGET_P999_MARGIN_MS = 1;
const CHANNELS = Array.from({ length: 16 }, (_, i) => ({ id: i + 1 }));
const ADMIN_PASSWORD = "bench-busy-1";

export interface BusyResult extends LatenessSummary {
  plane: string;
  case: "idle" | "busy";
  /** Blocks of `seconds / rounds` pooled into these figures (idle and busy interleaved). */
  rounds: number;
  seconds: number;
  /** Periods whose last datagram left more than one packet time after the period's end. */
  overPacketTime: number;
  udpReceivedPerSecond: number;
  wsPacketsPerSecond: number;
  dcPacketsPerSecond: number;
  /** The machine's own wake-up lateness over the same seconds (./wake_probe.ts). */
  machine: WakeProbeResult;
  /**
   * How long the audio path's threads were runnable but not running, per
   * second measured (/proc schedstat: the main thread on the main plane; the
   * plane's worker and its pacer on the worker plane).
   */
  queuedMsPerSecond: number;
}

/** Run-queue wait (ns) so far of the server's audio-path threads (see BusyResult.queuedMsPerSecond). */
function audioThreadsWaitNs(pid: number, plane: string): number {
  let sum = 0;
  try {
    for (const t of Deno.readDirSync(`/proc/${pid}/task`)) {
      const dir = `/proc/${pid}/task/${t.name}`;
      const comm = Deno.readTextFileSync(`${dir}/comm`).trim();
      const audio = plane === "main" ? t.name === String(pid) : /^m32-(audio|pacer)$/.test(comm);
      if (!audio) continue;
      sum += Number(Deno.readTextFileSync(`${dir}/schedstat`).split(" ")[1]);
    }
  } catch {
    return NaN; // not Linux, or the process is gone
  }
  return sum;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function readLine(stream: ReadableStream<Uint8Array>): Promise<string> {
  const reader = stream.getReader();
  const dec = new TextDecoder();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`bench server exited before it listened: ${text}`);
    text += dec.decode(value, { stream: true });
  }
  // The rest (V8's --trace-gc output with BUSY_V8_FLAGS) is drained, so the server never blocks on it.
  (async () => {
    const out = Deno.env.get("BUSY_SERVER_LOG") ? Deno.stderr.writable.getWriter() : null;
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      await out?.write(value);
    }
  })().catch(() => {});
  return text.slice(0, text.indexOf("\n"));
}

/** A WebSocket that collects JSON messages and counts binary ones. */
class Ws {
  readonly messages: Record<string, unknown>[] = [];
  binary = 0;
  constructor(readonly ws: WebSocket) {
    ws.binaryType = "arraybuffer";
    ws.onmessage = (e) => {
      if (typeof e.data === "string") this.messages.push(JSON.parse(e.data));
      else this.binary++;
    };
  }
  static async open(url: string, headers?: Record<string, string>): Promise<Ws> {
    // deno-lint-ignore no-explicit-any
    const ws: WebSocket = new (WebSocket as any)(url, headers ? { headers } : undefined);
    const w = new Ws(ws);
    await new Promise<void>((res, rej) => {
      ws.onopen = () => res();
      ws.onerror = () => rej(new Error(`WebSocket ${url} failed`));
    });
    return w;
  }
  async next(type: string, timeoutMs = 10_000): Promise<Record<string, unknown>> {
    const end = Date.now() + timeoutMs;
    while (Date.now() < end) {
      const i = this.messages.findIndex((m) => m.type === type);
      if (i >= 0) return this.messages.splice(i, 1)[0];
      const err = this.messages.find((m) => m.type === "error");
      if (err) throw new Error(`server error: ${JSON.stringify(err)}`);
      await sleep(20);
    }
    throw new Error(`no ${type} within ${timeoutMs} ms`);
  }
  send(msg: unknown): void {
    this.ws.send(JSON.stringify(msg));
  }
  close(): void {
    if (this.ws.readyState <= WebSocket.OPEN) this.ws.close();
  }
}

const config = { channels: CHANNELS, sample_rate: 48000, compression: "none" };

async function udpClient(base: string, port: number): Promise<{ ws: Ws; id: string }> {
  const ws = await Ws.open(base.replace(/^http/, "ws") + "/ws");
  const id = (await ws.next("welcome")).client_id as string;
  const r = await fetch(`${base}/request-audio?udp_port=${port}&client_id=${id}`);
  if (r.status !== 200) throw new Error(`request-audio ${r.status}: ${await r.text()}`);
  await r.body?.cancel();
  ws.send({ type: "client_config", payload: config });
  await ws.next("client_config_ack");
  return { ws, id };
}

async function wsListener(base: string): Promise<Ws> {
  const ws = await Ws.open(base.replace(/^http/, "ws") + "/listen?transport=websocket");
  await ws.next("welcome");
  ws.send({ type: "client_config", payload: config });
  await ws.next("client_config_ack");
  return ws;
}

interface DcListener {
  ws: Ws;
  pc: RTCPeerConnection;
  packets: () => number;
}

async function dcListener(base: string): Promise<DcListener> {
  const ws = await Ws.open(base.replace(/^http/, "ws") + "/listen?transport=datachannel");
  await ws.next("welcome");
  const pc = new RTCPeerConnection({ iceServers: [], iceUseIpv6: false });
  const dc = pc.createDataChannel("rtp", {
    negotiated: true,
    id: 0,
    ordered: false,
    maxRetransmits: 0,
  });
  let packets = 0;
  dc.onMessage.subscribe(() => packets++);
  const open = new Promise<void>((res) => dc.stateChanged.subscribe((s) => s === "open" && res()));
  await pc.setLocalDescription(await pc.createOffer());
  ws.send({ type: "webrtc_offer", sdp: pc.localDescription!.sdp });
  const answer = await ws.next("webrtc_answer");
  await pc.setRemoteDescription({ type: "answer", sdp: answer.sdp as string });
  ws.send({ type: "client_config", payload: config });
  await ws.next("client_config_ack");
  await Promise.race([
    open,
    sleep(15_000).then(() => Promise.reject(new Error("DataChannel did not open"))),
  ]);
  return { ws, pc, packets: () => packets };
}

/** The admin page: login, its first GETs, the live feed, and status/clients every second. */
async function adminPage(base: string): Promise<() => Promise<void>> {
  const login = await fetch(`${base}/api/admin/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ password: ADMIN_PASSWORD }),
  });
  if (login.status !== 200) throw new Error(`admin login ${login.status}: ${await login.text()}`);
  await login.body?.cancel();
  const cookie = (login.headers.get("set-cookie") ?? "").split(";")[0];
  const get = async (path: string) => {
    const r = await fetch(`${base}/api/admin${path}`, { headers: { cookie } });
    await r.arrayBuffer();
  };
  for (const p of ["/config", "/channels", "/qr", "/https"]) await get(p);
  const live = await Ws.open(base.replace(/^http/, "ws") + "/api/admin/live", { cookie });
  let on = true;
  const loop = (async () => {
    while (on) {
      await Promise.all([get("/status"), get("/clients")]).catch(() => {});
      await sleep(ADMIN_INTERVAL_MS);
    }
  })();
  return async () => {
    on = false;
    await loop;
    live.close();
  };
}

function qosReports(base: string, ids: string[]): () => Promise<void> {
  let on = true;
  const loop = (async () => {
    while (on) {
      await Promise.all(ids.map(async (id) => {
        const r = await fetch(`${base}/qos-metrics`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({
            client_id: id,
            timestamp: new Date().toISOString(),
            metrics: {
              packets_received: 1000,
              packets_expected: 1000,
              packet_loss_rate: 0,
              jitter_ms: 0.5,
              latency_ms: 40,
              bandwidth_mbps: 3.5,
            },
          }),
        }).catch(() => null);
        await r?.arrayBuffer();
      }));
      await sleep(QOS_INTERVAL_MS);
    }
  })();
  return async () => {
    on = false;
    await loop;
  };
}

async function latenessCounts(base: string, reset = false): Promise<LatenessCounts> {
  const r = await fetch(`${base}/bench/lateness${reset ? "?reset=1" : ""}`);
  if (r.status !== 200) throw new Error(`bench lateness ${r.status}: ${await r.text()}`);
  return await r.json();
}

export interface BusyOptions {
  /** Seconds measured per case and round (after a 1 s warm-up each). */
  seconds: number;
  /**
   * Idle, busy, idle, busy, …: this many of each, pooled per case. The host's
   * own noise (CPU steal) comes and goes over seconds; interleaving gives both
   * cases the same share of it, which one idle then one busy block does not.
   */
  rounds?: number;
  plane?: "main" | "worker";
  log?: (line: string) => void;
}

/** One case's figures, pooled over its rounds. */
class CaseTotals {
  readonly late = new LatenessHistogram();
  readonly machine = new LatenessHistogram();
  lateAt: number[] = [];
  seconds = 0;
  waitNs = 0;
  udp = 0;
  ws = 0;
  dc = 0;
  rounds = 0;
}

/** The control plane's load: listeners, the admin page, QoS reports, main-thread blocks. */
async function startLoad(
  base: string,
  udpIds: string[],
): Promise<{ ws: Ws[]; dc: DcListener[]; stop: () => Promise<void> }> {
  const stops: (() => Promise<void> | void)[] = [];
  const stop = async () => {
    for (const c of stops.reverse()) await c();
  };
  try {
    const ws: Ws[] = [];
    stops.push(() => ws.forEach((w) => w.close()));
    for (let i = 0; i < WS_LISTENERS; i++) ws.push(await wsListener(base));
    const dc: DcListener[] = [];
    stops.push(() => {
      for (const d of dc) {
        d.ws.close();
        d.pc.close().catch(() => {});
      }
    });
    for (let i = 0; i < DC_LISTENERS; i++) dc.push(await dcListener(base));
    stops.push(await adminPage(base));
    stops.push(qosReports(base, udpIds));
    const block = async (ms: number) => {
      const b = await fetch(`${base}/bench/block?ms=${ms}&every=${BLOCK_EVERY_MS}`, {
        method: "POST",
      });
      await b.body?.cancel();
    };
    stops.push(() => block(0));
    await block(BLOCK_MS);
    return { ws, dc, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

export async function benchBusy(o: BusyOptions): Promise<BusyResult[]> {
  const plane = o.plane ?? "main";
  const rounds = Math.max(1, Math.floor(o.rounds ?? 1));
  const log = o.log ?? ((l: string) => console.error(l));
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-all",
      "--unstable-net",
      ...(Deno.env.get("BUSY_V8_FLAGS") ? [`--v8-flags=${Deno.env.get("BUSY_V8_FLAGS")}`] : []),
      SERVER_SCRIPT,
      "--plane",
      plane,
    ],
    stdout: "piped",
    // BUSY_SERVER_LOG=1: the server's log on this stderr.
    stderr: Deno.env.get("BUSY_SERVER_LOG") ? "inherit" : "null",
    stdin: "null",
  }).spawn();
  const closers: (() => Promise<void> | void)[] = [];
  try {
    const { url: base } = JSON.parse(await readLine(child.stdout)) as { url: string };
    const counter = await UdpCounter.start(UDP_CLIENTS);
    closers.push(() => counter.close());
    const udp: { ws: Ws; id: string }[] = [];
    for (const port of counter.ports) udp.push(await udpClient(base, port));
    closers.push(() => udp.forEach((c) => c.ws.close()));
    const probe = WakeProbe.start(PACKET_TIME_MS, PACKET_TIME_MS);
    closers.push(() => probe.stop());
    const totals = { idle: new CaseTotals(), busy: new CaseTotals() };
    const measure = async (kind: "idle" | "busy", ws: Ws[], dc: DcListener[]) => {
      await sleep(1000);
      await latenessCounts(base, true);
      probe.reset();
      const wait0 = audioThreadsWaitNs(child.pid, plane);
      const snap0 = await counter.snapshot();
      const ws0 = ws.reduce((a, w) => a + w.binary, 0);
      const dc0 = dc.reduce((a, d) => a + d.packets(), 0);
      const t0 = performance.now();
      await sleep(o.seconds * 1000);
      const late = await latenessCounts(base);
      const secs = (performance.now() - t0) / 1000;
      const snap1 = await counter.snapshot();
      const t = totals[kind];
      t.late.merge(late);
      t.machine.merge(probe.counts());
      t.lateAt.push(...probe.result().lateAt);
      t.seconds += secs;
      t.waitNs += audioThreadsWaitNs(child.pid, plane) - wait0;
      t.udp += snap1.total - snap0.total;
      t.ws += ws.reduce((a, w) => a + w.binary, 0) - ws0;
      t.dc += dc.reduce((a, d) => a + d.packets(), 0) - dc0;
      t.rounds++;
      const block = new LatenessHistogram();
      block.merge(late);
      const b = block.summary();
      log(
        `  busy bench ${plane} ${kind} ${t.rounds}/${rounds}: p99.9 ${num(b.p999, 2)} ms,` +
          ` max ${num(b.max, 2)} ms`,
      );
    };
    for (let round = 0; round < rounds; round++) {
      await measure("idle", [], []);
      const load = await startLoad(base, udp.map((c) => c.id));
      try {
        await measure("busy", load.ws, load.dc);
      } finally {
        await load.stop();
      }
    }
    const result = (kind: "idle" | "busy"): BusyResult => {
      const t = totals[kind];
      const r: BusyResult = {
        plane,
        case: kind,
        rounds: t.rounds,
        seconds: Math.round(t.seconds * 10) / 10,
        ...t.late.summary(),
        overPacketTime: t.late.countAbove(PACKET_TIME_MS),
        udpReceivedPerSecond: t.udp / t.seconds,
        wsPacketsPerSecond: t.ws / t.seconds,
        dcPacketsPerSecond: t.dc / t.seconds,
        machine: {
          ...t.machine.summary(),
          over: t.machine.countAbove(PACKET_TIME_MS),
          lateAt: t.lateAt.sort((a, b) => a - b),
          policy: probe.result().policy,
        },
        queuedMsPerSecond: t.waitNs / 1e6 / t.seconds,
      };
      if (Deno.env.get("BUSY_LATE_TIMES")) {
        log(`  machine late at ${r.machine.lateAt.map((x) => x.toFixed(1)).join(" ")}`);
      }
      return r;
    };
    return [result("idle"), result("busy")];
  } finally {
    for (const c of closers.reverse()) await c();
    try {
      child.kill("SIGTERM");
    } catch { /* gone */ }
    await child.status;
  }
}

export function formatBusy(rows: BusyResult[]): string {
  return table(rows, [
    { title: "plane", align: "left", value: (r) => r.plane },
    { title: "case", align: "left", value: (r) => r.case },
    { title: "rounds", value: (r) => String(r.rounds) },
    { title: "s", value: (r) => num(r.seconds) },
    { title: "periods", value: (r) => String(r.count) },
    { title: "late p50 ms", value: (r) => num(r.p50, 2) },
    { title: "p99", value: (r) => num(r.p99, 2) },
    { title: "p99.9", value: (r) => num(r.p999, 2) },
    { title: "max", value: (r) => num(r.max, 2) },
    { title: `>${PACKET_TIME_MS} ms`, value: (r) => String(r.overPacketTime) },
    { title: "queued ms/s", value: (r) => num(r.queuedMsPerSecond, 2) },
    { title: "machine p99.9", value: (r) => num(r.machine.p999, 2) },
    { title: "max", value: (r) => num(r.machine.max, 2) },
    { title: `>${PACKET_TIME_MS}`, value: (r) => String(r.machine.over) },
    { title: "udp recv/s", value: (r) => num(r.udpReceivedPerSecond, 0) },
    { title: "ws pkt/s", value: (r) => num(r.wsPacketsPerSecond, 0) },
    { title: "dc pkt/s", value: (r) => num(r.dcPacketsPerSecond, 0) },
    {
      title: "targets",
      align: "left",
      value: (r) => {
        const idle = rows.find((x) => x.plane === r.plane && x.case === "idle");
        if (r.case !== "busy" || !idle) return "";
        const mark = (ok: boolean) => (ok ? "ok" : "MISS");
        return `p99.9≤idle+${TARGET_P999_MARGIN_MS} ms ${
          mark(r.p999 <= idle.p999 + TARGET_P999_MARGIN_MS)
        }, none>${PACKET_TIME_MS} ms ${mark(r.overPacketTime === 0)}`;
      },
    },
  ]) +
    `\n(late = period's end → its last datagram handed to the kernel; busy = ${WS_LISTENERS} WebSocket` +
    ` + ${DC_LISTENERS} DataChannel listeners, admin page, QoS reports, ${BLOCK_MS} ms main-thread` +
    ` block every ${BLOCK_EVERY_MS} ms; target: busy p99.9 ≤ idle + 1 ms, none > ${PACKET_TIME_MS} ms;` +
    `\n queued = the audio path's threads runnable but not running; machine = a thread with the` +
    ` audio plane's scheduling that only sleeps to each ${PACKET_TIME_MS} ms deadline, in the bench's` +
    ` process: how late the machine itself woke it)`;
}

if (import.meta.main) {
  const { values: v } = parseArgs({
    args: Deno.args,
    options: {
      seconds: { type: "string", default: "5" },
      rounds: { type: "string", default: "3" },
      plane: { type: "string" },
    },
  });
  const planes = v.plane ? [v.plane as "main" | "worker"] : (["main", "worker"] as const);
  const rows: BusyResult[] = [];
  for (const plane of planes) {
    rows.push(
      ...await benchBusy({ seconds: Number(v.seconds), rounds: Number(v.rounds), plane }),
    );
  }
  console.log(formatBusy(rows));
}
