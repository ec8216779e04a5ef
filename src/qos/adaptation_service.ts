/**
 * Thin glue between the running server and the pure AdaptationPolicy
 * (./adaptation.ts): feeds it `/qos-metrics` reports and, once a second, the
 * engine's own view; sends `network_warning` events; and carries out a step:
 * the event reason, then `UPDATE audio_config SET sample_rate = ? WHERE
 * active = 1` (ConfigStore.setSampleRate), whose change listener in
 * server.ts ends every session with `config_changed {reason, new_sample_rate}`.
 */

import type { AdaptationContext } from "./adaptation_deps.ts";
import type { QosReport } from "./report.ts";
import type { Logger } from "../util/log.ts";
import { AdaptationPolicy, type Decision } from "./adaptation.ts";

/** How often the policy looks at the server's own view and re-evaluates holds. */
export const ADAPTATION_TICK_MS = 1000;

export interface AdaptationDeps {
  ctx: AdaptationContext;
  /** The UDP sender's cumulative counters. */
  sendStats(): { packets: number; errors: number };
  log: Logger;
}

export class AdaptationService {
  readonly policy: AdaptationPolicy;
  /** The steps taken, newest last (for tests and the admin page). */
  readonly steps: Decision[] = [];
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(private readonly deps: AdaptationDeps) {
    this.policy = new AdaptationPolicy(deps.ctx.clock);
  }

  start(intervalMs = ADAPTATION_TICK_MS): void {
    this.stop();
    this.timer = setInterval(() => this.tick(), intervalMs);
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** ctx.onQos: one valid report from a client. Reports of clients not streaming are ignored. */
  readonly onQos = (report: QosReport): void => {
    const { ctx } = this.deps;
    const s = ctx.sessions.get(report.client_id);
    if (!s?.stream) return;
    const warning = this.policy.report(s.id, report.metrics, ctx.config().adaptation);
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
  tick(): Decision {
    const { ctx } = this.deps;
    if (ctx.engine.active) {
      const st = this.deps.sendStats();
      this.policy.observeServer({
        captureToWireP99Ms: ctx.engine.captureToWire.percentile(99),
        packetsSent: st.packets,
        sendErrors: st.errors,
      }, ctx.config().adaptation);
    }
    return this.decide();
  }

  private decide(): Decision {
    const { ctx, log } = this.deps;
    const cfg = ctx.config();
    const streaming = new Set<string>();
    for (const s of ctx.sessions.list()) if (s.stream) streaming.add(s.id);
    const d = this.policy.evaluate({
      config: cfg.adaptation,
      currentRate: cfg.audio.sample_rate,
      nativeRate: cfg.audio.native_sample_rate,
      streaming,
      canProduce: () => ctx.engineFeatures.resample,
    });
    if (d.action === "none") return d;
    this.steps.push(d);
    log.info(d.action === "down" ? "lowering sample rate" : "raising sample rate", {
      from_hz: cfg.audio.sample_rate,
      to_hz: d.newRate,
      ...d.figures,
      reason: d.reason,
    });
    try {
      ctx.changeReason(d.reason);
      ctx.store.setSampleRate(d.newRate);
      // The window holds the old rate's samples; the new sessions start clean.
      ctx.engine.captureToWire.reset();
    } catch (e) {
      log.error("sample rate step failed", { to_hz: d.newRate, error: e as Error });
    }
    return d;
  }
}
