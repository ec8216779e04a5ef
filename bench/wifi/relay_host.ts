/**
 * The Wi-Fi bench's relays, off the bench's own thread (./relay_worker.ts):
 * the UDP relays in one worker's poll loop, the TCP relay in another, each
 * thread at a higher priority when the bench may ask for one. What the bench
 * gets back per relay: its port, and at the end its counters, its model's
 * spikes and drops, and its send lateness (p50/p99/max) — how far the relay
 * itself was from the profile.
 */
import type { ImpairedDirection } from "../../src/net/impairment_relay.ts";
import type { LatenessSummary } from "../../src/net/lateness.ts";
import type { ThreadPriority } from "../../src/net/poll_relay.ts";
import type { SpikeRecord } from "../../src/net/wifi_impairment.ts";
import type { ModelSpec } from "./recording_model.ts";
import type { RelayCommand, WorkerKind } from "./relay_worker.ts";

/** The relay threads' nice value (a root bench; otherwise they run at the bench's own). */
export const RELAY_NICE = -10;
/** The UDP relay thread's SCHED_FIFO priority (0: none). */
export const RELAY_RT_PRIORITY = 10;

export interface RelayReport {
  stats: Record<string, number>;
  lateness: LatenessSummary;
  /** RTP relays: how late the server's packets reached the relay (before the model). */
  sendLateness?: LatenessSummary;
  spikes: SpikeRecord[];
  drops: number[];
  packets: number;
  priority: ThreadPriority;
}

export interface HostedRelay {
  port: number;
  report(): Promise<RelayReport>;
  close(): Promise<void>;
}

// deno-lint-ignore no-explicit-any
type Reply = Record<string, any>;

class RelayThread {
  private readonly worker: Worker;
  private readonly ctl = new Int32Array(new SharedArrayBuffer(8));
  private readonly waiting = new Map<number, (r: Reply) => void>();
  private nextId = 1;

  constructor(kind: WorkerKind, nice: number, rt: number) {
    this.worker = new Worker(new URL("./relay_worker.ts", import.meta.url), { type: "module" });
    this.worker.onmessage = (e: MessageEvent<Reply>) => {
      const w = this.waiting.get(e.data.id);
      this.waiting.delete(e.data.id);
      w?.(e.data);
    };
    this.post({ op: "init", kind, nice, rt, ctl: this.ctl.buffer as SharedArrayBuffer });
  }

  /** Sends a command; the poll loop sees the counter and comes back for it. */
  post(m: RelayCommand): void {
    Atomics.add(this.ctl, 0, 1);
    this.worker.postMessage(m);
  }

  /** A command (without its id) and the worker's reply to it. */
  ask(m: Reply, id = this.nextId++): Promise<Reply> {
    return new Promise((resolve, reject) => {
      this.waiting.set(id, (r) => (r.error ? reject(new Error(r.error)) : resolve(r)));
      this.post({ ...m, id } as RelayCommand);
    });
  }

  newId(): number {
    return this.nextId++;
  }

  async stop(): Promise<void> {
    await this.ask({ op: "stop" }).catch(() => {});
    this.worker.terminate();
  }
}

export class RelayHost {
  private udpThread: RelayThread | null = null;
  private tcpThread: RelayThread | null = null;

  constructor(readonly nice = RELAY_NICE, readonly rt = RELAY_RT_PRIORITY) {}

  private thread(kind: WorkerKind): RelayThread {
    if (kind === "udp") return this.udpThread ??= new RelayThread("udp", this.nice, this.rt);
    return this.tcpThread ??= new RelayThread("tcp", this.nice, 0);
  }

  private async hosted(kind: WorkerKind, cmd: Reply): Promise<HostedRelay> {
    const t = this.thread(kind);
    const id = t.newId();
    const { port } = await t.ask(cmd, id);
    return {
      port,
      report: () => t.ask({ op: "report" }, id) as Promise<RelayReport & Reply>,
      close: async () => void await t.ask({ op: "close" }, id),
    };
  }

  udp(
    model: ModelSpec,
    target: { hostname: string; port: number },
    impaired: ImpairedDirection,
    rtp = false,
  ): Promise<HostedRelay> {
    return this.hosted("udp", { op: "udp", model, target, impaired, rtp });
  }

  tcp(
    model: ModelSpec,
    target: { hostname: string; port: number },
    retransmitMs?: number,
  ): Promise<HostedRelay> {
    return this.hosted("tcp", { op: "tcp", model, target, retransmitMs });
  }

  /** Lateness counted from now on, in every relay. */
  async resetLateness(): Promise<void> {
    for (const t of [this.udpThread, this.tcpThread]) await t?.ask({ op: "resetLateness" });
  }

  async stop(): Promise<void> {
    for (const t of [this.udpThread, this.tcpThread]) await t?.stop();
    this.udpThread = this.tcpThread = null;
  }
}
