/**
 * Headless listeners (./headless_listener.ts) spread over worker threads:
 * each listener's transport runs JavaScript per packet (werift's DTLS and
 * SCTP for the DataChannel, the wasm Opus decoders for every transport), and
 * twenty of them on one thread would make that thread the bottleneck — its
 * late reads and acknowledgements would read as the server's loss and latency.
 * Each listener goes to the worker with the least work so far, counted in the
 * packets a second its mix brings (`mixPacketRate`): placed by `i % threads`,
 * every PCM listener (every fourth, from the second) landed on the same
 * thread of two, which then carried twice the packets of the other and fell
 * behind (20 DataChannel listeners: 4 285 against 2 000 packets a second,
 * 15 799 datagrams dropped by the kernel at its sockets, all of the loss on
 * that thread's listeners).
 *
 *   main → worker  {t:"add", id, base, transport, mix} | {t:"state", latency} |
 *                  {t:"reset"} | {t:"stop"}
 *   worker → main  {t:"ok"} | {t:"state", states} | {t:"error", message}
 */
import type { TransportKind } from "../../web/listener/connection.ts";
import type { LatenessCounts } from "../session/lateness.ts";
import { type ListenerMix, type ListenerSnapshot, mixPacketRate } from "./headless_listener.ts";

/** One listener as its worker reports it. */
export interface ListenerState {
  id: number;
  mix: ListenerMix;
  snap: ListenerSnapshot;
  /** The transport its connection picked (null before the first connect). */
  transport: string | null;
  ack: { channels: number[]; compression: string; encoding: string } | null;
  lastState: string;
  /** Its latency histogram since the last reset (when asked for). */
  latency?: LatenessCounts;
}

export type ToListeners =
  | { t: "add"; id: number; base: string; transport: TransportKind; mix: ListenerMix }
  | { t: "state"; latency: boolean }
  | { t: "reset" }
  | { t: "stop" };
export type FromListeners =
  | { t: "ok" }
  | { t: "state"; states: ListenerState[] }
  | { t: "error"; message: string };

class ListenerThread {
  readonly worker: Worker;
  private waiting: ((m: FromListeners) => void)[] = [];

  constructor(n: number) {
    this.worker = new Worker(new URL("./listener_worker.ts", import.meta.url), {
      type: "module",
      name: `m32-loadtest-listeners-${n}`,
    });
    this.worker.onmessage = (e: MessageEvent<FromListeners>) => this.waiting.shift()?.(e.data);
  }

  ask(m: ToListeners): Promise<FromListeners> {
    return new Promise((resolve, reject) => {
      this.waiting.push((r) => r.t === "error" ? reject(new Error(r.message)) : resolve(r));
      this.worker.postMessage(m);
    });
  }
}

/** The thread with the least load (the first of equals). */
export function leastLoaded(loads: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < loads.length; i++) if (loads[i] < loads[best]) best = i;
  return best;
}

export class ListenerPool {
  private readonly threads: ListenerThread[];
  /** Per thread: the packets a second of the listeners placed on it. */
  private readonly loads: number[];
  private count = 0;

  constructor(threads: number) {
    this.threads = Array.from({ length: Math.max(1, threads) }, (_, i) => new ListenerThread(i));
    this.loads = this.threads.map(() => 0);
  }

  get size(): number {
    return this.count;
  }

  /** Starts listener number `size` with `mix`. */
  async add(base: string, transport: TransportKind, mix: ListenerMix): Promise<void> {
    const id = this.count++;
    const at = leastLoaded(this.loads);
    this.loads[at] += mixPacketRate(mix);
    await this.threads[at].ask({ t: "add", id, base, transport, mix });
  }

  /** Every listener's state, by id. */
  async states(latency = false): Promise<ListenerState[]> {
    const all = await Promise.all(this.threads.map((t) => t.ask({ t: "state", latency })));
    return all.flatMap((r) => r.t === "state" ? r.states : []).sort((a, b) => a.id - b.id);
  }

  /** Restarts every listener's latency histogram. */
  async resetLatency(): Promise<void> {
    await Promise.all(this.threads.map((t) => t.ask({ t: "reset" })));
  }

  async stop(): Promise<void> {
    await Promise.all(this.threads.map((t) => t.ask({ t: "stop" }).catch(() => {})));
    for (const t of this.threads) t.worker.terminate();
    this.count = 0;
    this.loads.fill(0);
  }
}
