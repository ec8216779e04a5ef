/**
 * A thread of the Wi-Fi bench that runs only impairment relays (./relay_host.ts
 * starts it and speaks to it). Two kinds, one per worker:
 *
 *   "udp"  src/net/poll_relay.ts: one synchronous ppoll loop over every UDP
 *          relay's socket (RTP, QUIC, DTLS/SCTP), sub-millisecond sends
 *   "tcp"  src/net/tcp_delay_relay.ts on this worker's own event loop (the
 *          WebSocket's relay; its timers are the runtime's, whole ms)
 *
 * Either way the thread asks for timer slack of 1 ns and a nice value of
 * `nice` for itself only, and the udp loop for SCHED_FIFO at `rt` (root): the
 * relays stand for the network, so the host's load must not be their jitter. Commands come as messages; the udp
 * loop blocks in ppoll, so the host bumps a shared counter before posting and
 * the loop returns to the event loop to take the message.
 */
/// <reference lib="deno.worker" />
import {
  type PolledRelay,
  PollRelayLoop,
  raiseThreadPriority,
  type ThreadPriority,
} from "../../src/net/poll_relay.ts";
import { TcpDelayRelay } from "../../src/net/tcp_delay_relay.ts";
import type { ImpairedDirection } from "../../src/net/impairment_relay.ts";
import { Lateness } from "../../src/net/lateness.ts";
import { WindowedMin } from "../../src/client/windowed_min.ts";
import { type ModelSpec, type RecordingModel, recordingModel } from "./recording_model.ts";

export type WorkerKind = "udp" | "tcp";

export type RelayCommand =
  | { op: "init"; kind: WorkerKind; nice: number; rt: number; ctl: SharedArrayBuffer }
  | {
    op: "udp";
    id: number;
    model: ModelSpec;
    target: { hostname: string; port: number };
    impaired: ImpairedDirection;
    /** Plain RTP comes in (the reference client's relay): measure how evenly the server sent it. */
    rtp?: boolean;
  }
  | {
    op: "tcp";
    id: number;
    model: ModelSpec;
    target: { hostname: string; port: number };
    retransmitMs?: number;
  }
  /** Lateness counted afresh from now (the bench's window start). */
  | { op: "resetLateness"; id: number }
  | { op: "report"; id: number }
  | { op: "close"; id: number }
  | { op: "stop"; id: number };

interface Entry {
  model: RecordingModel;
  lateness: Lateness;
  /** RTP relays: each packet's arrival at the relay against its timestamp (./relay_host.ts). */
  sendLateness?: Lateness;
  stats: () => unknown;
  close: () => Promise<void> | void;
}

/**
 * How late the server's RTP packets reach the relay (before the model): arrival − RTP timestamp
 * (48 kHz), less its minimum over the last 2 s, as the jitter buffer measures lateness. On
 * loopback that is the server's send timing and the host's, which no Wi-Fi model adds.
 */
class RtpArrival {
  readonly lateness = new Lateness();
  private readonly base = new WindowedMin(2000);
  private lastTs = 0;
  private tsU = 0;
  private started = false;
  note(d: Uint8Array, atMs: number): void {
    if (d.length < 12 || (d[0] & 0xc0) !== 0x80) return;
    const ts = ((d[4] << 24) | (d[5] << 16) | (d[6] << 8) | d[7]) >>> 0;
    if (!this.started) {
      this.started = true;
      this.lastTs = ts;
    }
    const step = (ts - this.lastTs) | 0;
    if (step > 0) {
      this.tsU += step;
      this.lastTs = ts;
    }
    const transit = atMs - ((this.tsU + (step < 0 ? step : 0)) * 1000) / 48000;
    this.base.add(transit, atMs);
    this.lateness.add(transit - this.base.value);
  }
}

const entries = new Map<number, Entry>();
let kind: WorkerKind = "udp";
let ctl: Int32Array | null = null;
let handled = 0;
let stopped = false;
let priority: ThreadPriority = { slack: false, nice: false, rt: false };
const loop = new PollRelayLoop();

function reply(id: number, body: Record<string, unknown>): void {
  self.postMessage({ id, ...body });
}

async function handle(m: RelayCommand): Promise<void> {
  switch (m.op) {
    case "init":
      kind = m.kind;
      ctl = new Int32Array(m.ctl);
      // Real time only for the poll loop (it sleeps in ppoll); the tcp worker's event loop gets the nice value.
      priority = raiseThreadPriority(m.nice, kind === "udp" ? m.rt : 0);
      if (kind === "udp") void runLoop();
      return;
    case "udp": {
      const model = recordingModel(m.model);
      const send = m.rtp ? new RtpArrival() : undefined;
      const r: PolledRelay = loop.add({
        target: m.target,
        model,
        impaired: m.impaired,
        observe: send ? (d, at) => send.note(d, at) : undefined,
      });
      entries.set(m.id, {
        model,
        lateness: r.link.lateness,
        sendLateness: send?.lateness,
        stats: () => r.stats,
        close: () => loop.remove(r),
      });
      reply(m.id, { port: r.port });
      return;
    }
    case "tcp": {
      const model = recordingModel(m.model);
      const r = new TcpDelayRelay({ target: m.target, model, retransmitMs: m.retransmitMs });
      entries.set(m.id, {
        model,
        lateness: r.lateness,
        stats: () => r.stats,
        close: () => r.close(),
      });
      reply(m.id, { port: r.port });
      return;
    }
    case "resetLateness":
      for (const e of entries.values()) {
        e.lateness.reset();
        e.sendLateness?.reset();
      }
      reply(m.id, {});
      return;
    case "report": {
      const e = entries.get(m.id);
      if (!e) return reply(m.id, { error: "no such relay" });
      reply(m.id, {
        stats: e.stats(),
        lateness: e.lateness.summary(),
        sendLateness: e.sendLateness?.summary(),
        spikes: e.model.spikes,
        drops: e.model.drops,
        packets: e.model.inner.counters.packets,
        priority,
      });
      return;
    }
    case "close": {
      const e = entries.get(m.id);
      entries.delete(m.id);
      await e?.close();
      reply(m.id, {});
      return;
    }
    case "stop":
      for (const e of entries.values()) await e.close();
      entries.clear();
      stopped = true;
      reply(m.id, {});
      return;
  }
}

self.onmessage = async (e: MessageEvent<RelayCommand>) => {
  try {
    await handle(e.data);
  } catch (err) {
    const id = (e.data as { id?: number }).id;
    if (id !== undefined) reply(id, { error: String(err) });
  } finally {
    handled++;
  }
};

const yieldToEvents = () => new Promise((r) => setTimeout(r, 0));

/** The udp worker's life: the poll loop, back to the event loop only when a command waits. */
async function runLoop(): Promise<void> {
  const pending = () => ctl !== null && Atomics.load(ctl, 0) !== handled;
  while (!stopped) {
    if (pending() || loop.size === 0) {
      await yieldToEvents();
      if (loop.size === 0 && !pending()) await new Promise((r) => setTimeout(r, 2));
      continue;
    }
    loop.runUntil(performance.timeOrigin + performance.now() + 1000, pending);
  }
}
