/**
 * A short history of the clients' QoS for the admin page's charts: every
 * sample takes the worst current figure over the streaming clients whose
 * last report is fresh. A fixed-size ring; pure, time comes from the caller.
 */
import type { ClientSession } from "../session/sessions.ts";

export const HISTORY_INTERVAL_MS = 2000;
/** 10 minutes at one point every 2 s. */
export const HISTORY_POINTS = 300;
/** A report older than this does not count as the client's current state. */
export const QOS_FRESH_MS = 15_000;

export interface HistoryPoint {
  /** Epoch ms. */
  t: number;
  clients: number;
  /** Worst packet loss in percent, or null with no fresh report. */
  loss_pct: number | null;
  jitter_ms: number | null;
  latency_ms: number | null;
}

export function samplePoint(sessions: readonly ClientSession[], now: number): HistoryPoint {
  let clients = 0;
  let loss: number | null = null;
  let jitter: number | null = null;
  let latency: number | null = null;
  const worst = (a: number | null, b: number) => (a === null || b > a ? b : a);
  for (const s of sessions) {
    if (!s.stream) continue;
    clients++;
    if (!s.qos || now - s.qosAt > QOS_FRESH_MS) continue;
    const m = s.qos.metrics;
    loss = worst(loss, m.packet_loss_rate * 100);
    jitter = worst(jitter, m.jitter_ms);
    latency = worst(latency, m.latency_ms);
  }
  return { t: Math.round(now), clients, loss_pct: loss, jitter_ms: jitter, latency_ms: latency };
}

export class QosHistory {
  private readonly points: HistoryPoint[] = [];
  constructor(readonly capacity = HISTORY_POINTS) {}

  push(p: HistoryPoint): void {
    this.points.push(p);
    if (this.points.length > this.capacity) this.points.shift();
  }

  all(): HistoryPoint[] {
    return [...this.points];
  }

  get latest(): HistoryPoint | null {
    return this.points[this.points.length - 1] ?? null;
  }
}
