/**
 * Whether the network is the problem (issue #13 item 3: on a crowded Wi-Fi
 * the page says so, instead of just "No audio"). Fed the receive counters
 * every status tick; over the last WINDOW_MS it compares
 *
 *   loss      = 1 − received / expected   (what the network lost: UDP-like
 *               transports; a WebSocket never loses, it stalls)
 *   concealed = concealed / expected      (slots the jitter buffer had to
 *               fill: lost, or too late — a WebSocket's stalls show here)
 *
 * with limits a stage Wi-Fi stays under (the `stage-ap` profile: 0.2 % random
 * loss, a 5–10 packet burst a minute, two short spikes a minute ≈ 0.5 % lost
 * and < 1 % concealed over 20 s) and a crowded one does not (`crowded`:
 * ≈ 1.3 % lost). Unstable once over either limit (after MIN_SPAN_MS of
 * data); stable again when both are under half their limit over a whole
 * window (so the warning does not flicker with each burst).
 *
 * Slots concealed in a reading with no packet at all are not counted: a
 * complete stop (the box not sending, the session ending) is the liveness
 * logic's "No audio", not a measurement of the Wi-Fi.
 */

export const WINDOW_MS = 20_000;
export const MIN_SPAN_MS = 5_000;
export const LOSS_LIMIT = 0.008;
export const CONCEALED_LIMIT = 0.03;
/** Fewer packets than this in the window say nothing yet (a stream's first ones, a start-up). */
export const MIN_EXPECTED = 100;

export interface HealthSample {
  atMs: number;
  /** Cumulative: packets expected (sequence numbers), received, and slots concealed. */
  expected: number;
  received: number;
  concealed: number;
}

export type NetworkState = "ok" | "unstable";

export class NetworkHealth {
  state: NetworkState = "ok";
  /** Over the current window (NaN before MIN_SPAN_MS of data). */
  lossRate = NaN;
  concealedRate = NaN;
  /** Readings, `concealed` counting only slots concealed while packets arrived. */
  private readonly samples: HealthSample[] = [];
  /** The caller's last cumulative reading, and its concealed-while-flowing total. */
  private lastRaw: HealthSample | null = null;
  private flowingConcealed = 0;

  /** A new reading; returns the state after it. */
  note(s: HealthSample): NetworkState {
    const raw = this.lastRaw;
    // A new stream restarts the counters: start the window afresh.
    if (raw && (s.expected < raw.expected || s.received < raw.received)) {
      this.samples.length = 0;
      this.flowingConcealed = 0;
    } else if (raw && s.received > raw.received) {
      this.flowingConcealed += Math.max(0, s.concealed - raw.concealed);
    }
    if (!raw || s.expected < raw.expected || s.received < raw.received) {
      this.flowingConcealed = s.concealed;
    }
    this.lastRaw = { ...s };
    this.samples.push({ ...s, concealed: this.flowingConcealed });
    while (this.samples.length > 2 && s.atMs - this.samples[1].atMs >= WINDOW_MS) {
      this.samples.shift();
    }
    const first = this.samples[0];
    const span = s.atMs - first.atMs;
    const expected = s.expected - first.expected;
    if (span < MIN_SPAN_MS || expected < MIN_EXPECTED) {
      this.lossRate = this.concealedRate = NaN;
      return this.state;
    }
    this.lossRate = Math.max(0, 1 - (s.received - first.received) / expected);
    this.concealedRate = Math.max(0, (this.flowingConcealed - first.concealed) / expected);
    if (this.state === "ok") {
      if (this.lossRate >= LOSS_LIMIT || this.concealedRate >= CONCEALED_LIMIT) {
        this.state = "unstable";
      }
    } else if (
      span >= WINDOW_MS * 0.95 && this.lossRate < LOSS_LIMIT / 2 &&
      this.concealedRate < CONCEALED_LIMIT / 2
    ) this.state = "ok";
    return this.state;
  }

  reset(): void {
    this.samples.length = 0;
    this.lastRaw = null;
    this.flowingConcealed = 0;
    this.state = "ok";
    this.lossRate = this.concealedRate = NaN;
  }
}
