/**
 * The test signal (docs/protocol.md §6), a Source paced in real time.
 *   id:   every sample of channel `id` is the integer `id` in the stream's
 *         encoding (L24 → id << 8 left-justified, L16 → id << 16).
 *   tone: a sine of id × 100 Hz at −20 dBFS on channel `id`.
 * Periods are produced when they are complete by the clock; a late tick
 * catches up (several periods at once), a long stall resynchronises. The
 * ticks come from a pacing worker (./ticker.ts): `setTimeout` alone would add
 * 1.6–2 ms of lateness to every period.
 */
import type { Clock } from "../util/clock.ts";
import { type Ticker, WorkerTicker } from "./ticker.ts";
import type { Period, PeriodSink, Source, SourceFormat, SourceListener } from "./source.ts";
import { MAX_CHANNELS } from "./source.ts";

export type TestSignalMode = "id" | "tone";

/** −20 dBFS as a linear amplitude. */
export const TONE_AMPLITUDE = 0.1;
export const TONE_HZ_PER_CHANNEL = 100;
const FULL_SCALE = 2 ** 31;
/** Keep the low byte clear so a tone is exact 24-bit audio, like the console's. */
const LOW_BYTE_MASK = ~0xff;
/** Beyond this much lag the source drops the backlog instead of bursting it out. */
const MAX_CATCH_UP_MS = 200;

export interface TestSignalOptions {
  mode: TestSignalMode;
  sampleRate: number;
  framesPerPeriod: number;
  /** Bits of the wire encoding (16 or 24): the `id` value is exact in it. */
  bits: 16 | 24;
  channels?: number;
  clock: Clock;
  /**
   * What wakes the source once per period (default: a WorkerTicker on the
   * real clock). Tests with a manual clock pass an inert one and call
   * `produceDue` themselves.
   */
  ticker?: Ticker;
}

export class TestSignalSource implements Source {
  readonly kind = "test" as const;
  readonly channels: number;
  private readonly period: Period;
  private sink: PeriodSink | null = null;
  private readonly ticker: Ticker;
  private startMs = 0;
  private produced = 0;
  private readonly periodMs: number;
  /** Periods dropped by resynchronisation after a stall. */
  skippedPeriods = 0;

  constructor(private readonly opts: TestSignalOptions) {
    this.channels = opts.channels ?? MAX_CHANNELS;
    this.periodMs = (opts.framesPerPeriod * 1000) / opts.sampleRate;
    this.period = {
      data: new Int32Array(opts.framesPerPeriod * this.channels),
      frames: opts.framesPerPeriod,
      channels: this.channels,
      sampleRate: opts.sampleRate,
      frameIndex: 0,
      captureTimeMs: 0,
    };
    this.ticker = opts.ticker ?? new WorkerTicker();
    if (opts.mode === "id") this.fillIds();
  }

  start(sink: PeriodSink, _listener: SourceListener): Promise<SourceFormat> {
    this.sink = sink;
    this.startMs = this.opts.clock.now();
    this.produced = 0;
    this.ticker.start(this.startMs + this.periodMs, this.periodMs, this.tick);
    return Promise.resolve({
      channels: this.channels,
      sampleRate: this.opts.sampleRate,
      framesPerPeriod: this.opts.framesPerPeriod,
      description:
        `test signal (${this.opts.mode}), ${this.channels} ch, ${this.opts.sampleRate} Hz, ` +
        `${this.opts.framesPerPeriod} frames/period`,
    });
  }

  stop(): Promise<void> {
    this.sink = null;
    this.ticker.stop();
    return Promise.resolve();
  }

  /** Delivers every period complete by `now`; returns how many. */
  produceDue(now: number): number {
    let n = 0;
    const due = Math.floor((now - this.startMs) / this.periodMs);
    if (due - this.produced > MAX_CATCH_UP_MS / this.periodMs) {
      this.skippedPeriods += due - 1 - this.produced;
      this.produced = due - 1;
    }
    while (this.sink && this.produced < due) {
      const p = this.period;
      p.frameIndex = this.produced * p.frames;
      p.captureTimeMs = this.startMs + this.produced * this.periodMs;
      if (this.opts.mode === "tone") this.fillTone(p.frameIndex);
      this.produced++;
      n++;
      this.sink(p);
    }
    return n;
  }

  private tick = (): void => {
    if (this.sink) this.produceDue(this.opts.clock.now());
  };

  private fillIds(): void {
    const shift = 32 - this.opts.bits;
    const { data } = this.period;
    for (let i = 0; i < data.length; i++) data[i] = ((i % this.channels) + 1) << shift;
  }

  /** Sines by the two-term recurrence, re-seeded from the exact phase every period. */
  private fillTone(frameIndex: number): void {
    const { data, frames } = this.period;
    const ch = this.channels;
    const amp = TONE_AMPLITUDE * FULL_SCALE;
    for (let c = 0; c < ch; c++) {
      const w = (2 * Math.PI * (c + 1) * TONE_HZ_PER_CHANNEL) / this.opts.sampleRate;
      const phase = (w * frameIndex) % (2 * Math.PI);
      const k = 2 * Math.cos(w);
      let y1 = Math.sin(phase - w);
      let y2 = Math.sin(phase - 2 * w);
      for (let f = 0; f < frames; f++) {
        const y = k * y1 - y2;
        data[f * ch + c] = Math.round(y * amp) & LOW_BYTE_MASK;
        y2 = y1;
        y1 = y;
      }
    }
  }
}
