/**
 * Login throttling per remote address: after `maxFailures` wrong passwords
 * within `windowMs`, every attempt from that address is refused (429) —
 * even with the right password — until the oldest of those failures is
 * older than the window. Time comes from an injected clock.
 */
import type { Clock } from "../util/clock.ts";

export const LOGIN_MAX_FAILURES = 5;
export const LOGIN_WINDOW_MS = 60_000;
/** Addresses remembered at most (oldest forgotten first), so a flood cannot grow memory. */
const MAX_ADDRESSES = 10_000;

export class LoginRateLimiter {
  private readonly failures = new Map<string, number[]>();

  constructor(
    private readonly clock: Clock,
    readonly maxFailures = LOGIN_MAX_FAILURES,
    readonly windowMs = LOGIN_WINDOW_MS,
  ) {}

  /** Failure times still inside the window, oldest first. */
  private recent(key: string): number[] {
    const list = this.failures.get(key);
    if (!list) return [];
    const since = this.clock.now() - this.windowMs;
    while (list.length > 0 && list[0] <= since) list.shift();
    if (list.length === 0) this.failures.delete(key);
    return list;
  }

  /** Milliseconds until `key` may try again; 0 when it may try now. */
  retryAfterMs(key: string): number {
    const list = this.recent(key);
    if (list.length < this.maxFailures) return 0;
    const freeAt = list[list.length - this.maxFailures] + this.windowMs;
    return Math.max(1, Math.ceil(freeAt - this.clock.now()));
  }

  fail(key: string): void {
    const list = this.recent(key);
    if (list.length === 0) {
      if (this.failures.size >= MAX_ADDRESSES) {
        this.failures.delete(this.failures.keys().next().value!);
      }
      this.failures.set(key, list);
    }
    list.push(this.clock.now());
    if (list.length > this.maxFailures) list.shift();
  }

  /** A successful login forgets the address's failures. */
  succeed(key: string): void {
    this.failures.delete(key);
  }
}
