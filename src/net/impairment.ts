/**
 * What an impairment relay asks its model, once per packet, in send order:
 * drop this packet, or hold it this many milliseconds. Implementations:
 * `WifiImpairment` (./wifi_impairment.ts, the spec's Wi-Fi profiles) and
 * `UniformImpairment` (./uniform_impairment.ts, the bench's hand-set loss /
 * delay / uniform jitter / reorder conditions). Both are pure and seeded.
 */

/** `decide`'s answer for a lost packet. */
export const DROP = -1;

export interface ImpairmentModel {
  /**
   * The delay in ms (≥ 0) of a packet that enters the link at `sendMs`, or
   * `DROP`. Called in non-decreasing `sendMs` order; the same seed and the same
   * times give the same answers.
   */
  decide(sendMs: number): number;
  /** Whether the packet of the last `decide` fell inside a delay spike. */
  readonly lastInSpike: boolean;
}
