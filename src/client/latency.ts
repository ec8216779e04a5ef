/**
 * One-way latency from the RTP header extension's capture time (contract §5,
 * §8), runtime-neutral:
 *
 *   latency_ms = (receive_time_ms + offset_ms) − capture_time_ms
 *
 * The extension rides on the first packet and then only every few seconds, so
 * a packet without it gets its capture time from the last extension (the
 * anchor) and the RTP timestamp distance:
 *
 *   capture_i = capture_anchor + (int32)(ts_i − ts_anchor) · 1000 / clock_rate
 *
 * `receive_time_ms` is when the client processes the packet: with
 * FORCE_DELAY_MS that is after the forced delay, so the delay shows up here.
 */

export class LatencyMeter {
  /** Latency samples so far (one per packet after the first anchor). */
  count = 0;
  lastMs = NaN;
  minMs = Infinity;
  maxMs = -Infinity;
  private sumMs = 0;
  private intervalSumMs = 0;
  private intervalCount = 0;
  private hasAnchor = false;
  private anchorTs = 0;
  private anchorCaptureMs = 0;

  constructor(private clockRate: number) {
    if (!(clockRate > 0)) throw new RangeError(`RTP clock rate must be > 0 Hz, got ${clockRate}`);
  }

  /** Mean over every sample so far, NaN before any. */
  get meanMs(): number {
    return this.count === 0 ? NaN : this.sumMs / this.count;
  }

  /** A new stream: the anchor belongs to the old timestamp line. Totals stay. */
  restart(clockRate: number): void {
    if (!(clockRate > 0)) throw new RangeError(`RTP clock rate must be > 0 Hz, got ${clockRate}`);
    this.clockRate = clockRate;
    this.hasAnchor = false;
  }

  /**
   * Records one packet; `captureTimeMs` is the extension's value or −1 when the
   * packet has none. Returns the latency in ms, or NaN while no anchor exists.
   */
  measure(
    rtpTimestamp: number,
    captureTimeMs: number,
    receiveMs: number,
    offsetMs: number,
  ): number {
    if (captureTimeMs >= 0) {
      this.hasAnchor = true;
      this.anchorTs = rtpTimestamp >>> 0;
      this.anchorCaptureMs = captureTimeMs;
    } else if (!this.hasAnchor) {
      return NaN;
    }
    const capture = this.captureTimeOf(rtpTimestamp);
    const latency = receiveMs + offsetMs - capture;
    this.count++;
    this.sumMs += latency;
    this.intervalSumMs += latency;
    this.intervalCount++;
    this.lastMs = latency;
    if (latency < this.minMs) this.minMs = latency;
    if (latency > this.maxMs) this.maxMs = latency;
    return latency;
  }

  /**
   * Capture time (server clock, ms) of the sample with this RTP timestamp,
   * from the last anchor; NaN while no anchor exists. Records nothing.
   */
  captureTimeOf(rtpTimestamp: number): number {
    if (!this.hasAnchor) return NaN;
    const ticks = (rtpTimestamp - this.anchorTs) | 0; // signed 32-bit distance
    return this.anchorCaptureMs + (ticks * 1000) / this.clockRate;
  }

  /** Mean since the previous call (NaN if no samples), then starts a new interval. */
  takeInterval(): number {
    const mean = this.intervalCount === 0 ? NaN : this.intervalSumMs / this.intervalCount;
    this.intervalSumMs = 0;
    this.intervalCount = 0;
    return mean;
  }
}
