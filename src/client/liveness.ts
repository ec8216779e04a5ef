/**
 * Is audio really arriving? A session's acknowledgement says what the server
 * will send, not that it does: a stream may never start (the server restarted
 * mid-setup, the console delivers nothing) or stop mid-set (Wi-Fi gone, the
 * console unplugged). "Live" means packets are arriving now.
 *
 *   acknowledged ──first packet──▶ live ──no packet for stallMs──▶ stalled
 *        │                          ▲                                │
 *        │ no packet for            └────────────packet──────────────┘
 *        │ firstAudioTimeoutMs                                       │ still none after
 *        ▼                                                           ▼ stallRetryMs more
 *      retry ◀───────────────────────────────────────────────────────┘
 *
 * `retry` asks the connection to start a new session (the server may have
 * lost this one). Pure: time is passed in.
 */

export type AudioLivenessState = "waiting" | "live" | "stalled" | "retry";

export interface AudioLivenessOptions {
  /** After the acknowledgement, how long to wait for the first packet before retrying (ms). */
  firstAudioTimeoutMs: number;
  /** No packet for this long while live: stalled (ms). */
  stallMs: number;
  /** Stalled for this much longer: retry (ms). */
  stallRetryMs: number;
}

/**
 * A slow device open on the box takes up to 3 s before its first period, so
 * the first packet may take that long; mid-stream, 1 s without a packet
 * (200 packet times) is no Wi-Fi hiccup the jitter buffer could hide.
 */
export const DEFAULT_LIVENESS: AudioLivenessOptions = {
  firstAudioTimeoutMs: 5000,
  stallMs: 1000,
  stallRetryMs: 3000,
};

export class AudioLiveness {
  private state: AudioLivenessState = "waiting";
  private sinceMs = NaN;
  private lastPacketMs = NaN;
  private active = false;

  constructor(private readonly o: AudioLivenessOptions = DEFAULT_LIVENESS) {}

  /** A session was acknowledged: wait for its audio. */
  start(nowMs: number): void {
    this.active = true;
    this.state = "waiting";
    this.sinceMs = nowMs;
    this.lastPacketMs = NaN;
  }

  /** The session ended (no judgement until the next start). */
  stop(): void {
    this.active = false;
  }

  /** A packet arrived; true when it made the session live (first packet, or after a stall). */
  packet(nowMs: number): boolean {
    this.lastPacketMs = nowMs;
    if (!this.active || this.state === "live") return false;
    this.state = "live";
    this.sinceMs = nowMs;
    return true;
  }

  /** The state now (call periodically); "retry" once, then waits for the next start. */
  check(nowMs: number): AudioLivenessState {
    if (!this.active) return this.state;
    if (this.state === "waiting" && nowMs - this.sinceMs >= this.o.firstAudioTimeoutMs) {
      this.state = "retry";
    } else if (this.state === "live" && nowMs - this.lastPacketMs >= this.o.stallMs) {
      this.state = "stalled";
      this.sinceMs = this.lastPacketMs + this.o.stallMs;
    }
    if (this.state === "stalled" && nowMs - this.sinceMs >= this.o.stallRetryMs) {
      this.state = "retry";
    }
    if (this.state === "retry") this.active = false;
    return this.state;
  }

  get current(): AudioLivenessState {
    return this.state;
  }
}
