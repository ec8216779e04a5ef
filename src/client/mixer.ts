/**
 * The client's local stereo mix (requirements: 로컬 믹싱; contract §11
 * settings), runtime-neutral. Per channel, in this order:
 *
 *   EQ (low shelf 200 Hz → peak 1 kHz → high shelf 5 kHz, ./biquad.ts)
 *   → volume (linear 0–2) → channel limiter (if `limit` is on)
 *   → constant-power pan into L/R
 *
 * then master volume and the master limiter (ceiling −1 dBFS by default), so
 * the mix never exceeds its ceiling.
 *
 * Pan law, constant power (−3 dB at centre, L² + R² = 1 everywhere):
 *
 *   θ = (pan + 1) · π/4      pan −1 → θ = 0,  0 → π/4,  +1 → π/2
 *   L = cos θ,  R = sin θ    centre: L = R = 0.7071 (−3.01 dB)
 *
 * Mute and solo: any channel soloed → only soloed channels play; a muted
 * channel never plays (mute wins over solo). `hidden` does not affect audio.
 *
 * The musician's layout resolves into these per-channel settings first
 * (`mixChannels`, used by the page's worklet and the reference client alike):
 *
 *   group (VCA)   member volume × group volume; group mute mutes every member
 *   more me       every channel not marked `me` × 10^(−dB/20)
 *   stereo link   the pair's first channel's level, mute, solo, EQ and limiter
 *                 drive both; placement by width w and balance b instead of pan:
 *                   first  = panGains(−w) · balance,  second = panGains(+w) · balance
 *                   balance: L × min(1, 1 − b),  R × min(1, 1 + b)
 *                 w = 0: both centre (0.7071 each, the mono pan law);
 *                 w = 1: first hard left (1, 0), second hard right (0, 1).
 */

import {
  Biquad,
  EQ_HIGH_HZ,
  EQ_LOW_HZ,
  EQ_MID_HZ,
  highShelf,
  lowShelf,
  peaking,
} from "./biquad.ts";
import { DEFAULT_LIMIT_DB, Limiter } from "./limiter.ts";
import type {
  ChannelSettings,
  ClientSettings,
  LimitSettings,
  MasterStripSettings,
} from "./settings.ts";
import { groupOf, linkedFrom, moreMeGain } from "./settings.ts";

export interface MasterSettings {
  /** Linear gain 0–2. */
  volume: number;
  limit: LimitSettings | boolean;
}

export const DEFAULT_MASTER: Readonly<MasterSettings> = { volume: 1, limit: true };

/** Constant-power pan: [left gain, right gain] for pan in −1 … +1. */
export function panGains(pan: number): [number, number] {
  const p = Math.max(-1, Math.min(1, pan));
  const theta = ((p + 1) * Math.PI) / 4;
  const snap = (v: number) => (Math.abs(v) < 1e-12 ? 0 : v); // cos(π/2) is 6e-17, not 0
  return [snap(Math.cos(theta)), snap(Math.sin(theta))];
}

/** Where one side of a stereo-linked pair goes. */
export interface StereoPlacement {
  /** −1 = the pair's first channel (left), +1 = its second (right). */
  side: -1 | 1;
  width: number;
  balance: number;
}

/** A channel's settings as the mixer takes them: resolved (see `mixChannels`). */
export type MixerChannel = ChannelSettings & { stereo?: StereoPlacement };

const clamp = (v: number, lo: number, hi: number) => Math.max(lo, Math.min(hi, v));

/** Stereo balance: [left gain, right gain], unity at centre, one side down to 0 at ±1. */
export function balanceGains(balance: number): [number, number] {
  const b = clamp(balance, -1, 1);
  return [Math.min(1, 1 - b), Math.min(1, 1 + b)];
}

/** L/R gains of one side of a linked pair (width spreads the pair by the pan law). */
export function stereoGains(p: StereoPlacement): [number, number] {
  const [l, r] = panGains(p.side * clamp(p.width, 0, 1));
  const [bl, br] = balanceGains(p.balance);
  return [l * bl, r * br];
}

/** A strip's placement gains (before its volume): pan, or its place in a stereo pair. */
export function placementGains(s: Pick<MixerChannel, "pan" | "stereo">): [number, number] {
  return s.stereo ? stereoGains(s.stereo) : panGains(s.pan);
}

/**
 * The musician's settings → what each channel's mixer strip does (groups,
 * more me and stereo links resolved, as described above). The stored
 * settings are not changed.
 */
export function mixChannels(
  settings: Pick<ClientSettings, "channels" | "groups"> & {
    master: Pick<MasterStripSettings, "more_me_db">;
  },
): Map<number, MixerChannel> {
  const master = { volume: 1, limit: false, ...settings.master };
  const out = new Map<number, MixerChannel>();
  for (const c of settings.channels) {
    const leader = linkedFrom(settings.channels, c.id);
    const base = leader ?? c;
    const group = groupOf(settings as ClientSettings, base.id);
    const volume = base.volume * (group ? group.volume : 1) * moreMeGain(master, base);
    const link = leader?.link ?? c.link;
    out.set(c.id, {
      ...c,
      volume,
      mute: base.mute || (group?.mute ?? false),
      solo: base.solo,
      me: base.me,
      eq: { ...base.eq },
      limit: typeof base.limit === "boolean" ? base.limit : { ...base.limit },
      ...(link
        ? { stereo: { side: leader ? 1 : -1, width: link.width, balance: link.balance } }
        : {}),
    });
  }
  return out;
}

/** Which of `channels` are heard, by the mute and solo rules above. */
export function audible(channels: readonly Pick<ChannelSettings, "mute" | "solo">[]): boolean[] {
  const anySolo = channels.some((c) => c.solo && !c.mute);
  return channels.map((c) => !c.mute && (!anySolo || c.solo));
}

/** The limiter threshold (dBFS) a `limit` setting asks for, or null for none. */
export function limitThresholdDb(limit: LimitSettings | boolean | undefined): number | null {
  if (limit === true) return DEFAULT_LIMIT_DB;
  if (limit === false || limit === undefined) return null;
  return limit.enabled ? Math.min(0, limit.threshold_db) : null;
}

interface Strip {
  on: boolean;
  /** The strip's volume, and its L/R gains (volume × placement). */
  vol: number;
  gainL: number;
  gainR: number;
  eq: Biquad[];
  limiter: Limiter | null;
}

export class StereoMixer {
  private strips: Strip[] = [];
  private masterGain = 1;
  private masterLimiter: Limiter | null = null;
  private scratch = new Float32Array(0);

  constructor(readonly sampleRate: number) {}

  /**
   * Sets up the strips for the stream's channels (`ids`, payload order) from
   * the client's settings (a channel without settings plays at unity, centre).
   * Filter states restart.
   */
  configure(
    ids: readonly number[],
    settingsOf: (id: number) => MixerChannel | undefined,
    master: MasterSettings = DEFAULT_MASTER,
  ): void {
    const rate = this.sampleRate;
    const list = ids.map((id) => settingsOf(id));
    const on = audible(list.map((s) => s ?? { mute: false, solo: false }));
    this.strips = list.map((s, i) => {
      const [l, r] = s ? placementGains(s) : panGains(0);
      const vol = s?.volume ?? 1;
      const eq: Biquad[] = [];
      if (s && s.eq.low !== 0) eq.push(new Biquad(lowShelf(rate, EQ_LOW_HZ, s.eq.low)));
      if (s && s.eq.mid !== 0) eq.push(new Biquad(peaking(rate, EQ_MID_HZ, s.eq.mid)));
      if (s && s.eq.high !== 0 && EQ_HIGH_HZ < rate / 2) {
        eq.push(new Biquad(highShelf(rate, EQ_HIGH_HZ, s.eq.high)));
      }
      const th = limitThresholdDb(s?.limit);
      return {
        on: on[i] && vol > 0,
        vol,
        gainL: l * vol,
        gainR: r * vol,
        eq,
        limiter: th === null ? null : new Limiter(rate, th),
      };
    });
    this.masterGain = Math.max(0, Math.min(2, master.volume));
    const mth = limitThresholdDb(master.limit);
    this.masterLimiter = mth === null ? null : new Limiter(rate, mth);
  }

  get channels(): number {
    return this.strips.length;
  }

  /**
   * Mixes `frames` frames of `input` (interleaved, one channel per strip) into
   * `out` (interleaved stereo, 2·frames values).
   */
  process(input: Float32Array, frames: number, out: Float32Array): void {
    const n = this.strips.length;
    if (out.length < frames * 2) {
      throw new RangeError(`mix output needs ${frames * 2} values, got ${out.length}`);
    }
    if (input.length < frames * n) {
      throw new RangeError(`mix input needs ${frames * n} values, got ${input.length}`);
    }
    out.fill(0, 0, frames * 2);
    if (this.scratch.length < frames) this.scratch = new Float32Array(frames);
    const x = this.scratch;
    for (let c = 0; c < n; c++) {
      const s = this.strips[c];
      if (!s.on) continue;
      for (let f = 0; f < frames; f++) x[f] = input[f * n + c];
      for (const bq of s.eq) for (let f = 0; f < frames; f++) x[f] = bq.process(x[f]);
      if (s.limiter !== null) {
        const vol = s.vol;
        for (let f = 0; f < frames; f++) x[f] *= vol;
        s.limiter.process(x, frames, 1);
        const l = vol > 0 ? s.gainL / vol : 0, r = vol > 0 ? s.gainR / vol : 0;
        for (let f = 0; f < frames; f++) {
          out[2 * f] += x[f] * l;
          out[2 * f + 1] += x[f] * r;
        }
      } else {
        for (let f = 0; f < frames; f++) {
          out[2 * f] += x[f] * s.gainL;
          out[2 * f + 1] += x[f] * s.gainR;
        }
      }
    }
    if (this.masterGain !== 1) { for (let i = 0; i < frames * 2; i++) out[i] *= this.masterGain; }
    this.masterLimiter?.process(out, frames, 2);
  }
}
