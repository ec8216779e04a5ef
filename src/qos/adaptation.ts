/**
 * Sample-rate adaptation policy (contract §7, requirements §동적 샘플레이트 변경),
 * pure: no I/O, time from an injected Clock. docs/adaptation.md explains it
 * for operators.
 *
 * Inputs: each client's `/qos-metrics` report (./client_quality.ts) and, once
 * a second, the server's own view (capture-to-wire p99, UDP send errors).
 * Output: steps, each one rung of RATE_LADDER down or up, for one client (its
 * address gets a rate ceiling; only its session ends) or for everyone (the
 * stored rate; every session ends), and rate-limited warnings.
 *
 * Rule, evaluated after every report and every tick:
 *   considered  = streaming clients past their start-up grace whose latest
 *                 report is fresh
 *   suffering   = a considered client whose own latency > latency_ms or
 *                 loss > LOSS_THRESHOLD has held for hold_s (≥ MIN_EVIDENCE reports)
 *   fine        = a considered client whose latency < 0.7 × latency_ms and
 *                 loss < 1 % has held for recover_hold_s
 *   global down when more than half of the considered clients suffer
 *   client down otherwise, for each suffering client (below its current rate)
 *   global up   when more than half of the considered clients are fine
 *   client up   for a fine client whose address has a ceiling (one rung; the
 *                 ceiling goes once it reaches the stored rate)
 *   latency     a client is judged on its latency minus the server's own
 *                 typical (p50) capture-to-wire time: only its network's share
 *   server stall (its capture-to-wire p99 > latency_ms or send errors > 5 %):
 *                 never a step (a lower rate does not cure it): a warning, and
 *                 no step up while it lasts
 *   spacing     at most one step per minStepIntervalMs globally and per address
 */

import { type AdaptationConfig, SAMPLE_RATES } from "../config/types.ts";
import type { Clock } from "../util/clock.ts";
import {
  ClientQuality,
  LOSS_THRESHOLD,
  ms,
  type NetworkWarning,
  pct,
  type QosSample,
  RECOVER_LATENCY_FACTOR,
} from "./client_quality.ts";
import {
  type Candidate,
  type DecisionFigures,
  median,
  planSteps,
  type Step,
  type StreamingClient,
} from "./adaptation_steps.ts";

export * from "./client_quality.ts";

/** Rates from the native rate down (contract §7). */
export const RATE_LADDER: readonly number[] = SAMPLE_RATES;
/** A session's first reports are start-up artefacts (clock sync, buffers filling). */
export const STARTUP_GRACE_MS = 10_000;
/** At most one step in this time, globally and per client address. */
export const MIN_STEP_INTERVAL_MS = 180_000;
/** A client address's rate ceiling is forgotten after no session from it for this long. */
export const CEILING_FORGET_MS = 600_000;
/** At most one server-stall warning in this time. */
export const SERVER_WARNING_INTERVAL_MS = 60_000;

export interface AdaptationTiming {
  startupGraceMs: number;
  minStepIntervalMs: number;
  ceilingForgetMs: number;
}

export const DEFAULT_ADAPTATION_TIMING: AdaptationTiming = {
  startupGraceMs: STARTUP_GRACE_MS,
  minStepIntervalMs: MIN_STEP_INTERVAL_MS,
  ceilingForgetMs: CEILING_FORGET_MS,
};

/** The server's own view, cumulative counters as the sender keeps them. */
export interface ServerView {
  /** p50 of capture → wire over the engine's recent window, ms: the server's share of every client's latency. */
  captureToWireP50Ms: number;
  /** p99 of the same; NaN when nothing was sent. */
  captureToWireP99Ms: number;
  packetsSent: number;
  sendErrors: number;
}

/** What the policy needs to know about the configuration right now. */
export interface RateState {
  config: AdaptationConfig;
  /** The stored (global) rate. */
  currentRate: number;
  nativeRate: number;
  /** Streaming sessions by client id; reports of anyone else are ignored. */
  streaming: ReadonlyMap<string, StreamingClient>;
  /** Whether the server can produce `rate` (no resampler: only the native rate). */
  canProduce?: (rate: number) => boolean;
}

export interface Evaluation {
  steps: Step[];
  /** What the policy is doing, in one sentence. */
  status: string;
  /** Addresses whose ceiling went (forgotten, or no lower than the stored rate). */
  released: string[];
}

/** A warning for the admin: the server itself is late; no step follows. */
export interface ServerWarning {
  reason: string;
  p99_ms: number | null;
  send_error_rate: number;
}

export class AdaptationPolicy {
  readonly timing: AdaptationTiming;
  private readonly clients = new Map<string, ClientQuality>();
  /** Rate ceiling per client address, and when a session from it was last seen. */
  private readonly ceilings = new Map<string, { rate: number; seen: number }>();
  private readonly lastStepAt = new Map<string, number>();
  private lastGlobalStep = -Infinity;
  private lastRate: number | null = null;
  private server = { view: null as ServerView | null, stalled: false, warnedAt: -Infinity };

  constructor(
    private readonly clock: Clock,
    timing: Partial<AdaptationTiming> = {},
    readonly lossThreshold = LOSS_THRESHOLD,
  ) {
    this.timing = { ...DEFAULT_ADAPTATION_TIMING, ...timing };
  }

  /** The rate ceiling of a client address, if it has one. */
  ceiling(address: string): number | undefined {
    return this.ceilings.get(address)?.rate;
  }

  /**
   * Records one client's report at its arrival time (`sessionStart`: when its
   * session began, for the start-up grace); returns the warning to send that
   * client when its own figures exceed the thresholds (rate-limited), else null.
   */
  report(
    clientId: string,
    m: QosSample,
    config: AdaptationConfig,
    sessionStart: number,
  ): NetworkWarning | null {
    const now = this.clock.now();
    let c = this.clients.get(clientId);
    if (!c) this.clients.set(clientId, c = new ClientQuality());
    const counts = now - sessionStart >= this.timing.startupGraceMs;
    return c.record(m, now, counts, config, this.lossThreshold);
  }

  /** The server's own view, once per tick; returns a stall warning (rate-limited) or null. */
  observeServer(view: ServerView, config: AdaptationConfig): ServerWarning | null {
    const prev = this.server.view;
    const dErr = prev ? view.sendErrors - prev.sendErrors : 0;
    const dSent = prev ? view.packetsSent - prev.packetsSent : 0;
    const errRate = dErr > 0 ? dErr / Math.max(1, dErr + Math.max(0, dSent)) : 0;
    const p99 = view.captureToWireP99Ms;
    this.server.view = view;
    this.server.stalled = p99 > config.latency_ms || errRate > this.lossThreshold;
    if (!this.server.stalled) return null;
    const now = this.clock.now();
    if (now - this.server.warnedAt < SERVER_WARNING_INTERVAL_MS) return null;
    this.server.warnedAt = now;
    const p = Number.isNaN(p99) ? null : Math.round(p99 * 10) / 10;
    return {
      reason: `server stall: capture-to-wire p99 ${p ?? "?"} ms (threshold ` +
        `${ms(config.latency_ms)}), send errors ${pct(errRate)}; the sample rate stays ` +
        `(a lower rate does not cure a busy server)`,
      p99_ms: p,
      send_error_rate: errRate,
    };
  }

  /** The server's view is unknown (capture idle or starting): nothing stale counts. */
  forgetServer(): void {
    this.server.view = null;
    this.server.stalled = false;
  }

  /** Decides; call after every report and every tick. */
  evaluate(st: RateState): Evaluation {
    const now = this.clock.now();
    const cfg = st.config;
    const released: string[] = [];
    const result = (status: string, steps: Step[] = []): Evaluation => ({
      steps,
      status,
      released,
    });
    for (const id of this.clients.keys()) if (!st.streaming.has(id)) this.clients.delete(id);
    this.tidy(st, now, released);
    if (this.lastRate === null) this.lastRate = st.currentRate;
    if (this.lastRate !== st.currentRate) {
      // An admin edit or a step that came from elsewhere: start from scratch.
      this.clients.clear();
      this.lastRate = st.currentRate;
      return result(`sample rate is ${st.currentRate} Hz; holds restarted`);
    }
    const watched = st.streaming.size > 0;
    const stalled = watched && this.server.stalled;
    const p50 = this.server.view?.captureToWireP50Ms ?? NaN;
    const serverShare = watched && Number.isFinite(p50) ? Math.max(0, p50) : 0;
    const considered: Candidate[] = [];
    for (const [id, c] of this.clients) {
      const evidence = c.takeEvidence();
      if (!c.fresh(now) || !cfg.enabled) {
        c.bad.reset();
        c.good.reset();
        if (!c.fresh(now)) continue;
      } else {
        c.assess(cfg, this.lossThreshold, serverShare);
        c.bad.track(c.latencyOver || c.lossOver, evidence, now);
        c.good.track(c.fine, evidence, now);
      }
      considered.push({ id, quality: c, session: st.streaming.get(id)! });
    }
    if (!cfg.enabled) return result("adaptation disabled");

    const ladder = RATE_LADDER.filter((r) =>
      r <= st.nativeRate && (r === st.nativeRate || (st.canProduce?.(r) ?? true))
    );
    const plan = planSteps({
      now,
      config: cfg,
      lossThreshold: this.lossThreshold,
      currentRate: st.currentRate,
      ladder,
      considered,
      ceiling: (address) => this.ceiling(address),
      mayStepGlobally: now - this.lastGlobalStep >= this.timing.minStepIntervalMs,
      mayStep: (address) =>
        now - (this.lastStepAt.get(address) ?? -Infinity) >= this.timing.minStepIntervalMs,
      serverP99Ms: this.server.view?.captureToWireP99Ms ?? NaN,
      // Raising the rate while the server itself is late would only add work.
      mayStepUp: !stalled,
    });
    for (const s of plan.steps) this.apply(s, st, now, released);
    return result(plan.status, plan.steps);
  }

  /** Records a step: spacing, ceilings, and nothing measured before it counts after it. */
  private apply(s: Step, st: RateState, now: number, released: string[]): void {
    if (s.scope === "global") {
      this.lastGlobalStep = now;
      this.lastRate = s.newRate;
      for (const c of st.streaming.values()) this.lastStepAt.set(c.address, now);
      this.clients.clear();
      for (const [address, c] of this.ceilings) {
        if (c.rate >= s.newRate) {
          this.ceilings.delete(address);
          released.push(address);
        }
      }
      return;
    }
    this.lastStepAt.set(s.address!, now);
    this.clients.delete(s.clientId!);
    if (s.ceiling === null || s.ceiling === undefined) this.ceilings.delete(s.address!);
    else this.ceilings.set(s.address!, { rate: s.ceiling, seen: now });
  }

  /** Forgets ceilings of addresses long gone or no lower than the stored rate, and old spacing. */
  private tidy(st: RateState, now: number, released: string[]): void {
    for (const c of st.streaming.values()) {
      const ceiling = this.ceilings.get(c.address);
      if (ceiling) ceiling.seen = now;
    }
    for (const [address, c] of this.ceilings) {
      if (now - c.seen > this.timing.ceilingForgetMs || c.rate >= st.currentRate) {
        this.ceilings.delete(address);
        released.push(address);
      }
    }
    for (const [address, at] of this.lastStepAt) {
      if (now - at >= this.timing.minStepIntervalMs) this.lastStepAt.delete(address);
    }
  }
}

export { median, RECOVER_LATENCY_FACTOR };
export type { DecisionFigures, Step, StreamingClient };
