/**
 * The impairment a TCP stream can show (a WebSocket's): delay only, in order.
 * A byte stream cannot lose data or reorder it, so per chunk the model's
 * answer becomes a release time:
 *
 *   delay   → release at max(previous release, now + delay)   (head-of-line
 *             blocking: a late chunk holds back every chunk after it)
 *   DROP    → the loss is repaired by a retransmission: release at
 *             max(previous release, now + retransmitMs)
 *
 * `retransmitMs` defaults to Linux's minimum TCP retransmission timeout
 * (TCP_RTO_MIN, 200 ms); on a real link a fast retransmit can repair sooner.
 * One decision per chunk the relay reads (a write of the server's, often one
 * WebSocket message), not per IP packet.
 */

import { DROP, type ImpairmentModel } from "./impairment.ts";

/** Linux's TCP_RTO_MIN (include/net/tcp.h: HZ / 5). */
export const TCP_RTO_MIN_MS = 200;

export interface InOrderDelayStats {
  chunks: number;
  /** Chunks the model dropped, released after a retransmission delay instead. */
  retransmitted: number;
  /** Chunks held back behind an earlier one beyond their own delay. */
  headOfLineBlocked: number;
  inSpike: number;
}

export class InOrderDelay {
  readonly stats: InOrderDelayStats = {
    chunks: 0,
    retransmitted: 0,
    headOfLineBlocked: 0,
    inSpike: 0,
  };
  private lastReleaseMs = -Infinity;

  constructor(readonly model: ImpairmentModel, readonly retransmitMs = TCP_RTO_MIN_MS) {}

  /** When a chunk read at `nowMs` may be written on. */
  releaseAt(nowMs: number): number {
    const s = this.stats;
    s.chunks++;
    let delay = this.model.decide(nowMs);
    if (this.model.lastInSpike) s.inSpike++;
    if (delay === DROP) {
      s.retransmitted++;
      delay = this.retransmitMs;
    }
    const own = nowMs + delay;
    if (own < this.lastReleaseMs) s.headOfLineBlocked++;
    this.lastReleaseMs = Math.max(this.lastReleaseMs, own);
    return this.lastReleaseMs;
  }
}
