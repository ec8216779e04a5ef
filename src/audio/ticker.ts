/**
 * Period pacing for sources that have no hardware clock (the test signal).
 *
 * `setTimeout` in Deno fires on whole milliseconds and then waits its turn in
 * the event loop: measured here 1.6 ms late at p50 and 2.1 ms at p99 for a
 * 5 ms period, all of which lands in capture → wire latency. A worker thread
 * that blocks in `Atomics.wait` with the exact remaining time (a futex with a
 * nanosecond timeout), then bumps a tick counter in shared memory that the
 * main thread awaits with `Atomics.waitAsync`, wakes the main thread 0.2 ms
 * after the deadline at p50 and 0.3–0.5 ms at p99, for the same CPU as a
 * timer (a message per tick instead cost ≈ 40 µs more per period;
 * bench/README.md "pacing").
 *
 * The worker is a few lines of plain JavaScript started from a blob: URL, so
 * it runs unchanged from the source tree, a bundle or a compiled binary.
 */
import { getLogger } from "../util/log.ts";
import { registerWorkerKind, spawnWorker } from "../system/spare_workers.ts";

/**
 * What a ticker does with an exception from `onTick`: the tick is over, the
 * next one comes on time (a throw must never end pacing, nor the process
 * through an unhandled rejection). The default logs the first with its stack,
 * then counts.
 */
export type TickErrorHandler = (error: unknown) => void;

function logTickErrors(): TickErrorHandler {
  const log = getLogger("ticker");
  let errors = 0;
  return (e) => {
    if (errors++ > 0) return;
    log.error("period tick threw; pacing continues", {
      error: e instanceof Error ? e : String(e),
      stack: e instanceof Error ? e.stack : undefined,
    });
  };
}

/** Calls `onTick` at `firstMs`, `firstMs + periodMs`, … until stopped. */
export interface Ticker {
  /** Times are epoch ms on the shared clock (`performance.timeOrigin + performance.now()`). */
  start(firstMs: number, periodMs: number, onTick: () => void): void;
  stop(): void;
}

/** Ticks by `setTimeout`: the fallback, and what a test with a manual clock replaces. */
export class TimeoutTicker implements Ticker {
  private timer: ReturnType<typeof setTimeout> | null = null;
  private next = 0;
  private periodMs = 0;
  private onTick: (() => void) | null = null;

  constructor(
    private readonly now: () => number = () => performance.timeOrigin + performance.now(),
    private readonly onError: TickErrorHandler = logTickErrors(),
  ) {}

  start(firstMs: number, periodMs: number, onTick: () => void): void {
    this.stop();
    this.next = firstMs;
    this.periodMs = periodMs;
    this.onTick = onTick;
    this.arm();
  }

  stop(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.onTick = null;
  }

  private arm(): void {
    this.timer = setTimeout(this.fire, Math.max(0, this.next - this.now()));
  }

  private fire = (): void => {
    this.timer = null;
    const cb = this.onTick;
    if (!cb) return;
    const now = this.now();
    if (now >= this.next) {
      // Skip deadlines already missed: the source catches up from its own clock.
      this.next += Math.max(1, Math.floor((now - this.next) / this.periodMs) + 1) * this.periodMs;
      try {
        cb();
      } catch (e) {
        this.onError(e);
      }
    }
    if (this.onTick) this.arm();
  };
}

/** Shared-memory slots between the main thread and the pacing worker. */
const STOP = 0;
/** Ticks posted so far; the main thread waits on it. */
const TICK = 1;

const WORKER_SOURCE = `
const now = () => performance.timeOrigin + performance.now();
self.onmessage = (e) => {
  if (e.data.spareWarmUp) return; // src/system/spare_workers.ts
  const { sab, firstMs, periodMs } = e.data;
  // Its name in ps -L / top -H (Linux); the scheduling is inherited from the thread that started it.
  try { Deno.writeTextFileSync("/proc/thread-self/comm", "m32-pacer"); } catch { /* not Linux */ }
  const flags = new Int32Array(sab);
  let due = firstMs;
  while (Atomics.load(flags, ${STOP}) === 0) {
    let left = due - now();
    while (left > 0 && Atomics.load(flags, ${STOP}) === 0) {
      Atomics.wait(flags, ${STOP}, 0, left);
      left = due - now();
    }
    if (Atomics.load(flags, ${STOP}) !== 0) break;
    Atomics.add(flags, ${TICK}, 1);
    Atomics.notify(flags, ${TICK});
    const t = now();
    due += periodMs;
    // A stalled machine: do not burst ticks for deadlines long gone.
    if (t - due > periodMs) due += Math.floor((t - due) / periodMs) * periodMs;
  }
  self.close();
};
`;

let workerUrl: string | null = null;

registerWorkerKind("pacer", () => {
  workerUrl ??= URL.createObjectURL(new Blob([WORKER_SOURCE], { type: "text/javascript" }));
  return new Worker(workerUrl, { type: "module", name: "m32-pacer" });
});

/**
 * Ticks from a worker thread that sleeps to each deadline with `Atomics.wait`
 * and counts the tick in shared memory; the main thread waits for the count
 * to change with `Atomics.waitAsync` (cheaper than a message: no event object,
 * no structured clone). One worker per `start`; `stop` wakes and ends it.
 */
export class WorkerTicker implements Ticker {
  private worker: Worker | null = null;
  private flags: Int32Array | null = null;

  constructor(private readonly onError: TickErrorHandler = logTickErrors()) {}

  start(firstMs: number, periodMs: number, onTick: () => void): void {
    this.stop();
    const flags = new Int32Array(new SharedArrayBuffer(8));
    // Where spares are kept (the audio plane's thread), one that is already running.
    const worker = spawnWorker("pacer");
    worker.onerror = (e) => {
      // Cannot happen with this fixed code; never leave the source silent if it does.
      e.preventDefault();
      if (this.worker !== worker) return;
      this.stop();
      this.fallback = new TimeoutTicker(undefined, this.onError);
      this.fallback.start(firstMs, periodMs, onTick);
    };
    worker.postMessage({ sab: flags.buffer, firstMs, periodMs });
    this.worker = worker;
    this.flags = flags;
    // Never an unhandled rejection: follow catches each tick, and anything else here.
    this.follow(flags, onTick).catch(this.onError);
  }

  /** Calls `onTick` once per change of the tick count, until STOP is set; a throw ends one tick only. */
  private async follow(flags: Int32Array, onTick: () => void): Promise<void> {
    let seen = 0;
    while (Atomics.load(flags, STOP) === 0) {
      const w = Atomics.waitAsync(flags, TICK, seen);
      if (w.async) await w.value;
      if (Atomics.load(flags, STOP) !== 0) return;
      seen = Atomics.load(flags, TICK);
      try {
        onTick();
      } catch (e) {
        this.onError(e);
      }
    }
  }

  private fallback: TimeoutTicker | null = null;

  stop(): void {
    this.fallback?.stop();
    this.fallback = null;
    const w = this.worker;
    if (!w) return;
    this.worker = null;
    const flags = this.flags!;
    this.flags = null;
    Atomics.store(flags, STOP, 1);
    Atomics.notify(flags, STOP); // the worker's sleep
    Atomics.notify(flags, TICK); // our own waitAsync
    w.terminate();
  }
}
