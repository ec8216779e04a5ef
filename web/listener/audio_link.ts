/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * The main thread's handle on the audio worker (listener/audio_worker.ts):
 * opens WebTransport sessions there for the connection (listener/connection.ts
 * keeps the control WebSocket and its reconnect logic), forwards the stream's
 * ack and the clock offset, and keeps the worker's latest receive statistics.
 */
import { BandwidthMeter } from "../../src/client/stats.ts";
import type { ListenerAck, WebTransportLink } from "./connection.ts";
import type { AudioWorkerStats, FromAudioWorker, ToAudioWorker } from "./audio_worker.ts";

export const AUDIO_WORKER_URL = "/listener/audio-worker.js";

interface Pending {
  ready: [() => void, (e: Error) => void];
  closed: [() => void, (e: Error) => void];
}

export class AudioWorkerLink {
  /** The worker's newest statistics (null until its stream is configured). */
  stats: AudioWorkerStats | null = null;
  readonly bandwidth: BandwidthMeter;
  private readonly worker: Worker;
  private sessions = new Map<number, Pending>();
  private nextId = 1;
  private lastBytes = 0;
  private lastReceived = 0;
  private dead = false;

  /** `onAudio`: packets arrived in the worker since its last statistics (every 250 ms). */
  constructor(nowMs: number, private readonly onAudio: () => void = () => {}) {
    this.bandwidth = new BandwidthMeter(nowMs);
    this.worker = new Worker(AUDIO_WORKER_URL, { type: "module", name: "m32-audio" });
    this.worker.onmessage = (e: MessageEvent<FromAudioWorker>) => this.onMessage(e.data);
    this.worker.onerror = (e) => {
      e.preventDefault();
      this.fail(`the audio worker failed (${e.message})`);
    };
  }

  get alive(): boolean {
    return !this.dead;
  }

  /** One end of the worklet's MessageChannel: decoded packets go there, not through this thread. */
  attachWorklet(port: MessagePort): void {
    this.post({ t: "port", port }, [port]);
  }

  configure(ack: ListenerAck): void {
    this.post({ t: "stream", ack });
  }

  setOffset(offsetMs: number): void {
    this.post({ t: "offset", offsetMs });
  }

  /** A WebTransport session in the worker, with the surface of one (ready, closed, close). */
  open(url: string, hash: Uint8Array<ArrayBuffer>): WebTransportLink {
    const id = this.nextId++;
    let pending!: Pending;
    const ready = new Promise<void>((res, rej) => (pending = { ready: [res, rej] } as Pending));
    const closed = new Promise<void>((res, rej) => (pending.closed = [res, rej]));
    ready.catch(() => {});
    this.sessions.set(id, pending);
    if (this.dead) this.settle(id, "the audio worker is not running");
    else this.post({ t: "open", id, url, hash });
    return { ready, closed, close: () => this.post({ t: "close", id }) };
  }

  close(): void {
    this.worker.terminate();
    this.fail("the audio worker stopped");
  }

  private onMessage(m: FromAudioWorker): void {
    switch (m.t) {
      case "ready":
        this.sessions.get(m.id)?.ready[0]();
        return;
      case "closed":
        this.settle(m.id, m.error);
        return;
      case "stats":
        this.stats = m.stats;
        // A new stream starts its count afresh: any packet since then is new.
        if (m.stats.received !== this.lastReceived && m.stats.received > 0) this.onAudio();
        this.lastReceived = m.stats.received;
        this.bandwidth.add(Math.max(0, m.stats.totalBytes - this.lastBytes));
        this.lastBytes = m.stats.totalBytes;
        return;
    }
  }

  /** The session ended: `closed` resolves, or rejects with why it failed. */
  private settle(id: number, error?: string): void {
    const p = this.sessions.get(id);
    if (!p) return;
    this.sessions.delete(id);
    const err = new Error(error ?? "closed");
    p.ready[1](err);
    if (error === undefined) p.closed[0]();
    else p.closed[1](err);
  }

  private fail(why: string): void {
    this.dead = true;
    for (const id of [...this.sessions.keys()]) this.settle(id, why);
  }

  private post(m: ToAudioWorker, transfer: Transferable[] = []): void {
    if (!this.dead) this.worker.postMessage(m, transfer);
  }
}
