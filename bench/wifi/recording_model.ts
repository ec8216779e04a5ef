/** The bench's models: a profile's seeded model that also notes the send time of every drop. */
import { DROP, type ImpairmentModel } from "../../src/net/impairment.ts";
import { type SpikeRecord, WifiImpairment } from "../../src/net/wifi_impairment.ts";
import { WIFI_PROFILES, type WifiProfileName } from "../../src/net/wifi_profile.ts";

export class RecordingModel implements ImpairmentModel {
  readonly drops: number[] = [];
  constructor(readonly inner: WifiImpairment) {}
  decide(sendMs: number): number {
    const d = this.inner.decide(sendMs);
    if (d === DROP) this.drops.push(sendMs);
    return d;
  }
  get lastInSpike(): boolean {
    return this.inner.lastInSpike;
  }
  get spikes(): SpikeRecord[] {
    return this.inner.spikeLog;
  }
}

export interface ModelSpec {
  profile: WifiProfileName;
  seed: number;
  /** Overrides the profile's spike rate (tests, to see several spikes in a short run). */
  spikesPerMin?: number;
}

export function recordingModel(m: ModelSpec): RecordingModel {
  const p = structuredClone(WIFI_PROFILES[m.profile]);
  if (m.spikesPerMin !== undefined && p.spikes) p.spikes.per_min = m.spikesPerMin;
  return new RecordingModel(new WifiImpairment(p, m.seed));
}
