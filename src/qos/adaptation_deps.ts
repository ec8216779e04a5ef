/**
 * What the sample-rate adaptation (./adaptation_service.ts) needs of the
 * running server, and nothing more: defined here, in qos/, so qos/ depends on
 * no HTTP code. The server's context satisfies it structurally.
 */
import type { Config } from "../config/types.ts";
import type { Clock } from "../util/clock.ts";

/** A client session as the adaptation sees it. */
export interface AdaptationSession {
  readonly id: string;
  /** Non-null while the session streams. */
  readonly stream: unknown;
  /** Sends one JSON message (a `network_warning` event) to the client. */
  send(msg: unknown): void;
}

export interface AdaptationContext {
  clock: Clock;
  sessions: {
    get(id: string): AdaptationSession | undefined;
    list(): readonly AdaptationSession[];
  };
  /** The effective configuration. */
  config(): Config;
  /** The engine's own view: whether it streams, and its capture → wire latency window. */
  engine: {
    readonly active: boolean;
    captureToWire: { percentile(p: number): number; reset(): void };
  };
  /** Whether rates other than the native one can be produced. */
  engineFeatures: { readonly resample: boolean };
  /** Sets the `reason` the next config_changed event carries. */
  changeReason(reason: string): void;
  /** The requirements' global rate step (`UPDATE audio_config SET sample_rate = ?`). */
  store: { setSampleRate(rate: number): unknown };
}
