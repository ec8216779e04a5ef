/**
 * One streaming client's quality as the adaptation policy (./adaptation.ts)
 * sees it: its latest `/qos-metrics` figures stamped with the server's arrival
 * time, its loss over the last report interval, and its own "bad" and "good"
 * holds. Pure: the caller passes the time.
 *
 * A report inside the session's start-up grace only sets the packet-counter
 * baseline: its latency (clock sync still converging, buffers filling) and its
 * loss never count, and it warns nobody.
 */

import type { AdaptationConfig } from "../config/types.ts";

/** Sustained packet loss (fraction) that makes a client suffer. */
export const LOSS_THRESHOLD = 0.05;
/** Quality counts as good below this share of the latency threshold… */
export const RECOVER_LATENCY_FACTOR = 0.7;
/** …and below this loss (the requirements' "< 1 % on a normal network"). */
export const RECOVER_LOSS = 0.01;
/** Report interval assumed until a client has sent two reports (the reference client's). */
export const DEFAULT_REPORT_INTERVAL_MS = 5000;
/** A report is stale after this many of its client's report intervals… */
export const STALE_INTERVALS = 2;
/** …bounded to this range. */
export const MIN_STALE_MS = 1000;
export const MAX_STALE_MS = 30_000;
/** Observations (reports) needed inside a hold before it may step. */
export const MIN_EVIDENCE = 2;
/** At most one network_warning per client in this time. */
export const WARNING_INTERVAL_MS = 10_000;

/** The `metrics` object of a `/qos-metrics` report. */
export interface QosSample {
  packets_received: number;
  packets_expected: number;
  packet_loss_rate: number;
  jitter_ms: number;
  latency_ms: number;
}

/** The `network_warning` event payload for one client (contract §4). */
export interface NetworkWarning {
  type: "network_warning";
  reason: string;
  latency_ms: number;
  packet_loss_rate: number;
  jitter_ms: number;
  latency_threshold_ms: number;
  loss_threshold: number;
}

/** A condition that must hold continuously, with the observations seen inside it. */
export class Hold {
  since: number | null = null;
  evidence = 0;

  /** Extends the hold by `evidence` observations while `on`, else ends it. */
  track(on: boolean, evidence: number, now: number): void {
    if (!on) return this.reset();
    if (this.since === null) {
      this.since = now;
      this.evidence = 0;
    }
    this.evidence += evidence;
  }

  held(holdS: number, now: number): boolean {
    return this.since !== null && now - this.since >= holdS * 1000 &&
      this.evidence >= MIN_EVIDENCE;
  }

  heldS(now: number): number {
    return this.since === null ? 0 : Math.round((now - this.since) / 100) / 10;
  }

  reset(): void {
    this.since = null;
    this.evidence = 0;
  }
}

const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));
export const pct = (rate: number) => `${(rate * 100).toFixed(1)} %`;
export const ms = (v: number) => `${Math.round(v)} ms`;

export class ClientQuality {
  /** Arrival of the latest counted report (−∞: none yet). */
  at = -Infinity;
  intervalMs = DEFAULT_REPORT_INTERVAL_MS;
  latencyMs = NaN;
  loss = NaN;
  /** Counted reports since the last evaluation. */
  unseen = 0;
  /** The latest assessment (see assess). */
  latencyOver = false;
  lossOver = false;
  fine = false;
  readonly bad = new Hold();
  readonly good = new Hold();
  private received = NaN;
  private expected = NaN;
  private lastArrival = -Infinity;
  private warnedAt = -Infinity;

  /**
   * Records one report arriving at `now`; `counts` is false inside the
   * session's start-up grace. Returns the warning to send (rate-limited), or null.
   */
  record(
    m: QosSample,
    now: number,
    counts: boolean,
    config: AdaptationConfig,
    lossThreshold: number,
  ): NetworkWarning | null {
    const dExp = m.packets_expected - this.expected;
    const dRecv = m.packets_received - this.received;
    const loss = dExp > 0 && dRecv >= 0 // NaN (no previous counters) fails both
      ? clamp((dExp - dRecv) / dExp, 0, 1)
      : clamp(m.packet_loss_rate, 0, 1);
    const gap = now - this.lastArrival;
    if (Number.isFinite(gap)) this.intervalMs = (this.intervalMs + gap) / 2;
    this.lastArrival = now;
    this.received = m.packets_received;
    this.expected = m.packets_expected;
    if (!counts) return null;
    this.at = now;
    this.latencyMs = m.latency_ms;
    this.loss = loss;
    this.unseen++;

    const highLatency = m.latency_ms > config.latency_ms;
    const highLoss = loss > lossThreshold;
    if ((!highLatency && !highLoss) || now - this.warnedAt < WARNING_INTERVAL_MS) return null;
    this.warnedAt = now;
    const parts: string[] = [];
    if (highLatency) {
      parts.push(`latency ${ms(m.latency_ms)} is over the ${ms(config.latency_ms)} threshold`);
    }
    if (highLoss) {
      parts.push(`packet loss ${pct(loss)} is over the ${pct(lossThreshold)} threshold`);
    }
    return {
      type: "network_warning",
      reason: `poor network: ${parts.join(", ")}`,
      latency_ms: m.latency_ms,
      packet_loss_rate: loss,
      jitter_ms: m.jitter_ms,
      latency_threshold_ms: config.latency_ms,
      loss_threshold: lossThreshold,
    };
  }

  /** Whether the latest counted report is recent enough to speak for the client now. */
  fresh(now: number): boolean {
    return now - this.at <= clamp(STALE_INTERVALS * this.intervalMs, MIN_STALE_MS, MAX_STALE_MS);
  }

  /**
   * Judges the latest counted report. `serverShareMs` is the server's own
   * typical capture-to-wire time, part of every reported latency: only the
   * rest is the client's network, and only that is held against it.
   */
  assess(config: AdaptationConfig, lossThreshold: number, serverShareMs: number): void {
    const network = this.latencyMs - serverShareMs;
    this.latencyOver = network > config.latency_ms;
    this.lossOver = this.loss > lossThreshold;
    this.fine = network < RECOVER_LATENCY_FACTOR * config.latency_ms && this.loss < RECOVER_LOSS;
  }

  /** Takes the counted reports since the last evaluation (the holds' evidence). */
  takeEvidence(): number {
    const n = this.unseen;
    this.unseen = 0;
    return n;
  }
}
