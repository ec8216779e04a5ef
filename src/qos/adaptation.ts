/**
 * Sample-rate adaptation policy (contract §7, requirements §동적 샘플레이트 변경),
 * pure: no I/O, time from an injected Clock. docs/adaptation.md explains it
 * for operators.
 *
 * Inputs: each client's `/qos-metrics` report (stamped with the server's
 * arrival time) and, once a second, the server's own view (capture-to-wire
 * p99, UDP send errors). Output: a Decision to step the rate one rung of
 * RATE_LADDER down or up, or to do nothing, plus per-client network warnings.
 *
 * Rule, evaluated after every report and every tick:
 *   considered  = streaming clients whose latest report is fresh
 *                 (age ≤ 2 × that client's own report interval, 1–30 s)
 *   latency     = median of their latest latency_ms
 *   loss        = median of their loss over the last report interval
 *                 (from packets_expected/received deltas; the first report's
 *                 packet_loss_rate otherwise)
 *   bad         = latency > latency_ms  or  loss > LOSS_THRESHOLD
 *                 or the server's p99 capture-to-wire > latency_ms
 *                 or its send-error rate > LOSS_THRESHOLD
 *   good        = clients considered, latency < 0.7 × latency_ms, loss < 1 %,
 *                 and the server view is not bad
 *   step down   when bad has held continuously for hold_s with at least
 *                 MIN_EVIDENCE observations (so one spike never steps)
 *   step up     when good has held for recover_hold_s, likewise
 * After any step (or any other rate change) every hold and every stored
 * report is dropped: only reports of the new sessions count.
 */

import { type AdaptationConfig, SAMPLE_RATES } from "../config/types.ts";
import type { Clock } from "../util/clock.ts";

/** Rates from the native rate down (contract §7). */
export const RATE_LADDER: readonly number[] = SAMPLE_RATES;
/** Sustained packet loss (fraction) that steps the rate down. */
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
/** Observations (reports, server ticks) needed inside a hold before it may step. */
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

/** The server's own view, cumulative counters as the sender keeps them. */
export interface ServerView {
  /** p99 of capture → wire over the engine's recent window, ms; NaN when nothing was sent. */
  captureToWireP99Ms: number;
  packetsSent: number;
  sendErrors: number;
}

/** What the policy needs to know about the configuration right now. */
export interface RateState {
  config: AdaptationConfig;
  currentRate: number;
  nativeRate: number;
  /** Client ids that are streaming now; reports of anyone else are ignored. */
  streaming: ReadonlySet<string>;
  /** Whether the server can produce `rate` (no resampler: only the native rate). */
  canProduce?: (rate: number) => boolean;
}

export interface DecisionFigures {
  latency_ms: number | null;
  loss_rate: number | null;
  clients: number;
  server_p99_ms: number | null;
  held_s: number;
}

export interface Decision {
  action: "down" | "up" | "none";
  /** The rate after the decision (the current rate for "none"). */
  newRate: number;
  reason: string;
  figures?: DecisionFigures;
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

interface ClientState {
  at: number;
  intervalMs: number;
  latencyMs: number;
  loss: number;
  received: number;
  expected: number;
  /** Reports since the last evaluation. */
  unseen: number;
}

interface Hold {
  since: number | null;
  evidence: number;
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));
const pct = (rate: number) => `${(rate * 100).toFixed(1)} %`;
const ms = (v: number) => `${Math.round(v)} ms`;

export class AdaptationPolicy {
  private readonly clients = new Map<string, ClientState>();
  private readonly warnedAt = new Map<string, number>();
  private bad: Hold = { since: null, evidence: 0 };
  private good: Hold = { since: null, evidence: 0 };
  private lastRate: number | null = null;
  private server: { view: ServerView; bad: boolean; good: boolean; fresh: boolean } | null = null;

  constructor(
    private readonly clock: Clock,
    readonly lossThreshold = LOSS_THRESHOLD,
  ) {}

  /**
   * Records one client's report at its arrival time; returns the warning to send
   * that client when its own figures exceed the thresholds (rate-limited), else null.
   */
  report(clientId: string, m: QosSample, config: AdaptationConfig): NetworkWarning | null {
    const now = this.clock.now();
    const prev = this.clients.get(clientId);
    const dExp = prev ? m.packets_expected - prev.expected : 0;
    const dRecv = prev ? m.packets_received - prev.received : 0;
    const loss = prev && dExp > 0 && dRecv >= 0
      ? clamp((dExp - dRecv) / dExp, 0, 1)
      : clamp(m.packet_loss_rate, 0, 1);
    const gap = prev ? now - prev.at : DEFAULT_REPORT_INTERVAL_MS;
    this.clients.set(clientId, {
      at: now,
      intervalMs: prev ? (prev.intervalMs + gap) / 2 : DEFAULT_REPORT_INTERVAL_MS,
      latencyMs: m.latency_ms,
      loss,
      received: m.packets_received,
      expected: m.packets_expected,
      unseen: (prev?.unseen ?? 0) + 1,
    });
    const highLatency = m.latency_ms > config.latency_ms;
    const highLoss = loss > this.lossThreshold;
    if (!highLatency && !highLoss) return null;
    const last = this.warnedAt.get(clientId);
    if (last !== undefined && now - last < WARNING_INTERVAL_MS) return null;
    this.warnedAt.set(clientId, now);
    const parts: string[] = [];
    if (highLatency) {
      parts.push(`latency ${ms(m.latency_ms)} is over the ${ms(config.latency_ms)} threshold`);
    }
    if (highLoss) {
      parts.push(`packet loss ${pct(loss)} is over the ${pct(this.lossThreshold)} threshold`);
    }
    return {
      type: "network_warning",
      reason: `poor network: ${parts.join(", ")}`,
      latency_ms: m.latency_ms,
      packet_loss_rate: loss,
      jitter_ms: m.jitter_ms,
      latency_threshold_ms: config.latency_ms,
      loss_threshold: this.lossThreshold,
    };
  }

  /** The server's own view, once per tick; counts as one observation at the next evaluation. */
  observeServer(view: ServerView, config: AdaptationConfig): void {
    const prev = this.server?.view;
    const dErr = prev ? view.sendErrors - prev.sendErrors : 0;
    const dSent = prev ? view.packetsSent - prev.packetsSent : 0;
    const errRate = dErr > 0 ? dErr / Math.max(1, dErr + Math.max(0, dSent)) : 0;
    const p99 = view.captureToWireP99Ms;
    const bad = p99 > config.latency_ms || errRate > this.lossThreshold;
    const good = !bad && !(p99 >= RECOVER_LATENCY_FACTOR * config.latency_ms) && dErr <= 0;
    this.server = { view, bad, good, fresh: true };
  }

  /** Decides; call after every report and every tick. */
  evaluate(st: RateState): Decision {
    const now = this.clock.now();
    const cfg = st.config;
    const none = (reason: string): Decision => ({
      action: "none",
      newRate: st.currentRate,
      reason,
    });
    for (const id of this.clients.keys()) if (!st.streaming.has(id)) this.clients.delete(id);
    for (const id of this.warnedAt.keys()) if (!st.streaming.has(id)) this.warnedAt.delete(id);
    if (this.lastRate === null) this.lastRate = st.currentRate;
    if (this.lastRate !== st.currentRate) {
      // An admin edit or a step that came from elsewhere: start from scratch.
      this.restart();
      this.lastRate = st.currentRate;
      return none(`sample rate is ${st.currentRate} Hz; holds restarted`);
    }
    if (!cfg.enabled) {
      this.resetHolds();
      this.consumeEvidence();
      return none("adaptation disabled");
    }

    const fresh = [...this.clients.values()].filter((c) =>
      now - c.at <= clamp(STALE_INTERVALS * c.intervalMs, MIN_STALE_MS, MAX_STALE_MS)
    );
    const evidence = this.consumeEvidence();
    const watched = st.streaming.size > 0;
    const latency = fresh.length ? median(fresh.map((c) => c.latencyMs)) : null;
    const loss = fresh.length ? median(fresh.map((c) => c.loss)) : null;
    // The server's own view counts only while someone streams (it is stale otherwise).
    const serverBad = watched && (this.server?.bad ?? false);
    const serverGood = !watched || (this.server?.good ?? true);
    const latencyBad = latency !== null && latency > cfg.latency_ms;
    const lossBad = loss !== null && loss > this.lossThreshold;
    const isBad = latencyBad || lossBad || serverBad;
    const isGood = !isBad && latency !== null && loss !== null &&
      latency < RECOVER_LATENCY_FACTOR * cfg.latency_ms && loss < RECOVER_LOSS && serverGood;
    // A server tick is evidence only of the server's own trouble, never of the clients'.
    this.track(this.bad, isBad, evidence.reports + (serverBad ? evidence.server : 0), now);
    this.track(this.good, isGood, evidence.reports, now);

    const p99 = this.server?.view.captureToWireP99Ms;
    const figures = (hold: Hold): DecisionFigures => ({
      latency_ms: latency === null ? null : Math.round(latency * 10) / 10,
      loss_rate: loss === null ? null : Math.round(loss * 10000) / 10000,
      clients: fresh.length,
      server_p99_ms: p99 === undefined || Number.isNaN(p99) ? null : Math.round(p99 * 10) / 10,
      held_s: hold.since === null ? 0 : Math.round((now - hold.since) / 100) / 10,
    });
    const ladder = RATE_LADDER.filter((r) =>
      r <= st.nativeRate && (r === st.nativeRate || (st.canProduce?.(r) ?? true))
    );
    const lower = ladder.find((r) => r < st.currentRate);
    const higher = [...ladder].reverse().find((r) => r > st.currentRate);

    if (isBad && this.held(this.bad, cfg.hold_s, now)) {
      if (lower === undefined) return none(`already at the lowest rate ${st.currentRate} Hz`);
      const f = figures(this.bad);
      const held = `for ${f.held_s} s`;
      const what = latencyBad
        ? `latency too high, lowering sample rate: median client latency ${ms(latency!)} ` +
          `over the ${ms(cfg.latency_ms)} threshold ${held} (${fresh.length} client(s))`
        : lossBad
        ? `packet loss too high, lowering sample rate: median client loss ${pct(loss!)} ` +
          `over the ${pct(this.lossThreshold)} threshold ${held} (${fresh.length} client(s))`
        : `server latency too high, lowering sample rate: capture-to-wire p99 ` +
          `${f.server_p99_ms ?? "?"} ms or send errors over the limits ${held}`;
      return this.step("down", lower, `${what}; ${st.currentRate} → ${lower} Hz`, f);
    }
    if (isGood && this.held(this.good, cfg.recover_hold_s, now) && higher !== undefined) {
      const f = figures(this.good);
      return this.step(
        "up",
        higher,
        `network quality good, raising sample rate: median client latency ${ms(latency!)}, ` +
          `loss ${pct(loss!)} for ${f.held_s} s (${fresh.length} client(s)); ` +
          `${st.currentRate} → ${higher} Hz`,
        f,
      );
    }
    if (isBad) return none(`quality poor for ${figures(this.bad).held_s} s, holding`);
    if (isGood) return none(`quality good for ${figures(this.good).held_s} s, holding`);
    return none(fresh.length ? "quality in between, holding" : "no fresh client reports");
  }

  private step(
    action: "down" | "up",
    newRate: number,
    reason: string,
    figures: DecisionFigures,
  ): Decision {
    this.restart();
    this.lastRate = newRate;
    return { action, newRate, reason, figures };
  }

  private held(h: Hold, holdS: number, now: number): boolean {
    return h.since !== null && now - h.since >= holdS * 1000 && h.evidence >= MIN_EVIDENCE;
  }

  private track(h: Hold, on: boolean, evidence: number, now: number): void {
    if (!on) {
      h.since = null;
      h.evidence = 0;
      return;
    }
    if (h.since === null) {
      h.since = now;
      h.evidence = 0;
    }
    h.evidence += evidence;
  }

  /** Observations since the last evaluation: client reports, and whether a server view came. */
  private consumeEvidence(): { reports: number; server: number } {
    let reports = 0;
    for (const c of this.clients.values()) {
      reports += c.unseen;
      c.unseen = 0;
    }
    const server = this.server?.fresh ? 1 : 0;
    if (this.server) this.server.fresh = false;
    return { reports, server };
  }

  private resetHolds(): void {
    this.bad = { since: null, evidence: 0 };
    this.good = { since: null, evidence: 0 };
  }

  /** Drops holds and reports: nothing from before a rate change counts after it. */
  private restart(): void {
    this.resetHolds();
    this.clients.clear();
    if (this.server) this.server = { ...this.server, bad: false, good: true, fresh: false };
  }
}
