/**
 * What /health and the admin page call the capture source's state
 * (docs/protocol.md §3), from where the device is and when audio last
 * arrived. Pure: the controller passes its facts and the time.
 *   idle      no client streams, the device is closed
 *   starting  opening, or open for at most `RUNNING_WINDOW_MS` without audio yet
 *   running   a period arrived within the last `RUNNING_WINDOW_MS`
 *   error     the device is gone or failing and is being retried (a reopened
 *             device stays `error` until audio flows again), or it is open
 *             and has been silent for over `RUNNING_WINDOW_MS`
 */
import type { SourceKind } from "./source.ts";

export type SourceState = "idle" | "starting" | "running" | "error";

/** "running" means a period arrived within this long (docs/protocol.md §3). */
export const RUNNING_WINDOW_MS = 1000;

/** Where the device is. */
export type Phase = "closed" | "opening" | "open" | "closing";

export interface CaptureFacts {
  kind: SourceKind;
  phase: Phase;
  /** A client streams. */
  wanted: boolean;
  /** The last open failed or the source faulted, and no audio came since. */
  failing: boolean;
  /** Why it is failing. */
  error: string;
  /** The current open's periods reach the engine. */
  live: boolean;
  /** The current open delivered at least one period. */
  flowed: boolean;
  lastPeriodMs: number;
  /** When the current open began; once open without audio yet, when the open completed. */
  liveSinceMs: number;
}

export function sourceState(f: CaptureFacts, now: number): { state: SourceState; error: string } {
  if (f.live && f.flowed && now - f.lastPeriodMs <= RUNNING_WINDOW_MS) {
    return { state: "running", error: "" };
  }
  if (f.failing) return { state: "error", error: f.error };
  if (!f.wanted && f.phase === "closed") return { state: "idle", error: "" };
  if (f.phase === "open") {
    const silentMs = now - (f.flowed ? f.lastPeriodMs : f.liveSinceMs);
    if (f.flowed || silentMs > RUNNING_WINDOW_MS) {
      return {
        state: "error",
        error: `the ${f.kind} source delivered no audio for ${Math.round(silentMs)} ms`,
      };
    }
  }
  return { state: f.wanted || f.phase !== "closed" ? "starting" : "idle", error: "" };
}
