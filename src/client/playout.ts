/**
 * The playout stage's interface and its first implementation, runtime-neutral.
 *
 * Every accepted, decoded packet goes to a `PacketSink`. The jitter buffer and
 * mixer will be sinks; `ThresholdPlayout` applies the client's jitter
 * thresholds (requirements, 지터 임계값) by lateness alone:
 *
 *   transit_i  = arrival_ms − ts_i · 1000 / clock_rate     (ms, up to a constant)
 *   lateness_i = transit_i − min(transit)                  (0 for the fastest packet seen)
 *   lateness > drop         → dropped   (too late to be played at all)
 *   lateness > interpolate  → concealed (its slot was covered by interpolation)
 */

import type { JitterThresholds } from "./api.ts";

export interface DecodedPacket {
  /** Extended sequence number (wraps counted). */
  sequence: number;
  /** RTP timestamp of the first frame. */
  timestamp: number;
  clockRate: number;
  /** When the client processed the packet (after FORCE_DELAY_MS), epoch ms. */
  arrivalMs: number;
  channels: number;
  /** 0 when the payload is not decoded (Opus without a decoder). */
  frames: number;
  /** Interleaved integer samples, `frames × channels` valid. Only valid during `push`. */
  samples: Int32Array;
  /** The integer that maps to full scale (2^23 for L24, 2^15 for L16); default 2^23. */
  fullScale?: number;
}

export interface PacketSink {
  push(p: DecodedPacket): void;
  /** A new stream (new SSRC or rate) starts. Counters stay. */
  reset(): void;
  readonly concealedPackets: number;
  readonly droppedPackets: number;
  /**
   * When the frame at `timestamp` (this stream's timeline) is read, wall ms (NaN: not known
   * yet). The Opus assembler holds a reordered packet time until then, not longer.
   */
  readTimeOf?(timestamp: number): number;
  /** The timing of a packet dropped before it could be pushed (it still counts in the delay). */
  noteTiming?(timestamp: number, arrivalMs: number): void;
}

const TWO_32 = 0x1_0000_0000;

export class ThresholdPlayout implements PacketSink {
  concealedPackets = 0;
  droppedPackets = 0;
  playedPackets = 0;
  /** Largest lateness seen, ms. */
  maxLatenessMs = 0;
  private minTransit = Infinity;
  private baseTs = 0;
  private started = false;

  constructor(public thresholds: JitterThresholds) {}

  reset(): void {
    this.minTransit = Infinity;
    this.started = false;
  }

  /** Returns the packet's lateness in ms. */
  push(p: DecodedPacket): number {
    if (!this.started) {
      this.started = true;
      this.baseTs = p.timestamp;
    }
    // Timestamp distance from the first packet, unwrapped (a run shorter than 2^31 ticks).
    let ticks = p.timestamp - this.baseTs;
    ticks -= Math.round(ticks / TWO_32) * TWO_32;
    const transit = p.arrivalMs - (ticks * 1000) / p.clockRate;
    if (transit < this.minTransit) this.minTransit = transit;
    const lateness = transit - this.minTransit;
    if (lateness > this.maxLatenessMs) this.maxLatenessMs = lateness;
    if (lateness > this.thresholds.drop) this.droppedPackets++;
    else if (lateness > this.thresholds.interpolate) this.concealedPackets++;
    else this.playedPackets++;
    return lateness;
  }
}
