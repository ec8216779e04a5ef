/**
 * Which source to open, from `--source` and the stored `audio.test_mode`
 * (docs/protocol.md §1, §6):
 *   test_mode id|tone  → the test signal in that mode (replaces the console)
 *   --source test      → the test signal (`id` unless test_mode says `tone`)
 *   --source alsa      → the console only
 *   --source auto      → the console, else the test signal with a loud warning
 */
import type { Config } from "../config/types.ts";
import type { Clock } from "../util/clock.ts";
import type { SourceCandidate } from "./capture.ts";
import type { Source } from "./source.ts";
import { TestSignalSource } from "./test_signal.ts";
import { framesPerPacketTime } from "../rtp/packetizer.ts";

export type SourceMode = "auto" | "alsa" | "test";
export const SOURCE_MODES: readonly SourceMode[] = ["auto", "alsa", "test"];

export interface AlsaOpenRequest {
  /** ALSA PCM name, or "" to find the console. */
  device: string;
  sampleRate: number;
  framesPerPeriod: number;
}

/**
 * What to open, as plain data (it crosses to the audio plane's worker,
 * src/plane/): the test signal's parameters or the ALSA request.
 */
export type SourceSpec =
  | {
    kind: "test";
    mode: "id" | "tone";
    sampleRate: number;
    framesPerPeriod: number;
    bits: 16 | 24;
  }
  | ({ kind: "alsa" } & AlsaOpenRequest);

/**
 * The source's period: one packet time, or 1 ms while the AES67 output is on,
 * so its packets leave spaced as the periods come (src/aes67/output.ts); the
 * audio plane's reblocker still hands the engine whole packet times.
 */
export function sourcePeriodMs(cfg: Config): number {
  return cfg.aes67?.output.enabled ? Math.min(1, cfg.audio.ptime_ms) : cfg.audio.ptime_ms;
}

/** The sources to try, in order (see the header). */
export function sourceSpecs(mode: SourceMode, cfg: Config): SourceSpec[] {
  const frames = framesPerPacketTime(cfg.audio.native_sample_rate, sourcePeriodMs(cfg));
  const test = (testMode: "id" | "tone"): SourceSpec => ({
    kind: "test",
    mode: testMode,
    sampleRate: cfg.audio.native_sample_rate,
    framesPerPeriod: frames,
    bits: cfg.audio.encoding === "L16" ? 16 : 24,
  });
  const alsa: SourceSpec = {
    kind: "alsa",
    device: cfg.alsa.device,
    sampleRate: cfg.audio.native_sample_rate,
    framesPerPeriod: frames,
  };
  if (cfg.audio.test_mode !== "off") return [test(cfg.audio.test_mode)];
  switch (mode) {
    case "test":
      return [test("id")];
    case "alsa":
      return [alsa];
    case "auto":
      return [alsa, test("id")];
  }
}

/** The Source a spec describes. */
export function createSource(
  spec: SourceSpec,
  clock: Clock,
  createAlsa: (req: AlsaOpenRequest) => Source,
): Source {
  if (spec.kind === "alsa") {
    const { kind: _, ...req } = spec;
    return createAlsa(req);
  }
  return new TestSignalSource({ ...spec, clock });
}

export function sourceCandidates(
  mode: SourceMode,
  cfg: Config,
  clock: Clock,
  createAlsa: (req: AlsaOpenRequest) => Source,
): SourceCandidate[] {
  return sourceSpecs(mode, cfg).map((spec) => ({
    kind: spec.kind,
    create: () => createSource(spec, clock, createAlsa),
  }));
}
