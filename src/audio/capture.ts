/**
 * The capture controller: opens the source when the first client streams,
 * closes it when the last leaves, reopens it after a configuration change,
 * and keeps retrying (every `retryMs`, never blocking anything) while the
 * device is gone.
 *
 * One serialised state machine: `start`, `stop`, `restart`, a device fault
 * and a retry each queue one `reconcile` step, and steps run one at a time.
 * A step converges the device on what is wanted *when it runs*, so an older
 * `stop` never undoes a newer `start`; an open carries the generation it was
 * started for and is closed, never installed, when that generation is stale
 * (a restart happened or nobody wants audio any more). `start`, `stop` and
 * `restart` never reject.
 *
 * What /health calls its state is decided in ./capture_state.ts from the
 * phase kept here and when audio last arrived.
 *
 * The sink handed to every source is wrapped here (one contract for all
 * sources, ./sink_errors.ts): a throwing sink is caught, logged once with
 * its stack, then counted; audio carries on with the next period. It also
 * keeps one frame timeline across reopenings while clients stream
 * (./continuous_timeline.ts): a reopened or fallback source continues where
 * the last one stopped, advanced by the time without audio, so no client's
 * RTP timestamps go backwards.
 */
import type { Logger } from "../util/log.ts";
import { type Clock, systemClock, systemTimers, type TimerId, type Timers } from "../util/clock.ts";
import type { PeriodSink, Source, SourceFormat, SourceKind } from "./source.ts";
import { type Phase, RUNNING_WINDOW_MS, type SourceState, sourceState } from "./capture_state.ts";
import { SinkErrors } from "./sink_errors.ts";
import { ContinuousTimeline } from "./continuous_timeline.ts";

export { RUNNING_WINDOW_MS, type SourceState };
export const DEFAULT_RETRY_MS = 1000;

export interface CaptureStatus {
  source: SourceKind;
  state: SourceState;
  error: string;
  description: string;
  channels: number;
  faults: number;
  /** Periods whose sink threw (the period was dropped, capture went on). */
  sinkErrors: number;
}

/**
 * Candidates in order of preference: `auto` gives [alsa, test]; a candidate
 * after the first is a fallback used only when the previous one cannot open.
 */
export interface SourceCandidate {
  kind: SourceKind;
  create(): Source;
}

export interface CaptureOptions {
  candidates: () => SourceCandidate[];
  sink: PeriodSink;
  log: Logger;
  retryMs?: number;
  /** Decides `running` (a period within the last second) and the log summaries. */
  clock?: Clock;
  /** Retry timers (a test's ManualClock steps them). */
  timers?: Timers;
  /** The state or error changed (the server tells streaming clients). */
  onStatus?: (status: CaptureStatus) => void;
}

export class CaptureController {
  private readonly clock: Clock;
  private readonly timers: Timers;
  private wanted = false;
  /** Bumped by `restart`: a source opened for an older generation is stale. */
  private generation = 0;
  private phase: Phase = "closed";
  private source: Source | null = null;
  private sourceGeneration = 0;
  /** The source being opened; a fault it reports before it is installed fails the open. */
  private opening: Source | null = null;
  private openingFault: Error | null = null;
  /** A source that faulted and is not stopped yet. */
  private faulted: Source | null = null;
  /** Id of the open whose periods reach the sink (0: none). */
  private liveId = 0;
  private nextOpenId = 0;
  private liveSinceMs = 0;
  private lastPeriodMs = 0;
  private flowed = false;
  /** In error: the last open failed or the source faulted, and no audio came since. */
  private failing = false;
  /** While failing, reopen only this kind (never swap a console for a test tone mid-show). */
  private retryKind: SourceKind | null = null;
  private retryTimer: TimerId | null = null;
  private chain: Promise<void> = Promise.resolve();
  private kind: SourceKind;
  private error = "";
  private description = "";
  private channels = 32;
  private faults = 0;
  /** Failed reopen attempts in the current error state (logged once, then counted). */
  private failedAttempts = 0;
  private readonly sinkErrors: SinkErrors;
  /** The frame timeline every open's periods are placed on (restarts when idle). */
  private readonly timeline = new ContinuousTimeline();
  /** The last state and error told to `onStatus`. */
  private reported = "idle\n";

  constructor(private readonly opts: CaptureOptions) {
    this.kind = opts.candidates()[0]?.kind ?? "test";
    this.clock = opts.clock ?? systemClock;
    this.timers = opts.timers ?? systemTimers;
    this.sinkErrors = new SinkErrors(opts.log);
  }

  get status(): CaptureStatus {
    const { state, error } = sourceState({
      kind: this.kind,
      phase: this.phase,
      wanted: this.wanted,
      failing: this.failing,
      error: this.error,
      live: this.liveId !== 0,
      flowed: this.flowed,
      lastPeriodMs: this.lastPeriodMs,
      liveSinceMs: this.liveSinceMs,
    }, this.clock.now());
    return {
      source: this.kind,
      state,
      error,
      description: this.description,
      channels: this.channels,
      faults: this.faults,
      sinkErrors: this.sinkErrors.count,
    };
  }

  /** A client streams: the device opens. Resolves once this request was acted on. */
  start(): Promise<void> {
    this.wanted = true;
    return this.enqueue();
  }

  /** No client streams: the device closes and retrying stops. */
  stop(): Promise<void> {
    this.wanted = false;
    this.clearRetry();
    return this.enqueue();
  }

  /** The configuration changed: an open device is closed and, if wanted, reopened with it. */
  restart(): Promise<void> {
    this.generation++;
    this.retryKind = null;
    this.failing = false;
    this.clearRetry();
    return this.enqueue();
  }

  private enqueue(): Promise<void> {
    return this.queue(() => this.reconcile());
  }

  /** Runs `step` after every step queued before it; the chain never rejects. */
  private queue(step: () => Promise<void>): Promise<void> {
    this.chain = this.chain.then(step).catch((e) => {
      this.opts.log.error("capture controller step failed", { error: e, stack: stackOf(e) });
    });
    return this.chain;
  }

  /** One step: converge the device on what is wanted now. */
  private async reconcile(): Promise<void> {
    await this.reap();
    if (this.source && (!this.wanted || this.sourceGeneration !== this.generation)) {
      await this.close();
    }
    if (!this.wanted) {
      this.clearRetry();
      this.timeline.restart();
      this.failing = false;
      this.retryKind = null;
      this.error = "";
      this.failedAttempts = 0;
      this.notify();
      return;
    }
    if (this.source || this.retryTimer !== null) return;
    await this.open();
  }

  private async open(): Promise<void> {
    const all = this.opts.candidates();
    const kind = this.retryKind;
    const candidates = kind ? all.filter((c) => c.kind === kind) : all;
    const generation = this.generation;
    const stale = () => !this.wanted || this.generation !== generation;
    let lastError = "no audio source configured";
    for (let i = 0; i < candidates.length && !stale(); i++) {
      const c = candidates[i];
      const id = ++this.nextOpenId;
      this.liveId = id;
      this.liveSinceMs = this.clock.now();
      this.flowed = false;
      this.phase = "opening";
      this.notify();
      let src: Source | null = null;
      try {
        src = c.create();
        const opened: Source = src;
        this.opening = src;
        this.openingFault = null;
        const fmt = await src.start(this.sinkFor(id), {
          onFault: (e) => this.onFault(opened, e),
        });
        this.opening = null;
        if (this.openingFault) throw this.openingFault;
        if (stale()) {
          // Opened for a request that is gone: close it; the queued step decides what next.
          this.liveId = 0;
          await this.stopQuietly(src);
          this.phase = "closed";
          return;
        }
        this.install(src, c.kind, generation, fmt);
        if (i > 0) {
          this.opts.log.warn("AUDIO SOURCE FALLBACK: streaming the TEST SIGNAL, not the console", {
            tried: candidates[0].kind,
            reason: lastError,
          });
        }
        return;
      } catch (e) {
        this.opening = null;
        this.liveId = 0;
        this.phase = "closed";
        const message = e instanceof Error ? e.message : String(e);
        if (!this.failing || message !== this.error) {
          this.opts.log.warn("audio source failed to open", { source: c.kind, error: message });
        }
        lastError = message;
        if (this.failing) this.failedAttempts++;
        if (src) await this.stopQuietly(src);
      }
    }
    if (stale()) return;
    this.kind = candidates[0]?.kind ?? this.kind;
    this.fail(lastError);
  }

  private install(src: Source, kind: SourceKind, generation: number, fmt: SourceFormat): void {
    this.source = src;
    this.sourceGeneration = generation;
    this.kind = kind;
    this.phase = "open";
    // "starting: opened, no audio yet" (§3): the silent second counts from the open, not from the
    // start of a slow open (an ALSA open may take seconds).
    if (!this.flowed) this.liveSinceMs = this.clock.now();
    this.description = fmt.description;
    this.channels = fmt.channels;
    this.opts.log.info(this.failing ? "audio source reopened" : "audio source open", {
      source: kind,
      format: fmt.description,
    });
    this.notify();
  }

  private async close(): Promise<void> {
    const src = this.source!;
    this.source = null;
    this.liveId = 0;
    this.phase = "closing";
    await this.stopQuietly(src);
    this.phase = "closed";
  }

  /** Stops a source that faulted, before anything else opens. */
  private async reap(): Promise<void> {
    const src = this.faulted;
    if (!src) return;
    this.faulted = null;
    await this.stopQuietly(src);
    if (this.phase === "closing") this.phase = "closed";
  }

  private onFault(src: Source, error: Error): void {
    if (src === this.opening) {
      this.openingFault = error;
      return;
    }
    if (this.source !== src) return; // a source already replaced or closed
    this.source = null;
    this.liveId = 0;
    this.phase = "closing";
    this.faults++;
    this.opts.log.error("audio source fault", { source: this.kind, error: error.message });
    this.faulted = src;
    this.fail(error.message);
  }

  /**
   * Enters `error` and retries the same kind of source after `retryMs`; a
   * faulted source is stopped (in the queue) before anything reopens.
   */
  private fail(message: string): void {
    this.failing = true;
    this.retryKind = this.kind;
    this.error = message;
    this.notify();
    this.clearRetry();
    void this.queue(async () => {
      await this.reap();
      // A stop or restart since then decides instead.
      if (!this.wanted || !this.failing || this.source || this.retryTimer !== null) return;
      this.retryTimer = this.timers.setTimeout(() => {
        this.retryTimer = null;
        void this.enqueue();
      }, this.opts.retryMs ?? DEFAULT_RETRY_MS);
    });
  }

  /**
   * The sink one open hands its source: stale periods are dropped, the rest are
   * placed on the continuous timeline, a throw is contained.
   */
  private sinkFor(id: number): PeriodSink {
    const sink = this.opts.sink;
    return (period) => {
      if (id !== this.liveId) return;
      const now = this.clock.now();
      const resumed = !this.flowed || now - this.lastPeriodMs > RUNNING_WINDOW_MS;
      this.lastPeriodMs = now;
      this.flowed = true;
      const placed = this.timeline.place(id, period);
      if (resumed) this.audioFlows();
      try {
        sink(placed);
      } catch (e) {
        this.sinkErrors.failed(e, now, this.kind);
      }
    };
  }

  private audioFlows(): void {
    if (this.failing) {
      this.opts.log.info("audio source recovered", {
        source: this.kind,
        failed_attempts: this.failedAttempts,
        timeline_gap_ms: Math.round(this.timeline.lastGapMs),
      });
    }
    this.failing = false;
    this.failedAttempts = 0;
    this.error = "";
    this.notify();
  }

  private notify(): void {
    const st = this.status;
    const key = `${st.state}\n${st.error}`;
    if (key === this.reported) return;
    this.reported = key;
    this.opts.onStatus?.(st);
  }

  private async stopQuietly(src: Source): Promise<void> {
    try {
      await src.stop();
    } catch (e) {
      this.opts.log.warn("audio source failed to stop", { source: src.kind, error: e });
    }
  }

  private clearRetry(): void {
    if (this.retryTimer !== null) this.timers.clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }
}

function stackOf(e: unknown): string | undefined {
  return e instanceof Error ? e.stack : undefined;
}
