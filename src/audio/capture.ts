/**
 * The capture controller: opens the source when the first client streams,
 * closes it when the last leaves, and keeps retrying (every `retryMs`, never
 * blocking anything) while the device is gone. States, as /health shows them:
 *   idle     no client streams, the device is closed
 *   running  periods are flowing
 *   error    the device is gone or failing and the controller is retrying
 */
import type { Logger } from "../util/log.ts";
import type { PeriodSink, Source, SourceFormat, SourceKind } from "./source.ts";

export type SourceState = "idle" | "running" | "error";

export interface CaptureStatus {
  source: SourceKind;
  state: SourceState;
  error: string;
  description: string;
  channels: number;
  faults: number;
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
  /** The running source failed or recovered (the server tells streaming clients). */
  onStatus?: (status: CaptureStatus) => void;
}

export class CaptureController {
  private source: Source | null = null;
  private kind: SourceKind;
  private wanted = false;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private opening: Promise<void> | null = null;
  private state: SourceState = "idle";
  private error = "";
  private description = "";
  private channels = 32;
  private faults = 0;
  /** Failed reopen attempts in the current error state (logged once, then counted). */
  private failedAttempts = 0;

  constructor(private readonly opts: CaptureOptions) {
    this.kind = opts.candidates()[0]?.kind ?? "test";
  }

  get status(): CaptureStatus {
    return {
      source: this.kind,
      state: this.state,
      error: this.error,
      description: this.description,
      channels: this.channels,
      faults: this.faults,
    };
  }

  /** Starts capture if it is not running. Resolves once the first attempt settled. */
  start(): Promise<void> {
    this.wanted = true;
    if (this.source || this.opening) return this.opening ?? Promise.resolve();
    this.opening = this.open(this.opts.candidates()).finally(() => (this.opening = null));
    return this.opening;
  }

  /** Stops capture and any retrying; the device is closed. */
  async stop(): Promise<void> {
    this.wanted = false;
    this.clearRetry();
    await this.opening;
    const src = this.source;
    this.source = null;
    if (src) await src.stop();
    this.setState("idle", "");
  }

  private async open(candidates: SourceCandidate[]): Promise<void> {
    let lastError = "no audio source configured";
    for (let i = 0; i < candidates.length && this.wanted; i++) {
      const c = candidates[i];
      let src: Source | null = null;
      try {
        src = c.create();
        const opened: Source = src;
        const fmt = await src.start(this.opts.sink, { onFault: (e) => this.onFault(opened, e) });
        if (!this.wanted) {
          await src.stop();
          return;
        }
        this.source = src;
        this.kind = c.kind;
        this.running(fmt);
        if (i > 0) {
          this.opts.log.warn("AUDIO SOURCE FALLBACK: streaming the TEST SIGNAL, not the console", {
            tried: candidates[0].kind,
            reason: lastError,
          });
        }
        return;
      } catch (e) {
        const message = e instanceof Error ? e.message : String(e);
        if (this.state !== "error" || message !== this.error) {
          this.opts.log.warn("audio source failed to open", { source: c.kind, error: message });
        }
        lastError = message;
        if (this.state === "error") this.failedAttempts++;
        await src?.stop().catch(() => {});
      }
    }
    if (!this.wanted) return;
    this.kind = candidates[0]?.kind ?? this.kind;
    this.fail(lastError);
  }

  private running(fmt: SourceFormat): void {
    this.description = fmt.description;
    this.channels = fmt.channels;
    const recovered = this.state === "error";
    this.setState("running", "");
    this.opts.log.info(recovered ? "audio source recovered" : "audio source running", {
      source: this.kind,
      format: fmt.description,
      failed_attempts: recovered ? this.failedAttempts : undefined,
    });
    this.failedAttempts = 0;
  }

  private onFault(src: Source, error: Error): void {
    if (this.source !== src) return;
    this.source = null;
    this.faults++;
    src.stop().catch(() => {});
    this.opts.log.error("audio source fault", { source: this.kind, error: error.message });
    this.fail(error.message);
  }

  /** Enters `error` and retries the same kind of source (never swaps a console for a test tone). */
  private fail(message: string): void {
    this.setState("error", message);
    this.clearRetry();
    if (!this.wanted) return;
    const kind = this.kind;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (!this.wanted || this.source || this.opening) return;
      const same = this.opts.candidates().filter((c) => c.kind === kind);
      this.opening = this.open(same).finally(() => (this.opening = null));
    }, this.opts.retryMs ?? 1000);
  }

  private clearRetry(): void {
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }

  private setState(state: SourceState, error: string): void {
    const changed = state !== this.state || error !== this.error;
    this.state = state;
    this.error = error;
    if (changed) this.opts.onStatus?.(this.status);
  }
}
