/**
 * A fake capture device on a ManualClock, for the capture controller's
 * tests: its open takes `openDelayMs` (and may fail), its stop takes
 * `stopDelayMs`, and while open it delivers one period every `periodMs`
 * unless `stalled`. It counts the sources open at once (from the start of an
 * open until its stop finished), so a test can check there is never more
 * than one.
 */
import type { ManualClock, TimerId } from "../../src/util/clock.ts";
import type {
  Period,
  PeriodSink,
  Source,
  SourceFormat,
  SourceKind,
  SourceListener,
} from "../../src/audio/source.ts";

export const FAKE_PERIOD_MS = 5;
const FAKE_CHANNELS = 32;

export class FakeDevice {
  openDelayMs = 0;
  stopDelayMs = 0;
  /** Set: every open fails with this message. */
  failOpen: string | null = null;
  /** Opens, but delivers nothing. */
  stalled = false;
  /** Frames per delivered period and the rate it is captured at (read at each open). */
  framesPerPeriod = 1;
  sampleRate = 48000;
  /** Sources open now (opening, open or stopping). */
  open = 0;
  maxOpen = 0;
  opens = 0;
  readonly sources: FakeSource[] = [];

  constructor(
    readonly clock: ManualClock,
    readonly kind: SourceKind = "alsa",
    readonly periodMs = FAKE_PERIOD_MS,
  ) {}

  create = (): Source => {
    const s = new FakeSource(this);
    this.sources.push(s);
    return s;
  };

  /** The source that delivers now, if any. */
  delivering(): FakeSource | undefined {
    return this.sources.find((s) => s.delivering);
  }
}

export class FakeSource implements Source {
  readonly kind: SourceKind;
  private sink: PeriodSink | null = null;
  private listener: SourceListener | null = null;
  private timer: TimerId | null = null;
  private closed = false;
  private counted = false;
  private readonly period: Period;
  /** When the open completed (the source is up from then). */
  openedAtMs = NaN;

  constructor(private readonly dev: FakeDevice) {
    this.kind = dev.kind;
    this.period = {
      data: new Int32Array(FAKE_CHANNELS * dev.framesPerPeriod),
      frames: dev.framesPerPeriod,
      channels: FAKE_CHANNELS,
      sampleRate: dev.sampleRate,
      frameIndex: 0,
      captureTimeMs: 0,
    };
  }

  /** Stopped by the controller or by a fault. */
  get stopped(): boolean {
    return this.closed;
  }

  get delivering(): boolean {
    return this.timer !== null;
  }

  start(sink: PeriodSink, listener: SourceListener): Promise<SourceFormat> {
    const dev = this.dev;
    dev.opens++;
    dev.open++;
    this.counted = true;
    dev.maxOpen = Math.max(dev.maxOpen, dev.open);
    return new Promise((resolve, reject) => {
      dev.clock.setTimeout(() => {
        if (this.closed) return reject(new Error("stopped while opening"));
        if (dev.failOpen !== null) {
          this.release();
          return reject(new Error(dev.failOpen));
        }
        this.sink = sink;
        this.listener = listener;
        this.timer = dev.clock.setInterval(this.tick, dev.periodMs);
        this.openedAtMs = dev.clock.now();
        resolve({
          channels: FAKE_CHANNELS,
          sampleRate: dev.sampleRate,
          framesPerPeriod: dev.framesPerPeriod,
          description: `fake ${dev.kind}`,
        });
      }, dev.openDelayMs);
    });
  }

  stop(): Promise<void> {
    this.closed = true;
    this.halt();
    if (!this.counted) return Promise.resolve();
    return new Promise((resolve) =>
      this.dev.clock.setTimeout(() => {
        this.release();
        resolve();
      }, this.dev.stopDelayMs)
    );
  }

  /** The device fails while running: the source stops itself and says so. */
  fault(message: string): void {
    const listener = this.listener;
    this.closed = true;
    this.halt();
    this.release();
    listener?.onFault(new Error(message));
  }

  private tick = (): void => {
    if (this.dev.stalled || !this.sink) return;
    this.period.captureTimeMs = this.dev.clock.now();
    this.sink(this.period);
    this.period.frameIndex += this.period.frames;
  };

  private halt(): void {
    if (this.timer !== null) this.dev.clock.clearInterval(this.timer);
    this.timer = null;
    this.sink = null;
    this.listener = null;
  }

  private release(): void {
    if (!this.counted) return;
    this.counted = false;
    this.dev.open--;
  }
}

/** Lets every pending promise continuation run (no real time passes). */
export async function settle(): Promise<void> {
  for (let i = 0; i < 64; i++) await Promise.resolve();
}

/** Moves `clock` by `ms`, firing its timers in order and settling promises after each. */
export async function run(clock: ManualClock, ms: number): Promise<void> {
  const end = clock.now() + ms;
  await settle();
  for (let next = clock.nextTimerAt(); next !== null && next <= end; next = clock.nextTimerAt()) {
    clock.advance(next - clock.now());
    await settle();
  }
  clock.advance(end - clock.now());
  await settle();
}
