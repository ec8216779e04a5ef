/**
 * The QoS bench's hand-set conditions (requirements, 시나리오 3: 네트워크
 * 지연/손실 시뮬레이션), per packet and independently:
 *
 *   loss     drop with probability lossPct / 100
 *   delay    hold delayMs + U(0, jitterMs) ms   (jitter alone already reorders
 *            packets spaced closer than jitterMs)
 *   reorder  with probability reorderPct / 100, hold reorderDelayMs longer, so
 *            the packet lands behind the ones after it
 *
 * For the spec's Wi-Fi profiles see ./wifi_impairment.ts.
 */

import { DROP, type ImpairmentModel } from "./impairment.ts";
import { seededUniform } from "./seeded_random.ts";

export interface Impairment {
  lossPct?: number;
  delayMs?: number;
  jitterMs?: number;
  reorderPct?: number;
  reorderDelayMs?: number;
  seed?: number;
}

export const DEFAULT_REORDER_DELAY_MS = 10;
export const DEFAULT_SEED = 0x5eed;

export class UniformImpairment implements ImpairmentModel {
  readonly lastInSpike = false;
  private readonly rnd: () => number;

  constructor(readonly cfg: Impairment) {
    for (const k of ["lossPct", "reorderPct"] as const) {
      const v = cfg[k] ?? 0;
      if (!(v >= 0 && v <= 100)) throw new RangeError(`${k} must be 0–100 %, got ${v}`);
    }
    for (const k of ["delayMs", "jitterMs", "reorderDelayMs"] as const) {
      const v = cfg[k] ?? 0;
      if (!(v >= 0)) throw new RangeError(`${k} must be >= 0 ms, got ${v}`);
    }
    this.rnd = seededUniform(cfg.seed ?? DEFAULT_SEED);
  }

  decide(_sendMs: number): number {
    const c = this.cfg;
    // Always draw the same number of values, so one setting does not shift another's sequence.
    const rLoss = this.rnd(), rJit = this.rnd(), rReo = this.rnd();
    if (rLoss * 100 < (c.lossPct ?? 0)) return DROP;
    let d = (c.delayMs ?? 0) + rJit * (c.jitterMs ?? 0);
    if (rReo * 100 < (c.reorderPct ?? 0)) d += c.reorderDelayMs ?? DEFAULT_REORDER_DELAY_MS;
    return d;
  }
}
