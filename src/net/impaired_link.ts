/**
 * One impaired direction of a relay, runtime-neutral: each datagram offered
 * is dropped or held for the model's delay (./impairment.ts) in a
 * preallocated delay queue (./delay_queue.ts), and sent when due by the
 * `send` it was given. One timer, armed for the earliest due datagram; clock
 * and timers are injected (house style §7) so a ManualClock steps it in tests.
 *
 * Sending is in due order, never early; the timer's lateness (send time − due
 * time, which the runtime decides) is measured, not hidden: `maxLateMs`. A
 * datagram that arrives when every slot is held is counted as `overflow` and
 * dropped (the model did not decide that), one larger than a slot as
 * `oversize` (idem).
 */

import { type Clock, systemClock, systemTimers, type TimerId, type Timers } from "../util/clock.ts";
import { DelayQueue } from "./delay_queue.ts";
import { DROP, type ImpairmentModel } from "./impairment.ts";
import { Lateness } from "./lateness.ts";

/** Sends a held datagram; a returned promise keeps its slot until it settles. */
export type LinkSend = (data: Uint8Array) => Promise<unknown> | void;

export interface LinkStats {
  /** Datagrams offered to the model. */
  received: number;
  /** The model's drops. */
  dropped: number;
  /** Offered datagrams the model placed in a spike (dropped or not). */
  inSpike: number;
  /** Sends that completed / failed. */
  forwarded: number;
  sendErrors: number;
  /** Not decided by the model: no free slot / larger than a slot. */
  overflow: number;
  oversize: number;
  /** The latest any datagram left after its due time (ms): the runtime's timer lateness. */
  maxLateMs: number;
}

export interface LinkOptions {
  clock?: Clock;
  timers?: Timers;
  capacity?: number;
  slotBytes?: number;
  /** Called for every offered datagram with the model's answer (a delay in ms, or DROP). */
  observe?: (data: Uint8Array, atMs: number, delayMs: number) => void;
}

export class ImpairedLink {
  readonly stats: LinkStats = {
    received: 0,
    dropped: 0,
    inSpike: 0,
    forwarded: 0,
    sendErrors: 0,
    overflow: 0,
    oversize: 0,
    maxLateMs: 0,
  };
  /** Every sent datagram's lateness (send − due, ms): p50/p99/max for the bench. */
  readonly lateness = new Lateness();
  private readonly queue: DelayQueue;
  private readonly clock: Clock;
  private readonly timers: Timers;
  private timer: TimerId | undefined;
  private timerAt = Infinity;
  private closed = false;
  private idleWaiters: (() => void)[] = [];
  private readonly onSent = () => this.stats.forwarded++;
  private readonly onFailed = () => this.stats.sendErrors++;
  private readonly fire = () => {
    this.timer = undefined;
    this.timerAt = Infinity;
    this.flush();
  };

  constructor(
    readonly model: ImpairmentModel,
    private readonly send: LinkSend,
    private readonly opts: LinkOptions = {},
  ) {
    this.clock = opts.clock ?? systemClock;
    this.timers = opts.timers ?? systemTimers;
    this.queue = new DelayQueue(opts.capacity, opts.slotBytes);
  }

  /** Datagrams held, not yet sent. */
  get pending(): number {
    return this.queue.size;
  }

  /** When the earliest held datagram is due (ms on the link's clock; Infinity: none). */
  get nextDueMs(): number {
    return this.queue.peekDue();
  }

  /** Resolves once nothing is held and every send has settled. */
  idle(): Promise<void> {
    if (this.queue.inUse === 0) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  offer(data: Uint8Array): void {
    if (this.closed) return;
    const now = this.clock.now();
    const s = this.stats;
    s.received++;
    const delay = this.model.decide(now);
    if (this.model.lastInSpike) s.inSpike++;
    this.opts.observe?.(data, now, delay);
    if (delay === DROP) {
      s.dropped++;
      return;
    }
    if (data.length > this.queue.maxBytes) {
      s.oversize++;
      return;
    }
    if (!this.queue.push(data, now + delay)) {
      s.overflow++;
      return;
    }
    this.flush();
  }

  /** Sends every datagram that is due, then arms the timer for the next. */
  flush(): void {
    if (this.closed) return;
    const q = this.queue;
    const now = this.clock.now();
    while (q.peekDue() <= now) {
      const slot = q.pop();
      const late = now - q.dueOf(slot);
      if (late > this.stats.maxLateMs) this.stats.maxLateMs = late;
      this.lateness.add(late);
      this.sendSlot(slot);
    }
    const next = q.peekDue();
    if (next < this.timerAt) {
      if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
      this.timerAt = next;
      this.timer = this.timers.setTimeout(this.fire, Math.max(0, Math.ceil(next - now)));
    }
  }

  close(): void {
    this.closed = true;
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  private sendSlot(slot: number): void {
    let sent: Promise<unknown> | void;
    try {
      sent = this.send(this.queue.data(slot));
    } catch {
      this.onFailed();
      this.release(slot);
      return;
    }
    if (sent === undefined) {
      this.onSent();
      this.release(slot);
      return;
    }
    sent.then(this.onSent, this.onFailed).finally(() => this.release(slot));
  }

  private release(slot: number): void {
    this.queue.release(slot);
    if (this.queue.inUse > 0 || this.idleWaiters.length === 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }
}
