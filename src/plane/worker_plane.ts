/**
 * The audio plane in a worker (./audio_plane.ts), seen from the main thread:
 * the worker (./audio_worker.ts) owns the sources, the engine and the UDP
 * socket; this side holds proxies with the surface the server uses.
 *
 * - `RemoteEngine` (EngineControl): addClient / removeClient post a message
 *   and return at once; `active`, `periods`, `totalPackets`, each client's
 *   `packetsSent` / `bytesSent`, the capture → wire window and the lateness
 *   histogram are read from shared memory the worker writes every period.
 * - `PlaneSource` (Source) for the capture controller: start / stop / faults
 *   of the source the worker runs; the controller's sink gets an empty period
 *   when the source's first period comes, then every FLOW_HEARTBEAT_MS while
 *   it delivers (whoever watches it for "audio flows" keeps working; no audio
 *   crosses).
 * - browser transports: a client with a sender of its own (ChannelSender)
 *   gets a relay in the worker; its packets come back through a ring in
 *   shared memory, published once per period (./relay.ts), and go out
 *   through that sender here.
 */
import { type Aes67SendPlan, type Aes67SendStatus, idleAes67Status } from "../aes67/output.ts";
import type { AlsaOpener } from "../audio/alsa_opener.ts";
import type { SourceCandidate } from "../audio/capture.ts";
import {
  type Aes67Input,
  resolveAes67Spec,
  type SourceMode,
  type SourceSpec,
  sourceSpecs,
} from "../audio/source_factory.ts";
import type { Period, PeriodSink, SourceFormat, SourceListener } from "../audio/source.ts";
import type { Config } from "../config/types.ts";
import { CAPTURE_TO_WIRE_WINDOW } from "../session/engine.ts";
import { LatencyWindow } from "../session/latency_window.ts";
import { LATENESS_BYTES } from "../session/lateness.ts";
import { embeddedWorkers, workerUrl } from "../system/embedded_worker.ts";
import { getLogger, type Logger } from "../util/log.ts";
import type { AudioPlane, AudioPlaneOptions } from "./audio_plane.ts";
import {
  C_SOURCE_PERIODS,
  COUNTER_BYTES,
  type FromWorker,
  MAX_CLIENT_SLOTS,
  type ToWorker,
} from "./protocol.ts";
import { gateBytes } from "./slot_gate.ts";
import { RemoteEngine, SenderView } from "./remote_engine.ts";
import { PlaneSource, type SourceHost } from "./plane_source.ts";
import { RELAY_BYTES, RelayReader } from "./relay.ts";

/**
 * How long a source's stop or the worker's close may take before it is given
 * up on: longer than an ALSA open (3 s) it may be queued behind, plus its stop.
 */
const STOP_TIMEOUT_MS = 5000;
/**
 * While a source delivers, its sink on this side (the capture controller's)
 * gets an empty period (frames 0) this often: whoever watches the sink for
 * "audio flows" keeps seeing it, and no audio crosses to the main thread.
 */
export const FLOW_HEARTBEAT_MS = 100;
const NO_SAMPLES = new Int32Array(0);

interface Pending {
  resolve(v: unknown): void;
  reject(e: Error): void;
}

export class WorkerAudioPlane implements AudioPlane, SourceHost {
  readonly kind = "worker";
  readonly engine: RemoteEngine;
  readonly sender: SenderView;
  /** Audio is delivered inside the worker; the controller's sink gets flow notices only. */
  readonly sink: PeriodSink = () => {};
  /** The AES67 output's counters as the worker last sent them. */
  aes67Status: Aes67SendStatus = idleAes67Status();
  private readonly counters: Float64Array;
  private readonly relay: RelayReader;
  private gen = 0;
  private readonly starts = new Map<number, Pending>();
  private readonly stops = new Map<number, Pending>();
  private readonly listeners = new Map<number, SourceListener>();
  /** Started sources' sinks on this side, with the empty period each gets while audio flows. */
  private readonly flowing = new Map<number, { sink: PeriodSink; period: Period }>();
  private flowTimer: ReturnType<typeof setInterval> | null = null;
  private flowSeen = 0;
  private ready: Pending | null = null;
  private closed: (() => void) | null = null;
  private lastError = "";
  private dead: Error | null = null;
  private readonly onClientError: AudioPlaneOptions["onClientError"];

  private constructor(
    private readonly worker: Worker,
    o: AudioPlaneOptions,
    ready: Pending,
  ) {
    this.onClientError = o.onClientError;
    const counters = new SharedArrayBuffer(COUNTER_BYTES);
    const c2w = new SharedArrayBuffer(LatencyWindow.bytes(CAPTURE_TO_WIRE_WINDOW));
    const lateness = new SharedArrayBuffer(LATENESS_BYTES);
    const relay = new SharedArrayBuffer(RELAY_BYTES);
    const gates = new SharedArrayBuffer(gateBytes(MAX_CLIENT_SLOTS));
    this.counters = new Float64Array(counters);
    this.engine = new RemoteEngine(
      this.counters,
      c2w,
      lateness,
      (m) => this.post(m),
      o.opus,
      gates,
    );
    this.relay = new RelayReader(relay, this.engine.relaySenders, (slot, e) => {
      const id = this.engine.clientAt(slot);
      if (id !== undefined) this.onClientError?.(id, e);
    });
    this.relay.run().catch((e) => o.log.error("browser relay stopped", { error: e as Error }));
    this.engine.relayDropped = () => this.relay.dropped;
    this.sender = new SenderView(
      o.sender,
      this.counters,
      () => this.lastError,
      (dscp) => this.post({ type: "dscp", dscp }),
    );
    this.ready = {
      resolve: (v) => {
        this.sender.bound(v as { localPort: number; kind: string });
        ready.resolve(v);
      },
      reject: ready.reject,
    };
    worker.onmessage = (e: MessageEvent<FromWorker>) => this.receive(e.data);
    worker.onerror = (e) => {
      e.preventDefault();
      this.die(new Error(`audio plane worker crashed: ${e.message}`), o.log);
    };
    this.post({
      type: "init",
      sender: {
        kind: o.sender,
        hostname: o.hostname,
        port: o.port,
        maxDatagramBytes: o.cfg.audio.max_datagram_bytes,
        dscp: o.cfg.network.dscp,
      },
      extIntervalMs: o.cfg.network.ext_interval_ms,
      maxDatagramBytes: o.cfg.audio.max_datagram_bytes,
      resample: o.resample,
      opus: o.opus,
      counters,
      captureToWire: c2w,
      lateness,
      relay,
      gates,
      embedded: embeddedWorkers(),
    });
  }

  /** Starts the worker; resolves once its UDP socket is bound (rejects as binding would). */
  static async open(o: AudioPlaneOptions): Promise<WorkerAudioPlane> {
    const worker = new Worker(
      workerUrl("audio_plane", () => new URL("./audio_worker.ts", import.meta.url)),
      { type: "module", name: "m32-audio-plane" },
    );
    let plane!: WorkerAudioPlane;
    try {
      await new Promise((resolve, reject) => {
        plane = new WorkerAudioPlane(worker, o, { resolve, reject });
      });
    } catch (e) {
      worker.terminate();
      throw e;
    }
    return plane;
  }

  /** The AES67 output's streams (null: off); the worker applies them between periods. */
  configureAes67(plan: Aes67SendPlan | null): void {
    if (!plan) this.aes67Status = idleAes67Status();
    this.post({ type: "aes67", plan });
  }

  nextGen(): number {
    return ++this.gen;
  }

  candidates(
    mode: SourceMode,
    cfg: Config,
    alsa: AlsaOpener,
    createAlsa?: unknown,
    aes67?: Aes67Input,
  ): SourceCandidate[] {
    if (createAlsa) throw new Error("an injected ALSA source (createAlsa) needs audioPlane main");
    const ptimeMs = cfg.audio.ptime_ms;
    return sourceSpecs(mode, cfg, aes67).map((spec) => ({
      kind: spec.kind,
      create: () => {
        if (spec.kind === "test") return new PlaneSource("test", spec, ptimeMs, this);
        if (spec.kind === "aes67") {
          // Resolved here (SAP is heard on this thread); the streams cross as plain data.
          return new PlaneSource("aes67", resolveAes67Spec(spec, aes67), ptimeMs, this);
        }
        // Found here, so /health tells what the opener found, as on the main plane.
        const device = alsa.detect(spec.device);
        if (device === null) throw new Error(alsa.detection);
        return new PlaneSource("alsa", { ...spec, device }, ptimeMs, this);
      },
    }));
  }

  startSource(
    gen: number,
    spec: SourceSpec,
    ptimeMs: number,
    sink: PeriodSink,
    listener: SourceListener,
  ): Promise<SourceFormat> {
    if (this.dead) return Promise.reject(this.dead);
    this.listeners.set(gen, listener);
    return new Promise<SourceFormat>((resolve, reject) => {
      this.starts.set(gen, {
        resolve: (v) => {
          const f = v as SourceFormat;
          if (this.listeners.has(gen)) this.flow(gen, sink, f);
          resolve(f);
        },
        reject,
      });
      this.post({ type: "start", gen, spec, ptimeMs });
    });
  }

  /** Tells `sink` that periods flow, every FLOW_HEARTBEAT_MS while they do. */
  private flow(gen: number, sink: PeriodSink, f: SourceFormat): void {
    const period: Period = {
      data: NO_SAMPLES,
      frames: 0,
      channels: f.channels,
      sampleRate: f.sampleRate,
      frameIndex: 0,
      captureTimeMs: 0,
    };
    this.flowing.set(gen, { sink, period });
    this.flowTimer ??= setInterval(() => {
      const n = this.counters[C_SOURCE_PERIODS];
      if (n === this.flowSeen) return;
      this.flowSeen = n;
      for (const { sink, period } of this.flowing.values()) sink(period);
    }, FLOW_HEARTBEAT_MS);
  }

  private unflow(gen: number): void {
    this.flowing.delete(gen);
    if (this.flowing.size === 0 && this.flowTimer !== null) {
      clearInterval(this.flowTimer);
      this.flowTimer = null;
    }
  }

  stopSource(gen: number): Promise<void> {
    this.listeners.delete(gen);
    this.unflow(gen);
    if (this.dead) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => this.stops.delete(gen) && resolve(), STOP_TIMEOUT_MS);
      this.stops.set(gen, {
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
        reject: () => {},
      });
      this.post({ type: "stop", gen });
    });
  }

  async close(): Promise<void> {
    if (!this.dead) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, STOP_TIMEOUT_MS);
        this.closed = () => {
          clearTimeout(timer);
          resolve();
        };
        this.post({ type: "close" });
      });
    }
    this.dead ??= new Error("the audio plane is closed");
    this.relay.close();
    this.worker.terminate();
  }

  private post(m: ToWorker): void {
    if (!this.dead) this.worker.postMessage(m);
  }

  private receive(m: FromWorker): void {
    switch (m.type) {
      case "ready":
        this.ready?.resolve(m);
        this.ready = null;
        return;
      case "init_failed": {
        const err = m.name in Deno.errors
          ? new (Deno.errors as unknown as Record<string, ErrorConstructor>)[m.name](m.message)
          : new Error(m.message);
        this.ready?.reject(err);
        this.ready = null;
        return;
      }
      case "started":
        this.starts.get(m.gen)?.resolve(m.format);
        this.starts.delete(m.gen);
        return;
      case "start_failed":
        this.listeners.delete(m.gen);
        this.starts.get(m.gen)?.reject(new Error(m.message));
        this.starts.delete(m.gen);
        return;
      case "stopped":
        this.stops.get(m.gen)?.resolve(undefined);
        this.stops.delete(m.gen);
        return;
      case "fault": {
        const l = this.listeners.get(m.gen);
        this.listeners.delete(m.gen);
        this.unflow(m.gen);
        l?.onFault(new Error(m.message));
        return;
      }
      case "flowing": {
        // The first period: the controller sees audio flow now, not at the next heartbeat.
        const f = this.flowing.get(m.gen);
        f?.sink(f.period);
        return;
      }
      case "log":
        getLogger(m.category)[m.level](m.message, m.fields);
        return;
      case "sender_error":
        this.lastError = m.lastError;
        return;
      case "aes67_status":
        this.aes67Status = m.status;
        return;
      case "client_error":
        this.onClientError?.(m.clientId, new Error(m.message));
        return;
      case "closed":
        this.closed?.();
        return;
    }
  }

  /** The worker is gone: pending operations fail, running sources fault (the controller retries). */
  private die(err: Error, log: Logger): void {
    if (this.dead) return;
    this.dead = err;
    log.error("audio plane stopped", { error: err.message });
    this.ready?.reject(err);
    for (const p of this.starts.values()) p.reject(err);
    for (const p of this.stops.values()) p.resolve(undefined);
    for (const l of this.listeners.values()) l.onFault(err);
    this.starts.clear();
    this.stops.clear();
    this.listeners.clear();
    for (const gen of [...this.flowing.keys()]) this.unflow(gen);
    this.relay.close();
  }
}
