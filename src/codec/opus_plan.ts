/**
 * Which Opus stream a client gets for the sample rate it asks for
 * (docs/protocol.md §5). Opus encodes only at 8/12/16/24/48 kHz, and its
 * decoder can output any of those rates whatever the encoder's input rate, so:
 *
 * - The encoders are always fed 48 kHz (`encodeRate`): with a 48 kHz console
 *   that is the captured signal itself (no resampler, no added latency); with a
 *   44.1 kHz console one shared 44100 → 48000 resampler feeds every Opus tier.
 * - What a client asked for decides the audio bandwidth (OPUS_SET_MAX_BANDWIDTH),
 *   the bitrate per channel and the rate the client decodes at (`sampleRate`,
 *   reported in `client_config_ack`):
 *
 *   | asked  | ack sample_rate | max bandwidth       | bitrate / channel |
 *   |--------|-----------------|---------------------|-------------------|
 *   | 48000  | 48000           | fullband (20 kHz)   | 64 kbit/s         |
 *   | 44100  | 48000           | fullband (20 kHz)   | 56 kbit/s         |
 *   | 32000  | 24000           | super-wideband 12 k | 48 kbit/s         |
 *   | 24000  | 24000           | super-wideband 12 k | 40 kbit/s         |
 *
 *   44.1 kHz audio reaches 22.05 kHz, above Opus's 20 kHz fullband, so it keeps
 *   full band; 32 kHz audio reaches 16 kHz, which Opus cannot represent short of
 *   fullband, so it gets the next band down (12 kHz, what a 24 kHz stream holds).
 *   Each step down the ladder (which the server takes when latency is high) also
 *   lowers the bitrate by 8 kbit/s per channel.
 */

import { OPUS_BANDWIDTH_FULLBAND, OPUS_BANDWIDTH_SUPERWIDEBAND } from "../../ffi/libopus.ts";

export const OPUS_ENCODE_RATE = 48000;

export interface OpusPlan {
  /** Rate the encoders are fed (always 48000). */
  encodeRate: number;
  /** Rate the client decodes at and the ack reports: 48000 or 24000. */
  sampleRate: number;
  /** Per channel (mono stream), bits per second. */
  bitrate: number;
  /** OPUS_BANDWIDTH_FULLBAND or OPUS_BANDWIDTH_SUPERWIDEBAND. */
  maxBandwidth: number;
  /** Native rate to resample from before encoding, or null when it already is 48000. */
  resampleFrom: number | null;
  /** One sentence for logs and the admin page. */
  reason: string;
}

interface Tier {
  sampleRate: number;
  bitrate: number;
  maxBandwidth: number;
  band: string;
}

const TIERS: Record<number, Tier> = {
  48000: {
    sampleRate: 48000,
    bitrate: 64000,
    maxBandwidth: OPUS_BANDWIDTH_FULLBAND,
    band: "fullband 20 kHz",
  },
  44100: {
    sampleRate: 48000,
    bitrate: 56000,
    maxBandwidth: OPUS_BANDWIDTH_FULLBAND,
    band: "fullband 20 kHz",
  },
  32000: {
    sampleRate: 24000,
    bitrate: 48000,
    maxBandwidth: OPUS_BANDWIDTH_SUPERWIDEBAND,
    band: "super-wideband 12 kHz",
  },
  24000: {
    sampleRate: 24000,
    bitrate: 40000,
    maxBandwidth: OPUS_BANDWIDTH_SUPERWIDEBAND,
    band: "super-wideband 12 kHz",
  },
};

/**
 * The Opus plan for a client asking `requestedRate` (48000/44100/32000/24000) from a
 * server capturing at `nativeRate` (48000/44100). A request above the native rate is
 * treated as the native rate (the server never sends more than it has, §4).
 */
export function opusPlanFor(requestedRate: number, nativeRate: number): OpusPlan {
  if (nativeRate !== 48000 && nativeRate !== 44100) {
    throw new RangeError(`native sample rate must be 48000 or 44100, got ${nativeRate}`);
  }
  if (!(requestedRate in TIERS)) {
    throw new RangeError(
      `requested sample rate must be 48000, 44100, 32000 or 24000, got ${requestedRate}`,
    );
  }
  const asked = Math.min(requestedRate, nativeRate);
  const tier = TIERS[asked];
  const resampleFrom = nativeRate === OPUS_ENCODE_RATE ? null : nativeRate;
  const capped = asked !== requestedRate
    ? ` (asked ${requestedRate}, capped at the native ${nativeRate})`
    : "";
  return {
    encodeRate: OPUS_ENCODE_RATE,
    sampleRate: tier.sampleRate,
    bitrate: tier.bitrate,
    maxBandwidth: tier.maxBandwidth,
    resampleFrom,
    reason:
      `${asked} Hz${capped} → Opus ${tier.band} at ${tier.bitrate / 1000} kbit/s per channel, ` +
      `decoded at ${tier.sampleRate} Hz${
        resampleFrom ? `, encoded from ${resampleFrom} Hz resampled to 48000` : ""
      }`,
  };
}

/** Opus frame duration for a packet time: the shortest Opus frame ≥ ptime (1 ms → 2.5 ms). */
export function opusFrameMsFor(ptimeMs: number): number {
  for (const ms of [2.5, 5, 10, 20]) if (ms >= ptimeMs) return ms;
  return 20;
}
