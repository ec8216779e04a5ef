/**
 * Thin glue between the running server and the pure AdaptationPolicy
 * (./adaptation.ts): feeds it accepted `/qos-metrics` reports and, once a
 * second, the engine's own view; sends `network_warning` events; and carries
 * out steps:
 * - a client step: its address gets a rate ceiling in the session manager,
 *   and only its session ends with `config_changed {reason, new_sample_rate}`;
 *   its next session is given the lower rate (the ack says so);
 * - a global step: the event reason, then `UPDATE audio_config SET
 *   sample_rate = ? WHERE active = 1` (ConfigStore.setSampleRate), whose
 *   change listener in server.ts ends every session with `config_changed`.
 * Every step and every server stall is a WARN line, so the admin page's
 * recent warnings list it.
 */

import type { Config } from "../config/types.ts";
import type { QosReport } from "./report.ts";
import type { Clock } from "../util/clock.ts";
import type { Logger } from "../util/log.ts";
import {
  AdaptationPolicy,
  type AdaptationTiming,
  type Evaluation,
  type Step,
  type StreamingClient,
} from "./adaptation.ts";

/** How often the policy looks at the server's own view and re-evaluates holds. */
export const ADAPTATION_TICK_MS = 1000;
/** Steps kept for tests and the admin page, newest last. */
export const STEPS_KEPT = 100;

/** A client session as the adaptation sees it (the session layer's ClientSession has it). */
export interface AdaptedSession {
  readonly id: string;
  /** The address the session was opened from (a per-client step caps this address). */
  readonly ip: string;
  /** Non-null while the session streams. */
  readonly stream: unknown;
  /** What the session streams now (its rate), once configured. */
  readonly effective: { readonly sampleRate: number } | null;
  /** Clock time the session started streaming (its first seconds are start-up). */
  readonly streamingSince: number;
  /** Sends one JSON message (a `network_warning` event) to the client. */
  send(msg: unknown): void;
}

/** The parts of the running server the service uses (ServerContext has them all). */
export interface AdaptationContext {
  clock: Clock;
  config(): Config;
  sessions: {
    list(): readonly AdaptedSession[];
    get(id: string): AdaptedSession | undefined;
    end(s: AdaptedSession, reason: string, event?: Record<string, unknown>): void;
    setRateCeiling(address: string, rate: number | null): void;
  };
  engine: {
    readonly active: boolean;
    readonly captureToWire: { percentile(p: number): number; reset(): void };
  };
  store: { setSampleRate(rate: number): void };
  /** Sets the `reason` the next config_changed event carries. */
  changeReason(reason: string): void;
  engineFeatures: { resample: boolean };
}

export interface AdaptationDeps {
  ctx: AdaptationContext;
  /** The UDP sender's cumulative counters. */
  sendStats(): { packets: number; errors: number };
  log: Logger;
  /** Start-up grace and step spacing (tests shorten them). */
  timing?: Partial<AdaptationTiming>;
}

export class AdaptationService {
  readonly policy: AdaptationPolicy;
  /** The steps taken, newest last (at most STEPS_KEPT). */
  readonly steps: Step[] = [];
  private timer: ReturnType<typeof setInterval> | undefined;
  /** When the engine last became active (null: idle); its first seconds are start-up. */
  private activeSince: number | null = null;

  constructor(private readonly deps: AdaptationDeps) {
    this.policy = new AdaptationPolicy(deps.ctx.clock, deps.timing);
  }

  start(intervalMs = ADAPTATION_TICK_MS): void {
    this.stop();
    this.timer = setInterval(() => this.tick(), intervalMs);
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** ctx.onQos: one accepted report. Reports of clients not streaming are ignored. */
  readonly onQos = (report: QosReport): void => {
    const { ctx } = this.deps;
    const s = ctx.sessions.get(report.client_id);
    if (!s?.stream) return;
    const warning = this.policy.report(
      s.id,
      report.metrics,
      ctx.config().adaptation,
      s.streamingSince,
    );
    if (warning) {
      s.send({ type: "event", payload: warning });
      this.deps.log.info("network warning sent", {
        client: s.id,
        latency_ms: warning.latency_ms,
        loss_pct: warning.packet_loss_rate * 100,
        jitter_ms: warning.jitter_ms,
      });
    }
    this.decide();
  };

  /** Once a second: the server's own view, then a decision. */
  tick(): Evaluation {
    const { ctx, log } = this.deps;
    const now = ctx.clock.now();
    if (!ctx.engine.active) this.activeSince = null;
    else if (this.activeSince === null) this.activeSince = now;
    // Capture start-up (device open, first periods) is no stall: as for sessions, its first seconds don't count.
    if (this.activeSince !== null && now - this.activeSince >= this.policy.timing.startupGraceMs) {
      const st = this.deps.sendStats();
      const stall = this.policy.observeServer({
        captureToWireP50Ms: ctx.engine.captureToWire.percentile(50),
        captureToWireP99Ms: ctx.engine.captureToWire.percentile(99),
        packetsSent: st.packets,
        sendErrors: st.errors,
      }, ctx.config().adaptation);
      if (stall) {
        log.warn("server stall, sample rate kept", {
          p99_ms: stall.p99_ms ?? undefined,
          send_error_pct: stall.send_error_rate * 100,
          reason: stall.reason,
        });
      }
    } else this.policy.forgetServer();
    return this.decide();
  }

  private decide(): Evaluation {
    const { ctx } = this.deps;
    const cfg = ctx.config();
    const streaming = new Map<string, StreamingClient>();
    for (const s of ctx.sessions.list()) {
      if (s.stream && s.effective) {
        streaming.set(s.id, {
          address: s.ip,
          since: s.streamingSince,
          rate: s.effective.sampleRate,
        });
      }
    }
    const ev = this.policy.evaluate({
      config: cfg.adaptation,
      currentRate: cfg.audio.sample_rate,
      nativeRate: cfg.audio.native_sample_rate,
      streaming,
      canProduce: () => ctx.engineFeatures.resample,
    });
    for (const address of ev.released) ctx.sessions.setRateCeiling(address, null);
    for (const step of ev.steps) {
      this.steps.push(step);
      if (this.steps.length > STEPS_KEPT) this.steps.shift();
      if (step.scope === "global") this.stepEveryone(step);
      else this.stepClient(step, cfg);
    }
    return ev;
  }

  private stepEveryone(step: Step): void {
    const { ctx, log } = this.deps;
    log.warn(step.action === "down" ? "lowering sample rate" : "raising sample rate", {
      from_hz: step.fromRate,
      to_hz: step.newRate,
      ...step.figures,
      reason: step.reason,
    });
    try {
      ctx.changeReason(step.reason);
      ctx.store.setSampleRate(step.newRate);
      // The window holds the old rate's samples; the new sessions start clean.
      ctx.engine.captureToWire.reset();
    } catch (e) {
      log.error("sample rate step failed", { to_hz: step.newRate, error: e as Error });
    }
  }

  private stepClient(step: Step, cfg: Config): void {
    const { ctx, log } = this.deps;
    ctx.sessions.setRateCeiling(step.address!, step.ceiling ?? null);
    log.warn(
      step.action === "down" ? "lowering a client's sample rate" : "raising a client's sample rate",
      {
        client: step.clientId,
        address: step.address,
        from_hz: step.fromRate,
        to_hz: step.newRate,
        ...step.figures,
        reason: step.reason,
      },
    );
    const s = ctx.sessions.get(step.clientId!);
    if (!s) return;
    ctx.sessions.end(s, "sample rate changed for this client", {
      type: "config_changed",
      reason: step.reason,
      config_version: cfg.config_version,
      new_sample_rate: step.newRate,
      // Only this phone: its page says its own network is the cause, not the engineer.
      scope: "client",
    });
  }
}
