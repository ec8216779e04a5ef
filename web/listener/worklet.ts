/**
 * AudioWorklet playout (secure contexts: the page on HTTPS): the shared
 * JitterBuffer and StereoMixer run on the audio rendering thread, read once
 * per render quantum (128 frames, 2.7 ms at 48 kHz) by the audio clock
 * itself. Decoded packets (Opus/PCM) come from the audio worker
 * (listener/audio_worker.ts: WebTransport) through a MessageChannel port of
 * their own, or from the page's main thread (DataChannel, WebSocket) through
 * the node's port; this module sends back meters, latencies and
 * jitter-buffer statistics every REPORT_MS.
 *
 *   audio worker / main thread                    audio thread (this file)
 *   RTP → decode → {t:"packet"} ──MessagePort──▶  JitterBuffer.push
 *   main: {t:"stream"|"mix"|"clock"|"thresholds"|"port"} ▶ configure
 *                                                 process(): JitterBuffer.read
 *                                                   → StereoMixer → output
 *                                                   → master meter (OutputMeter)
 *   ◀── {t:"report", levels, master, clips, latencies, jb…}
 *
 * Bundled on its own into web/gen/worklet.js (web/build.ts)
 * and served as /listener/worklet.js (script-src 'self' covers addModule).
 */
import { JitterBuffer, type ReadTiming } from "../../src/client/jitter_buffer.ts";
import { DEFAULT_MASTER, type MasterSettings, StereoMixer } from "../../src/client/mixer.ts";
import type { ChannelSettings } from "../../src/client/settings.ts";
import { DEFAULT_JITTER_THRESHOLDS, type JitterThresholds } from "../../src/client/api.ts";
import type { DecodedPacket } from "../../src/client/playout.ts";
import { OutputMeter } from "../../src/client/output_meter.ts";

// The AudioWorkletGlobalScope (not in TypeScript's DOM library).
declare const currentTime: number;
declare const sampleRate: number;
declare class AudioWorkletProcessor {
  readonly port: MessagePort;
  constructor(options?: unknown);
}
declare function registerProcessor(name: string, ctor: unknown): void;

/** The processor name (listener/worklet_playout.ts uses the same string). */
export const WORKLET_PROCESSOR = "m32-playout";
/** How often the processor reports meters and statistics to the page. */
const REPORT_MS = 50;
const METER_DECAY = 0.98;
const LATENCY_BATCH = 64;

/** Messages from the page. */
export type ToWorklet =
  | { t: "thresholds"; thresholds: JitterThresholds }
  | { t: "stream"; ids: number[]; rate: number }
  | {
    t: "mix";
    settings: (ChannelSettings | undefined)[];
    master: MasterSettings;
  }
  /** A decoded packet, with the capture end of the newest packet and the clock offset then. */
  | { t: "packet"; p: DecodedPacket; offsetMs: number; newestCaptureEndMs: number }
  | { t: "reset" }
  /** An Opus packet time the receiver dropped for late: its timing still counts in the delay. */
  | { t: "late"; timestamp: number; arrivalMs: number }
  /** The audio worker's end of a MessageChannel: it sends packets and resets on it. */
  | { t: "port"; port: MessagePort }
  /**
   * wall ms − context ms (the page's filtered mapping), server − client clock,
   * newest capture end (NaN when the packets come from the audio worker: they carry both).
   */
  | { t: "clock"; wallOffsetMs: number; offsetMs: number; newestCaptureEndMs: number };

/** What the processor tells the audio worker on its port. */
export type ToAudioWorkerPort = { t: "timing"; timing: ReadTiming };

/** Reports to the page. */
export interface WorkletReport {
  t: "report";
  levels: Float32Array;
  /** The mix as played: decayed peak, and blocks that reached full scale so far. */
  master: number;
  clips: number;
  latencies: number[];
  /** Concealment events since the last report: flat (atMs, packets, kind) triples (gap_log.ts). */
  gaps: number[];
  quanta: number;
  /** When the jitter buffer reads what (the Opus receiver holds reordered packets until then). */
  timing: ReadTiming;
  jb: {
    delayMs: number;
    jitterMs: number;
    bufferedMs: number;
    concealed: number;
    dropped: number;
    skipped: number;
    repeated: number;
    resyncs: number;
  };
}

class PlayoutProcessor extends AudioWorkletProcessor {
  private jb: JitterBuffer;
  private mixer: StereoMixer | null = null;
  private ids: number[] = [];
  private rate = sampleRate;
  private block = new Float32Array(0);
  private stereo = new Float32Array(0);
  private levels = new Float32Array(0);
  private readonly master = new OutputMeter();
  private latencies: number[] = [];
  private wallOffsetMs = NaN;
  private offsetMs = 0;
  private newestCaptureEndMs = NaN;
  private lastReport = 0;
  /** The audio worker's port (WebTransport): it is told the read timing too. */
  private workerPort: MessagePort | null = null;
  private quanta = 0;

  constructor(options?: { processorOptions?: { thresholds?: JitterThresholds } }) {
    super(options);
    this.jb = new JitterBuffer({
      thresholds: options?.processorOptions?.thresholds ?? { ...DEFAULT_JITTER_THRESHOLDS },
    });
    this.port.onmessage = (e: MessageEvent<ToWorklet>) => this.onMessage(e.data);
  }

  private onMessage(m: ToWorklet): void {
    switch (m.t) {
      case "packet":
        this.jb.push(m.p);
        this.offsetMs = m.offsetMs;
        this.newestCaptureEndMs = m.newestCaptureEndMs;
        return;
      case "clock":
        this.wallOffsetMs = m.wallOffsetMs;
        if (!Number.isNaN(m.newestCaptureEndMs)) {
          this.offsetMs = m.offsetMs;
          this.newestCaptureEndMs = m.newestCaptureEndMs;
        }
        return;
      case "port":
        m.port.onmessage = (e: MessageEvent<ToWorklet>) => this.onMessage(e.data);
        this.workerPort = m.port;
        return;
      case "late":
        this.jb.noteTiming(m.timestamp, m.arrivalMs);
        return;
      case "stream":
        this.ids = m.ids;
        this.rate = m.rate;
        this.levels = new Float32Array(m.ids.length);
        this.mixer = new StereoMixer(m.rate);
        return;
      case "mix": {
        const byIndex = new Map(this.ids.map((id, i) => [id, m.settings[i]]));
        this.mixer?.configure(this.ids, (id) => byIndex.get(id), m.master ?? DEFAULT_MASTER);
        return;
      }
      case "reset":
        this.jb.reset();
        return;
      case "thresholds":
        this.jb.thresholds = m.thresholds;
        return;
    }
  }

  process(_inputs: Float32Array[][], outputs: Float32Array[][]): boolean {
    const out = outputs[0];
    const l = out[0], r = out[1] ?? out[0];
    const frames = l.length;
    const n = this.ids.length;
    this.quanta++;
    if (Number.isNaN(this.wallOffsetMs) || !this.mixer || n === 0 || this.rate !== sampleRate) {
      l.fill(0);
      r.fill(0);
      this.maybeReport();
      return true;
    }
    if (this.block.length < frames * n) this.block = new Float32Array(frames * n);
    if (this.stereo.length < frames * 2) this.stereo = new Float32Array(frames * 2);
    // This quantum plays from currentTime: read what is due then, by the audio clock.
    const nowMs = this.wallOffsetMs + currentTime * 1000;
    if (this.jb.channelCount !== n) {
      this.jb.read(null, frames, nowMs);
      l.fill(0);
      r.fill(0);
      this.maybeReport();
      return true;
    }
    this.jb.read(this.block, frames, nowMs);
    const lv = this.levels;
    for (let c = 0; c < n; c++) {
      let peak = 0;
      for (let f = 0; f < frames; f++) {
        const v = Math.abs(this.block[f * n + c]);
        if (v > peak) peak = v;
      }
      lv[c] = Math.max(peak, lv[c] * METER_DECAY);
    }
    this.mixer.process(this.block, frames, this.stereo);
    this.master.note(this.stereo, frames);
    for (let f = 0; f < frames; f++) {
      l[f] = this.stereo[2 * f];
      if (r !== l) r[f] = this.stereo[2 * f + 1];
    }
    this.noteLatency(frames);
    this.maybeReport();
    return true;
  }

  /** capture→playout: the newest packet's last frame plays `bufferedMs` after this quantum ends. */
  private noteLatency(frames: number): void {
    if (Number.isNaN(this.newestCaptureEndMs) || this.jb.bufferedMs <= 0) return;
    const blockEndWall = this.wallOffsetMs + (currentTime + frames / sampleRate) * 1000;
    const latency = blockEndWall + this.jb.bufferedMs + this.offsetMs - this.newestCaptureEndMs;
    if (!(latency > 0 && latency < 10_000)) return;
    // One figure per ~5 ms (like the other engines' 5 ms blocks), not per quantum.
    if (this.quanta % 2 === 0) this.latencies.push(latency);
    if (this.latencies.length > LATENCY_BATCH) this.latencies.shift();
  }

  private maybeReport(): void {
    const t = currentTime * 1000;
    if (t - this.lastReport < REPORT_MS) return;
    this.lastReport = t;
    const jb = this.jb;
    const report: WorkletReport = {
      t: "report",
      levels: this.levels.slice(),
      master: this.master.peak,
      clips: this.master.clips,
      latencies: this.latencies,
      gaps: [],
      timing: jb.readTiming,
      quanta: this.quanta,
      jb: {
        delayMs: jb.delayMs,
        jitterMs: jb.jitterMs,
        bufferedMs: jb.bufferedMs,
        concealed: jb.concealedPackets,
        dropped: jb.droppedPackets,
        skipped: jb.skippedFrames,
        repeated: jb.repeatedFrames,
        resyncs: jb.resyncs,
      },
    };
    if (jb.events.size > 0) jb.events.drainInto(report.gaps);
    this.latencies = [];
    this.port.postMessage(report);
    this.workerPort?.postMessage(
      { t: "timing", timing: report.timing } satisfies ToAudioWorkerPort,
    );
  }
}

registerProcessor(WORKLET_PROCESSOR, PlayoutProcessor);
