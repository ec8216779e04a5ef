/**
 * Which source to open, from `--source` and the stored `audio.test_mode`
 * (docs/protocol.md §1, §6):
 *   test_mode id|tone  → the test signal in that mode (replaces the console)
 *   --source test      → the test signal (`id` unless test_mode says `tone`)
 *   --source alsa      → the console only
 *   --source auto      → the console, else the test signal with a loud warning
 *   --source aes67     → an AES67 sender's streams (`Aes67Input.session`, §13)
 */
import type { Config } from "../config/types.ts";
import type { Clock } from "../util/clock.ts";
import type { SourceCandidate } from "./capture.ts";
import type { Source } from "./source.ts";
import { TestSignalSource } from "./test_signal.ts";
import { framesPerPacketTime } from "../rtp/packetizer.ts";
import { Aes67Source, type Aes67StreamSpec } from "../aes67/aes67_source.ts";
import type { Aes67InputSettings } from "../aes67/input.ts";

export type SourceMode = "auto" | "alsa" | "test" | "aes67";
export const SOURCE_MODES: readonly SourceMode[] = ["auto", "alsa", "test", "aes67"];

/**
 * The AES67 input as the source factory needs it: the settings, and the
 * resolution of `session` to streams (on the control plane, at every open:
 * SAP may have heard a new announcement).
 */
export interface Aes67Input extends Aes67InputSettings {
  resolve(session: string): Aes67StreamSpec[];
}

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
  | ({ kind: "alsa" } & AlsaOpenRequest)
  | {
    kind: "aes67";
    session: string;
    interfaceAddress: string;
    sampleRate: number;
    framesPerPeriod: number;
    /** Filled in when the source is created (Aes67Input.resolve); empty until then. */
    streams: Aes67StreamSpec[];
  };

/**
 * The source's period: one packet time, or 1 ms while the AES67 output is on,
 * so its packets leave spaced as the periods come (src/aes67/output.ts); the
 * audio plane's reblocker still hands the engine whole packet times.
 */
export function sourcePeriodMs(cfg: Config): number {
  return cfg.aes67?.output.enabled ? Math.min(1, cfg.audio.ptime_ms) : cfg.audio.ptime_ms;
}

/** The sources to try, in order (see the header). */
export function sourceSpecs(
  mode: SourceMode,
  cfg: Config,
  aes67?: Aes67InputSettings,
): SourceSpec[] {
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
    case "aes67":
      return [{
        kind: "aes67",
        session: aes67?.session ?? "",
        interfaceAddress: aes67?.interfaceAddress ?? "0.0.0.0",
        sampleRate: cfg.audio.native_sample_rate,
        framesPerPeriod: frames,
        streams: [],
      }];
  }
}

/**
 * The source this run opens now: the AES67 input when the admin turned it on
 * (`aes67.input.enabled`, docs/protocol.md §13), else what `--source` asked for.
 */
export function effectiveSourceMode(mode: SourceMode, cfg: Config): SourceMode {
  return cfg.aes67?.input.enabled ? "aes67" : mode;
}

/** An AES67 spec with its streams resolved now (throws when the session is not found). */
export function resolveAes67Spec(
  spec: Extract<SourceSpec, { kind: "aes67" }>,
  input: Aes67Input | undefined,
): Extract<SourceSpec, { kind: "aes67" }> {
  if (!input) throw new Error("--source aes67 needs an AES67 session (--aes67-session)");
  return { ...spec, streams: input.resolve(spec.session) };
}

/** The Source a spec describes. */
export function createSource(
  spec: SourceSpec,
  clock: Clock,
  createAlsa: (req: AlsaOpenRequest) => Source,
  log?: (level: "info" | "warn", msg: string, fields?: Record<string, unknown>) => void,
): Source {
  if (spec.kind === "alsa") {
    const { kind: _, ...req } = spec;
    return createAlsa(req);
  }
  if (spec.kind === "aes67") {
    return new Aes67Source({
      session: spec.session,
      streams: spec.streams,
      sampleRate: spec.sampleRate,
      framesPerPeriod: spec.framesPerPeriod,
      interfaceAddress: spec.interfaceAddress,
      clock,
      log,
    });
  }
  return new TestSignalSource({ ...spec, clock });
}

export function sourceCandidates(
  mode: SourceMode,
  cfg: Config,
  clock: Clock,
  createAlsa: (req: AlsaOpenRequest) => Source,
  aes67?: Aes67Input,
  log?: (level: "info" | "warn", msg: string, fields?: Record<string, unknown>) => void,
): SourceCandidate[] {
  return sourceSpecs(mode, cfg, aes67).map((spec) => ({
    kind: spec.kind,
    create: () =>
      createSource(
        spec.kind === "aes67" ? resolveAes67Spec(spec, aes67) : spec,
        clock,
        createAlsa,
        log,
      ),
  }));
}
