/**
 * Which steps the adaptation policy (./adaptation.ts) takes now, given each
 * considered client's holds: pure, one call per evaluation. One global step
 * (ends every session) or any number of per-client steps (each ends one
 * session), never both at once: a client stepped now is out of the next
 * evaluation's count, which then decides on the rest.
 */

import type { AdaptationConfig } from "../config/types.ts";
import { type ClientQuality, ms, pct } from "./client_quality.ts";

/** A streaming session as the policy needs it. */
export interface StreamingClient {
  address: string;
  /** When its stream started (server clock, ms). */
  since: number;
  /** The rate it receives now. */
  rate: number;
}

export interface DecisionFigures {
  latency_ms: number | null;
  loss_rate: number | null;
  /** Considered clients. */
  clients: number;
  /** Of those, suffering (down) or fine (up). */
  agreeing: number;
  server_p99_ms: number | null;
  held_s: number;
}

export interface Step {
  scope: "global" | "client";
  action: "down" | "up";
  fromRate: number;
  newRate: number;
  reason: string;
  figures: DecisionFigures;
  /** Client steps: whose session ends, and its address's ceiling afterwards (null: none). */
  clientId?: string;
  address?: string;
  ceiling?: number | null;
}

export interface Candidate {
  id: string;
  quality: ClientQuality;
  session: StreamingClient;
}

export interface PlanInput {
  now: number;
  config: AdaptationConfig;
  lossThreshold: number;
  /** The stored (global) rate. */
  currentRate: number;
  /** Producible rates, highest first. */
  ladder: readonly number[];
  /** Streaming clients past their start-up grace with a fresh report. */
  considered: Candidate[];
  ceiling(address: string): number | undefined;
  mayStepGlobally: boolean;
  mayStep(address: string): boolean;
  serverP99Ms: number;
  mayStepUp: boolean;
}

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

const round1 = (v: number) => Math.round(v * 10) / 10;

export function planSteps(p: PlanInput): { steps: Step[]; status: string } {
  const { now, config: cfg, considered, currentRate } = p;
  const n = considered.length;
  if (n === 0) return { steps: [], status: "no fresh client reports" };
  const suffering = considered.filter((c) => c.quality.bad.held(cfg.hold_s, now));
  const fine = p.mayStepUp
    ? considered.filter((c) => c.quality.good.held(cfg.recover_hold_s, now))
    : [];
  const lower = (rate: number) => p.ladder.find((r) => r < rate);
  const higher = (rate: number) => [...p.ladder].reverse().find((r) => r > rate);
  const figures = (group: Candidate[], hold: "bad" | "good"): DecisionFigures => ({
    latency_ms: round1(median(group.map((c) => c.quality.latencyMs))),
    loss_rate: Math.round(median(group.map((c) => c.quality.loss)) * 10000) / 10000,
    clients: n,
    agreeing: group.length,
    server_p99_ms: Number.isNaN(p.serverP99Ms) ? null : round1(p.serverP99Ms),
    held_s: Math.min(...group.map((c) => c.quality[hold].heldS(now))),
  });
  const share = (k: number) => `${k} of ${n} client(s)`;
  const byLatency = (group: Candidate[]) =>
    group.filter((c) => c.quality.latencyOver).length * 2 >= group.length;

  // Most clients suffer: everyone steps down.
  if (suffering.length * 2 > n) {
    const to = lower(currentRate);
    if (to === undefined) {
      return { steps: [], status: `already at the lowest rate ${currentRate} Hz` };
    }
    if (!p.mayStepGlobally) {
      return { steps: [], status: "most clients suffer; waiting for the minimum step spacing" };
    }
    const f = figures(suffering, "bad");
    const what = byLatency(suffering)
      ? `latency too high, lowering sample rate: median client latency ${ms(f.latency_ms!)} ` +
        `over the ${ms(cfg.latency_ms)} threshold`
      : `packet loss too high, lowering sample rate: median client loss ${pct(f.loss_rate!)} ` +
        `over the ${pct(p.lossThreshold)} threshold`;
    return {
      steps: [{
        scope: "global",
        action: "down",
        fromRate: currentRate,
        newRate: to,
        reason: `${what} for ${f.held_s} s (${share(suffering.length)}); ${currentRate} → ${to} Hz`,
        figures: f,
      }],
      status: "stepping everyone down",
    };
  }

  // A few clients suffer, or a lowered one is fine again: those alone step.
  const steps: Step[] = [];
  const stepped = new Set<string>();
  const waiting: string[] = [];
  for (const c of suffering) {
    const { address, rate } = c.session;
    const to = lower(rate);
    if (to === undefined || stepped.has(address)) continue;
    if (!p.mayStep(address)) {
      waiting.push(c.id);
      continue;
    }
    stepped.add(address);
    const f = figures([c], "bad");
    const what = c.quality.latencyOver
      ? `latency too high, lowering this client's sample rate: its latency ` +
        `${ms(c.quality.latencyMs)} over the ${ms(cfg.latency_ms)} threshold`
      : `packet loss too high, lowering this client's sample rate: its loss ` +
        `${pct(c.quality.loss)} over the ${pct(p.lossThreshold)} threshold`;
    steps.push({
      scope: "client",
      action: "down",
      fromRate: rate,
      newRate: to,
      reason: `${what} for ${f.held_s} s (${
        share(suffering.length)
      } suffering); ${rate} → ${to} Hz`,
      figures: { ...f, agreeing: suffering.length },
      clientId: c.id,
      address,
      ceiling: to,
    });
  }
  for (const c of fine) {
    const { address, rate } = c.session;
    const ceiling = p.ceiling(address);
    if (ceiling === undefined || rate < ceiling || stepped.has(address)) continue;
    const up = higher(ceiling);
    if (up === undefined) continue;
    if (!p.mayStep(address)) {
      waiting.push(c.id);
      continue;
    }
    stepped.add(address);
    const to = Math.min(up, currentRate);
    const f = figures([c], "good");
    steps.push({
      scope: "client",
      action: "up",
      fromRate: rate,
      newRate: to,
      reason: `network quality good, raising this client's sample rate: its latency ` +
        `${ms(c.quality.latencyMs)}, loss ${pct(c.quality.loss)} for ${f.held_s} s; ` +
        `${rate} → ${to} Hz`,
      figures: f,
      clientId: c.id,
      address,
      ceiling: to >= currentRate ? null : to,
    });
  }
  if (steps.length > 0) return { steps, status: `stepping ${steps.length} client(s)` };

  // Most clients are fine: everyone steps up.
  const up = higher(currentRate);
  if (fine.length * 2 > n && up !== undefined) {
    if (!p.mayStepGlobally) {
      return { steps: [], status: "most clients are fine; waiting for the minimum step spacing" };
    }
    const f = figures(fine, "good");
    return {
      steps: [{
        scope: "global",
        action: "up",
        fromRate: currentRate,
        newRate: up,
        reason: `network quality good, raising sample rate: median client latency ` +
          `${ms(f.latency_ms!)}, loss ${pct(f.loss_rate!)} for ${f.held_s} s ` +
          `(${share(fine.length)}); ${currentRate} → ${up} Hz`,
        figures: f,
      }],
      status: "stepping everyone up",
    };
  }
  if (waiting.length > 0) {
    return { steps: [], status: `${waiting.length} client(s) wait for the minimum step spacing` };
  }
  if (suffering.length > 0) {
    return { steps: [], status: `${suffering.length} client(s) suffer at the lowest rate` };
  }
  return { steps: [], status: "holding" };
}
