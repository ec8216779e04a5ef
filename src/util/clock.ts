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

/** A clock a test moves by hand. */
export class ManualClock implements Clock {
  constructor(private t = 1_700_000_000_000) {}
  now(): number {
    return this.t;
  }
  advance(ms: number): void {
    this.t += ms;
  }
  set(ms: number): void {
    this.t = ms;
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
