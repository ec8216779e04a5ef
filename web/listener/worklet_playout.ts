/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * The page's side of AudioWorklet playout (listener/worklet.ts runs the
 * shared jitter buffer and mixer on the audio thread). Only in a secure
 * context (HTTPS): `AudioContext.audioWorklet` does not exist on plain http.
 *
 *   PageReceiver ─push(decoded packet)─▶ WorkletSink ─MessagePort─▶ processor
 *   (in the audio worker for WebTransport, listener/audio_worker.ts, on a
 *   MessageChannel of its own: attachPort; here for the other transports)
 *   clock timer (20 ms): wall↔audio-clock mapping ─────────────────▶ processor
 *   processor ─report (50 ms): meters, latencies, jitter-buffer stats─▶ here
 *
 * Same surface as Playout (listener/playout.ts), so the page drives either.
 * Decoded packets go over the MessagePort, one transferred Int32Array each
 * (a SharedArrayBuffer ring would need a cross-origin-isolated page,
 * COOP/COEP; at 200 packets/s posting is cheap enough).
 */
import type { DecodedPacket, PacketSink } from "../../src/client/playout.ts";
import { DEFAULT_MASTER, type MasterSettings } from "../../src/client/mixer.ts";
import type { ChannelSettings } from "../../src/client/settings.ts";
import type { JitterThresholds } from "../../src/client/api.ts";
import type { ToWorklet, WorkletReport } from "./worklet.ts";
import { readTimeFrom, type ReadTiming } from "../../src/client/jitter_buffer.ts";
import { AudioWallClock, LATENCY_WINDOW, OutputAnalyser } from "./audio_output.ts";
import { PlayoutTrace } from "./playout_trace.ts";

/** Must match WORKLET_PROCESSOR in listener/worklet.ts (not imported: that module registers itself). */
const PROCESSOR = "m32-playout";
export const WORKLET_URL = "/listener/worklet.js";
const CLOCK_MS = 20;
const QUANTUM = 128;

/** Whether this page can play through an AudioWorklet (secure context, a browser that has it). */
export function workletAvailable(): boolean {
  return globalThis.isSecureContext === true && typeof AudioWorkletNode !== "undefined";
}

/** The jitter buffer as the page sees it: a sink that forwards, and the processor's statistics. */
export class WorkletSink implements PacketSink {
  concealedPackets = 0;
  droppedPackets = 0;
  skippedFrames = 0;
  repeatedFrames = 0;
  resyncs = 0;
  delayMs = 0;
  jitterMs = 0;
  bufferedMs = 0;
  private th: JitterThresholds;
  /** The processor's read timing as last told (reports, or the worker's port). */
  private timing: ReadTiming | null = null;

  constructor(
    thresholds: JitterThresholds,
    private readonly post: (m: ToWorklet, transfer?: Transferable[]) => void,
    private readonly capture: () => { offsetMs: number; newestCaptureEndMs: number },
  ) {
    this.th = thresholds;
  }

  get thresholds(): JitterThresholds {
    return this.th;
  }

  set thresholds(t: JitterThresholds) {
    this.th = t;
    this.post({ t: "thresholds", thresholds: t });
  }

  push(p: DecodedPacket): void {
    // `samples` is only valid during push: post a copy, transferred.
    const samples = p.samples.slice(0, p.frames * p.channels);
    const { offsetMs, newestCaptureEndMs } = this.capture();
    this.post({ t: "packet", p: { ...p, samples }, offsetMs, newestCaptureEndMs }, [
      samples.buffer,
    ]);
  }

  reset(): void {
    this.timing = null;
    this.post({ t: "reset" });
  }

  readTimeOf(timestamp: number): number {
    return this.timing === null ? NaN : readTimeFrom(this.timing, timestamp);
  }

  noteTiming(timestamp: number, arrivalMs: number): void {
    this.post({ t: "late", timestamp, arrivalMs });
  }

  applyTiming(t: ReadTiming): void {
    this.timing = t;
  }

  apply(r: WorkletReport): void {
    this.timing = r.timing;
    this.concealedPackets = r.jb.concealed;
    this.droppedPackets = r.jb.dropped;
    this.skippedFrames = r.jb.skipped;
    this.repeatedFrames = r.jb.repeated;
    this.resyncs = r.jb.resyncs;
    this.delayMs = r.jb.delayMs;
    this.jitterMs = r.jb.jitterMs;
    this.bufferedMs = r.jb.bufferedMs;
  }
}

export class WorkletPlayout {
  readonly ctx: AudioContext;
  readonly analyser: OutputAnalyser;
  readonly jb: WorkletSink;
  readonly mode = "worklet" as const;
  /** Resolves when the processor runs; rejects when the module cannot be loaded. */
  readonly ready: Promise<void>;
  levels = new Float32Array(0);
  /** The processor's master meter as last reported (same surface as Playout's OutputMeter). */
  readonly master = { peak: 0, clips: 0 };
  /** The worklet has no schedule to run dry; gaps show as jitter-buffer concealment. */
  underruns = 0;
  /** One render quantum: the processor reads what plays next. */
  leadMs = (QUANTUM / 48000) * 1000;
  readonly latencies: number[] = [];
  /** Latencies and concealment events with their times (the Wi-Fi bench drains it). */
  readonly trace = new PlayoutTrace();
  private node: AudioWorkletNode | null = null;
  private queue: [ToWorklet, Transferable[] | undefined][] = [];
  private ids: number[] = [];
  private readonly wall: AudioWallClock;
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(
    thresholds: JitterThresholds,
    private readonly clock: () => { offsetMs: number; newestCaptureEndMs: number },
    private readonly wallNow: () => number,
  ) {
    this.ctx = new AudioContext({ latencyHint: "interactive", sampleRate: 48000 });
    this.leadMs = (QUANTUM / this.ctx.sampleRate) * 1000;
    this.analyser = new OutputAnalyser(this.ctx);
    this.wall = new AudioWallClock(this.ctx, wallNow);
    this.jb = new WorkletSink(thresholds, (m, t) => this.post(m, t), clock);
    this.ready = this.ctx.audioWorklet.addModule(WORKLET_URL).then(() => {
      const node = new AudioWorkletNode(this.ctx, PROCESSOR, {
        numberOfInputs: 0,
        numberOfOutputs: 1,
        outputChannelCount: [2],
        processorOptions: { thresholds: this.jb.thresholds },
      });
      node.port.onmessage = (e: MessageEvent<WorkletReport>) => this.onReport(e.data);
      node.connect(this.analyser.node);
      this.node = node;
      for (const [m, t] of this.queue) node.port.postMessage(m, t ?? []);
      this.queue = [];
      this.syncClock();
      this.timer = setInterval(() => this.syncClock(), CLOCK_MS);
    });
  }

  /** Gives the processor one end of a MessageChannel (the audio worker has the other). */
  attachPort(port: MessagePort): void {
    this.post({ t: "port", port }, [port]);
  }

  private post(m: ToWorklet, transfer?: Transferable[]): void {
    if (this.node) this.node.port.postMessage(m, transfer ?? []);
    else if (m.t !== "packet") this.queue.push([m, transfer]); // packets before the processor runs are dropped
  }

  /** The audio ↔ wall clock mapping and the clock sync, for the processor's latency figures. */
  private syncClock(): void {
    this.wall.sync();
    const { offsetMs, newestCaptureEndMs } = this.clock();
    this.post({ t: "clock", wallOffsetMs: this.wall.offsetMs, offsetMs, newestCaptureEndMs });
  }

  private onReport(r: WorkletReport): void {
    if (r.t !== "report") return;
    this.jb.apply(r);
    if (r.levels.length === this.levels.length) this.levels.set(r.levels);
    this.master.peak = r.master;
    this.master.clips = r.clips;
    for (const l of r.latencies) this.latencies.push(l);
    // The batch covers the last report interval; its median stands for the report's time.
    if (r.latencies.length > 0) {
      const sorted = [...r.latencies].sort((a, b) => a - b);
      this.trace.latency(this.wallNow(), sorted[sorted.length >> 1]);
    }
    if (r.gaps.length > 0) this.trace.addGaps(r.gaps);
    if (this.latencies.length > LATENCY_WINDOW) {
      this.latencies.splice(0, this.latencies.length - LATENCY_WINDOW);
    }
  }

  setStream(ids: number[], rate: number): void {
    this.ids = ids;
    this.levels = new Float32Array(ids.length);
    this.post({ t: "stream", ids, rate });
  }

  configureMix(settingsOf: (id: number) => ChannelSettings | undefined, master: MasterSettings) {
    const settings = this.ids.map((id) => {
      const s = settingsOf(id);
      return s ? structuredClone(s) : undefined;
    });
    this.post({ t: "mix", settings, master: { ...(master ?? DEFAULT_MASTER) } });
  }

  close(): void {
    clearInterval(this.timer);
    this.node?.disconnect();
    void this.ctx.close();
  }

  /** Analyser magnitudes (dBFS) of the mixed output at the given frequencies. */
  magnitudesAt(freqs: number[]): number[] {
    return this.analyser.magnitudesAt(freqs);
  }
}
