/**
 * The spec's Wi-Fi profiles (./wifi_profile.ts) as a per-packet model: pure,
 * seeded, time injected (the packet's send time is the argument).
 *
 *   time ──┬──────────────┬───────────────────────┬──────────▶
 *          spike (Poisson per_min): every packet in [start, start + span)
 *          gets extra_ms more (span, extra uniform in their ranges)
 *          burst (Poisson bursts_per_min): the next burst_packets packets
 *          are lost, one after another
 *   per packet: lost with probability `random`; else
 *          delay = base_ms + LogNormal jitter (cut at max_ms) + spike extra
 *
 * Delays are drawn independently, so a packet may overtake earlier ones.
 * Each part draws from its own stream of the seed (./seeded_random.ts), and
 * draws the same count per packet, so the jitter sequence does not depend on
 * the loss settings and the schedules do not depend on the packet rate.
 */

import { DROP, type ImpairmentModel } from "./impairment.ts";
import { SeededRandom, streamSeed } from "./seeded_random.ts";
import { fitJitter, type JitterFit, normalQuantile, type WifiProfile } from "./wifi_profile.ts";

const MS_PER_MIN = 60_000;
/** Keeps the quantile's argument inside (0, 1): u ∈ [0, 1) becomes u + 2⁻³³. */
const HALF_ULP_32 = 2 ** -33;

/** The seed's streams, one per part of the model. */
const STREAM = {
  jitter: 0,
  loss: 1,
  spikeTimes: 2,
  spikeShape: 3,
  burstTimes: 4,
  burstLength: 5,
} as const;

export interface WifiImpairmentCounters {
  packets: number;
  droppedRandom: number;
  droppedBurst: number;
  /** Packets (forwarded or lost) that entered during a spike. */
  inSpike: number;
  /** Spikes and bursts that began up to the last packet's time. */
  spikes: number;
  bursts: number;
}

/** One delay spike: packets entering in [startMs, endMs) get `extraMs` more (model clock). */
export interface SpikeRecord {
  startMs: number;
  endMs: number;
  extraMs: number;
}

/** Spikes kept in `spikeLog` (the oldest go first): hours of any profile's rate. */
export const SPIKE_LOG_MAX = 4096;

export class WifiImpairment implements ImpairmentModel {
  readonly fit: JitterFit;
  readonly counters: WifiImpairmentCounters = {
    packets: 0,
    droppedRandom: 0,
    droppedBurst: 0,
    inSpike: 0,
    spikes: 0,
    bursts: 0,
  };
  lastInSpike = false;
  /**
   * The spikes so far, in order (each logged when the first packet at or
   * after its start is decided): benches tell gaps inside spikes from the
   * others with it. At most SPIKE_LOG_MAX (one allocation per spike, a few a minute).
   */
  readonly spikeLog: SpikeRecord[] = [];
  /** The jitter part of the last forwarded packet's delay (ms). */
  lastJitterMs = 0;

  private readonly jitter: SeededRandom;
  private readonly loss: SeededRandom;
  private readonly spikeTimes: SeededRandom;
  private readonly spikeShape: SeededRandom;
  private readonly burstTimes: SeededRandom;
  private readonly burstLength: SeededRandom;
  private started = false;
  private nextSpikeMs = Infinity;
  private spikeEndMs = -Infinity;
  private spikeExtraMs = 0;
  private nextBurstMs = Infinity;
  private burstLeft = 0;

  constructor(readonly profile: WifiProfile, readonly seed: number) {
    this.fit = fitJitter(profile.jitter);
    const l = profile.loss;
    if (!(l.random >= 0 && l.random < 1)) {
      throw new RangeError(`loss.random must be in [0, 1), got ${l.random}`);
    }
    if (l.bursts_per_min > 0 && !l.burst_packets) {
      throw new RangeError(`loss.bursts_per_min ${l.bursts_per_min} needs burst_packets`);
    }
    this.jitter = new SeededRandom(streamSeed(seed, STREAM.jitter));
    this.loss = new SeededRandom(streamSeed(seed, STREAM.loss));
    this.spikeTimes = new SeededRandom(streamSeed(seed, STREAM.spikeTimes));
    this.spikeShape = new SeededRandom(streamSeed(seed, STREAM.spikeShape));
    this.burstTimes = new SeededRandom(streamSeed(seed, STREAM.burstTimes));
    this.burstLength = new SeededRandom(streamSeed(seed, STREAM.burstLength));
  }

  decide(sendMs: number): number {
    const p = this.profile, c = this.counters;
    if (!this.started) this.start(sendMs);
    c.packets++;

    const s = p.spikes;
    while (s !== null && sendMs >= this.nextSpikeMs) {
      const start = this.nextSpikeMs;
      this.spikeEndMs = start + this.spikeShape.between(s.span_ms[0], s.span_ms[1]);
      this.spikeExtraMs = this.spikeShape.between(s.extra_ms[0], s.extra_ms[1]);
      this.nextSpikeMs = start + this.spikeTimes.exponential(MS_PER_MIN / s.per_min);
      c.spikes++;
      this.spikeLog.push({ startMs: start, endMs: this.spikeEndMs, extraMs: this.spikeExtraMs });
      if (this.spikeLog.length > SPIKE_LOG_MAX) this.spikeLog.shift();
    }
    this.lastInSpike = sendMs < this.spikeEndMs;
    if (this.lastInSpike) c.inSpike++;

    const bp = p.loss.burst_packets;
    while (bp !== undefined && sendMs >= this.nextBurstMs) {
      this.burstLeft += this.burstLength.integer(bp[0], bp[1]);
      this.nextBurstMs += this.burstTimes.exponential(MS_PER_MIN / p.loss.bursts_per_min);
      c.bursts++;
    }

    // One draw from each per-packet stream, whatever the outcome.
    const u = this.jitter.uniform();
    const lost = this.loss.uniform() < p.loss.random;
    if (this.burstLeft > 0) {
      this.burstLeft--;
      c.droppedBurst++;
      return DROP;
    }
    if (lost) {
      c.droppedRandom++;
      return DROP;
    }
    const f = this.fit;
    this.lastJitterMs = Math.exp(f.mu + f.sigma * normalQuantile((u + HALF_ULP_32) * f.cdfAtMax));
    return p.base_ms + this.lastJitterMs + (this.lastInSpike ? this.spikeExtraMs : 0);
  }

  private start(t0: number): void {
    this.started = true;
    const p = this.profile;
    if (p.spikes !== null && p.spikes.per_min > 0) {
      this.nextSpikeMs = t0 + this.spikeTimes.exponential(MS_PER_MIN / p.spikes.per_min);
    }
    if (p.loss.bursts_per_min > 0) {
      this.nextBurstMs = t0 + this.burstTimes.exponential(MS_PER_MIN / p.loss.bursts_per_min);
    }
  }
}
