/**
 * Time and randomness are injected (house style §7) so heartbeat timeouts,
 * pacing and adaptation holds are tested deterministically.
 */

/** Wall-clock time in epoch milliseconds with sub-millisecond precision. */
export interface Clock {
  now(): number;
}

/** Epoch ms derived from the monotonic clock, so it never steps backwards mid-run. */
export const systemClock: Clock = {
  now: () => performance.timeOrigin + performance.now(),
};

/**
 * Timers as a parameter, beside the clock that decides when they are due
 * (house style §7): retry and pacing timers are stepped by a test's
 * `ManualClock` instead of waited for.
 */
export interface Timers {
  setTimeout(fn: () => void, ms: number): TimerId;
  clearTimeout(id: TimerId): void;
  setInterval(fn: () => void, ms: number): TimerId;
  clearInterval(id: TimerId): void;
}

/** What a `Timers` returns to clear the timer with (the runtime's handle, or a ManualClock number). */
export type TimerId = ReturnType<typeof setTimeout> | number;

/** The runtime's own timers. */
export const systemTimers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (id) => clearTimeout(id as ReturnType<typeof setTimeout>),
  setInterval: (fn, ms) => setInterval(fn, ms),
  clearInterval: (id) => clearInterval(id as ReturnType<typeof setInterval>),
};

/** An interval shorter than this would never let `advance` finish. */
const MIN_MANUAL_INTERVAL_MS = 1;

interface ManualTimer {
  due: number;
  /** 0 for a one-shot timer. */
  every: number;
  fn: () => void;
}

/**
 * A clock a test moves by hand; its timers fire in time order (ties in the
 * order they were set) during `advance`, each seeing `now()` at its due time.
 */
export class ManualClock implements Clock, Timers {
  private readonly timers = new Map<number, ManualTimer>();
  private nextId = 1;

  constructor(private t = 1_700_000_000_000) {}
  now(): number {
    return this.t;
  }
  advance(ms: number): void {
    const end = this.t + ms;
    for (let id = this.due(end); id !== 0; id = this.due(end)) {
      const timer = this.timers.get(id)!;
      this.t = timer.due;
      if (timer.every > 0) timer.due += timer.every;
      else this.timers.delete(id);
      timer.fn();
    }
    this.t = end;
  }
  /** Moves the clock without firing timers. */
  set(ms: number): void {
    this.t = ms;
  }

  setTimeout(fn: () => void, ms: number): TimerId {
    return this.add({ due: this.t + Math.max(0, ms), every: 0, fn });
  }
  clearTimeout(id: TimerId): void {
    this.timers.delete(id as number);
  }
  setInterval(fn: () => void, ms: number): TimerId {
    const every = Math.max(MIN_MANUAL_INTERVAL_MS, ms);
    return this.add({ due: this.t + every, every, fn });
  }
  clearInterval(id: TimerId): void {
    this.timers.delete(id as number);
  }

  /** When the next timer is due, or null when none is set. */
  nextTimerAt(): number | null {
    let at: number | null = null;
    for (const timer of this.timers.values()) if (at === null || timer.due < at) at = timer.due;
    return at;
  }

  /** Timers set and not yet fired or cleared. */
  get pendingTimers(): number {
    return this.timers.size;
  }

  private add(timer: ManualTimer): number {
    const id = this.nextId++;
    this.timers.set(id, timer);
    return id;
  }

  /** The earliest timer due at or before `end` (0: none). */
  private due(end: number): number {
    let best = 0;
    let at = Infinity;
    for (const [id, timer] of this.timers) {
      if (timer.due <= end && timer.due < at) {
        best = id;
        at = timer.due;
      }
    }
    return best;
  }
}

/** Source of random 32-bit values (SSRCs, initial sequence numbers and timestamps). */
export interface Random {
  u32(): number;
}

export const cryptoRandom: Random = {
  u32(): number {
    const a = new Uint32Array(1);
    crypto.getRandomValues(a);
    return a[0];
  },
};

/** Deterministic xorshift32 for tests. */
export class SeededRandom implements Random {
  constructor(private state = 0x9e3779b9) {}
  u32(): number {
    let x = this.state;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.state = x >>> 0;
    return this.state;
  }
}
