/**
 * ALSA capture Source (kind "alsa"). Thin adapter: a Worker
 * (./alsa_worker.ts) does the blocking ALSA I/O and fills a SharedArrayBuffer
 * ring (./alsa_ring.ts); this side waits on the ring with Atomics.waitAsync
 * (no timers pace it, the device does), stamps periods through
 * CaptureTimeline and calls the sink synchronously on the main thread.
 *
 * Faults: overruns are recovered in the worker (snd_pcm_recover) or inferred
 * from timing (CaptureTimeline gap), counted in xrunCount and logged once per
 * burst. A device that errors, goes silent for `stuckMs`, or delivers faster
 * than real time (ALSA `file` PCM at EOF: the writer is gone) stops the
 * source and calls listener.onFault.
 */

import { type Clock, systemClock } from "../util/clock.ts";
import type { Period, PeriodSink, Source, SourceFormat, SourceListener } from "./source.ts";
import {
  attachRing,
  FLAG_XRUN_BEFORE,
  META_DONE_MS,
  META_FLAGS,
  META_FRAMES,
  META_WORDS,
  READ,
  type Ring,
  STATE,
  STATE_STOP_REQUESTED,
  WRITE,
} from "./alsa_ring.ts";
import { CaptureTimeline } from "./alsa_timeline.ts";
import { workerUrl } from "../system/embedded_worker.ts";
import { registerWorkerKind, spawnWorker } from "../system/spare_workers.ts";
import type { WorkerMessage, WorkerRequest } from "./alsa_worker.ts";
import {
  CHANNEL_MODES,
  DEFAULT_FORMAT_PREFERENCE,
  type SampleFormatName,
} from "./sample_format.ts";

export type LogLevel = "debug" | "info" | "warn" | "error";
export type Logger = (level: LogLevel, msg: string, fields?: Record<string, unknown>) => void;

export const DEFAULT_FRAMES_PER_PERIOD = 256;
export const DEFAULT_BUFFER_PERIODS = 4;
export const DEFAULT_RING_SLOTS = 32;
export const DEFAULT_OPEN_TIMEOUT_MS = 3000;
export const DEFAULT_STUCK_MS = 2000;
export const STOP_TIMEOUT_MS = 500;
/** Overruns closer together than this belong to one burst (one log line). */
export const XRUN_BURST_QUIET_MS = 5000;
/** Upper bound of one Atomics.waitAsync, so a silent device is noticed. */
const WATCH_SLICE_MS = 250;

export interface AlsaSourceOptions {
  /** ALSA PCM name exactly as given: "hw:X32", "plughw:1,0", a PCM from the ALSA config. */
  device: string;
  sampleRate?: 48000 | 44100;
  framesPerPeriod?: number;
  bufferPeriods?: number;
  clock?: Clock;
  logger?: Logger;
  /** Sample formats to try, in order (default S32_LE, S24_3LE, S16_LE). */
  formats?: readonly SampleFormatName[];
  openTimeoutMs?: number;
  /** No audio for this long while running → fault. */
  stuckMs?: number;
}

export interface GrantedFormat extends SourceFormat {
  sampleFormat: SampleFormatName;
  bufferFrames: number;
  pcmName: string;
}

const noLog: Logger = () => {};

// The capture thread: in a bundle or binary its code is embedded (src/system/embedded_worker.ts).
registerWorkerKind("alsa_reader", () =>
  new Worker(
    workerUrl("alsa_worker", () => new URL("./alsa_worker.ts", import.meta.url)),
    { type: "module" },
  ));

export class AlsaSource implements Source {
  readonly kind = "alsa" as const;
  private readonly o: Required<Omit<AlsaSourceOptions, "clock" | "logger">>;
  private readonly clock: Clock;
  private readonly log: Logger;
  private worker: Worker | null = null;
  private workerClosed: Promise<void> = Promise.resolve();
  private ring: Ring | null = null;
  private timeline: CaptureTimeline | null = null;
  private generation = 0;
  private granted: GrantedFormat | null = null;
  private gaps = 0;
  private burst = { count: 0, firstMs: 0, lastMs: 0, lostFrames: 0 };
  private sinkErrors = 0;

  constructor(opts: AlsaSourceOptions) {
    this.o = {
      device: opts.device,
      sampleRate: opts.sampleRate ?? 48000,
      framesPerPeriod: opts.framesPerPeriod ?? DEFAULT_FRAMES_PER_PERIOD,
      bufferPeriods: opts.bufferPeriods ?? DEFAULT_BUFFER_PERIODS,
      formats: opts.formats ?? DEFAULT_FORMAT_PREFERENCE,
      openTimeoutMs: opts.openTimeoutMs ?? DEFAULT_OPEN_TIMEOUT_MS,
      stuckMs: opts.stuckMs ?? DEFAULT_STUCK_MS,
    };
    this.clock = opts.clock ?? systemClock;
    this.log = opts.logger ?? noLog;
  }

  /** Overruns (device-reported or inferred from a late period) since the last start(). */
  get xrunCount(): number {
    return this.gaps;
  }

  /** What the device granted at the last start(), or null before. */
  get format(): GrantedFormat | null {
    return this.granted;
  }

  async start(sink: PeriodSink, listener: SourceListener): Promise<SourceFormat> {
    if (this.worker) throw new Error(`ALSA source "${this.o.device}" is already started`);
    const gen = ++this.generation;
    this.gaps = 0;
    this.burst = { count: 0, firstMs: 0, lastMs: 0, lostFrames: 0 };
    // Where spares are kept (the audio plane's thread), one that is already running.
    const worker = spawnWorker("alsa_reader");
    this.worker = worker;
    let closedResolve!: () => void;
    this.workerClosed = new Promise((r) => (closedResolve = r));
    let readyResolve!: (m: Extract<WorkerMessage, { type: "ready" }>) => void;
    let readyReject!: (e: Error) => void;
    const ready = new Promise<Extract<WorkerMessage, { type: "ready" }>>((res, rej) => {
      readyResolve = res;
      readyReject = rej;
    });
    worker.onmessage = (e: MessageEvent<WorkerMessage>) => {
      const m = e.data;
      if (m.type === "ready") readyResolve(m);
      else if (m.type === "open_failed") readyReject(new Error(m.message));
      else if (m.type === "fault") {
        readyReject(new Error(m.message));
        if (this.generation === gen) this.fail(new Error(m.message), listener);
      } else if (m.type === "closed") {
        closedResolve();
        readyReject(new Error(`ALSA capture worker for "${this.o.device}" ended`));
        if (this.generation === gen && this.ring) {
          this.fail(new Error(`ALSA capture of "${this.o.device}" ended unexpectedly`), listener);
        }
      }
    };
    worker.onerror = (e) => {
      e.preventDefault();
      const err = new Error(`ALSA capture worker for "${this.o.device}" crashed: ${e.message}`);
      readyReject(err);
      closedResolve();
      if (this.generation === gen) this.fail(err, listener);
    };
    const req: WorkerRequest = {
      device: this.o.device,
      sampleRate: this.o.sampleRate,
      framesPerPeriod: this.o.framesPerPeriod,
      bufferPeriods: this.o.bufferPeriods,
      formats: this.o.formats,
      channelModes: CHANNEL_MODES,
      ringSlots: DEFAULT_RING_SLOTS,
      stuckMs: this.o.stuckMs,
    };
    worker.postMessage(req);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, rej) => {
      timer = setTimeout(
        () =>
          rej(
            new Error(
              `ALSA device "${this.o.device}" did not open within ${this.o.openTimeoutMs} ms`,
            ),
          ),
        this.o.openTimeoutMs,
      );
    });
    let m: Extract<WorkerMessage, { type: "ready" }>;
    try {
      m = await Promise.race([ready, timeout]);
    } catch (e) {
      await this.shutdown();
      throw e;
    } finally {
      clearTimeout(timer);
    }
    if (this.generation !== gen) {
      throw new Error(`ALSA source "${this.o.device}" stopped while opening`);
    }
    this.ring = attachRing(m.sab, m.slots, m.slotSamples);
    this.timeline = new CaptureTimeline({
      sampleRate: m.sampleRate,
      periodFrames: m.periodFrames,
      bufferFrames: m.bufferFrames,
    });
    const periodMs = (m.periodFrames * 1000) / m.sampleRate;
    const bufferMs = (m.bufferFrames * 1000) / m.sampleRate;
    this.granted = {
      channels: m.channels,
      sampleRate: m.sampleRate,
      framesPerPeriod: m.periodFrames,
      sampleFormat: m.format,
      bufferFrames: m.bufferFrames,
      pcmName: m.pcmName,
      description: `ALSA "${this.o.device}": ${m.channels} ch ${m.format} @ ${m.sampleRate} Hz, ` +
        `period ${m.periodFrames} frames (${periodMs.toFixed(2)} ms), ` +
        `buffer ${m.bufferFrames} frames (${bufferMs.toFixed(2)} ms)`,
    };
    this.log("info", "ALSA capture started", {
      device: this.o.device,
      format: this.granted.description,
    });
    this.consume(gen, sink, listener);
    const { sampleFormat: _f, bufferFrames: _b, pcmName: _p, ...format } = this.granted;
    return format;
  }

  async stop(): Promise<void> {
    this.generation++;
    this.flushBurst();
    await this.shutdown();
  }

  private async shutdown(): Promise<void> {
    const worker = this.worker;
    if (!worker) return;
    this.worker = null;
    const ring = this.ring;
    this.ring = null;
    this.timeline = null;
    if (ring) {
      Atomics.store(ring.control, STATE, STATE_STOP_REQUESTED);
      Atomics.notify(ring.control, WRITE); // wake our own waiter
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const gaveUp = new Promise<boolean>((
      r,
    ) => (timer = setTimeout(() => r(true), STOP_TIMEOUT_MS)));
    const stuck = await Promise.race([this.workerClosed.then(() => false), gaveUp]);
    clearTimeout(timer);
    if (stuck) {
      this.log("warn", "ALSA capture worker did not stop in time; abandoning it", {
        device: this.o.device,
        waited_ms: STOP_TIMEOUT_MS,
      });
    }
    worker.terminate();
  }

  private fail(err: Error, listener: SourceListener): void {
    this.generation++;
    this.flushBurst();
    this.log("error", err.message, { device: this.o.device });
    this.shutdown().finally(() => listener.onFault(err));
  }

  private async consume(gen: number, sink: PeriodSink, listener: SourceListener): Promise<void> {
    const ring = this.ring!;
    const timeline = this.timeline!;
    const g = this.granted!;
    const ctl = ring.control;
    const period: Period = {
      data: ring.slotData[0],
      frames: g.framesPerPeriod,
      channels: g.channels,
      sampleRate: g.sampleRate,
      frameIndex: 0,
      captureTimeMs: 0,
    };
    let read = Atomics.load(ctl, READ);
    let lastDataMs = performance.now();
    while (this.generation === gen) {
      const w = Atomics.load(ctl, WRITE);
      if (w === read) {
        const r = Atomics.waitAsync(ctl, WRITE, w, WATCH_SLICE_MS);
        if (r.async) await r.value;
        if (this.generation !== gen) return;
        const silentMs = performance.now() - lastDataMs;
        if (Atomics.load(ctl, WRITE) === read && silentMs >= this.o.stuckMs) {
          this.fail(
            new Error(
              `ALSA device "${this.o.device}" delivered no audio for ${
                Math.round(silentMs)
              } ms (stalled or unplugged)`,
            ),
            listener,
          );
          return;
        }
        continue;
      }
      lastDataMs = performance.now();
      for (; read !== w; read++) {
        const slot = read % ring.slots;
        const m = slot * META_WORDS;
        const ageMs = Math.max(0, systemClock.now() - ring.meta[m + META_DONE_MS]);
        const frames = ring.meta[m + META_FRAMES];
        const overrun = ring.meta[m + META_FLAGS] === FLAG_XRUN_BEFORE;
        const step = timeline.step(this.clock.now() - ageMs, frames, overrun);
        if (step.kind === "runaway") {
          this.fail(
            new Error(
              `ALSA device "${this.o.device}" delivers audio faster than real time ` +
                `(${
                  Math.round(step.aheadMs)
                } ms ahead): its input has ended (device unplugged or writer gone)`,
            ),
            listener,
          );
          return;
        }
        if (step.lostFrames > 0 || overrun) this.noteXrun(step.lostFrames, g.sampleRate);
        period.data = ring.slotData[slot];
        period.frames = frames;
        period.frameIndex = step.frameIndex;
        period.captureTimeMs = step.captureTimeMs;
        try {
          sink(period);
        } catch (e) {
          // The capture controller's sink contains and counts its own errors
          // (capture.ts); this only keeps the read loop alive for a bare sink.
          if (this.sinkErrors++ === 0) {
            this.log("error", `period sink threw: ${(e as Error).message}`, {
              device: this.o.device,
            });
          }
        }
        if (this.generation !== gen) return;
        Atomics.store(ctl, READ, read + 1);
      }
    }
  }

  private noteXrun(lostFrames: number, sampleRate: number): void {
    this.gaps++;
    const now = this.clock.now();
    const b = this.burst;
    if (b.count > 0 && now - b.lastMs < XRUN_BURST_QUIET_MS) {
      b.count++;
      b.lastMs = now;
      b.lostFrames += lostFrames;
      return;
    }
    this.flushBurst();
    this.burst = { count: 1, firstMs: now, lastMs: now, lostFrames };
    this.log("warn", "ALSA overrun (xrun) recovered; capture continues", {
      device: this.o.device,
      lost_frames: lostFrames,
      lost_ms: Math.round((lostFrames * 1000) / sampleRate),
      xruns_total: this.gaps,
    });
  }

  /** Logs the rest of an overrun burst as one line with its count. */
  private flushBurst(): void {
    const b = this.burst;
    if (b.count > 1) {
      this.log("warn", "ALSA overrun burst ended", {
        device: this.o.device,
        xruns: b.count,
        burst_ms: Math.round(b.lastMs - b.firstMs),
        lost_frames: b.lostFrames,
      });
    }
    this.burst = { count: 0, firstMs: 0, lastMs: 0, lostFrames: 0 };
  }
}
