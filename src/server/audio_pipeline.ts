/**
 * The audio path, assembled: the audio plane (RTP socket, reblocker, the
 * streaming engine with the resampler and Opus when their libraries load, on
 * this thread or in a worker: src/plane/), console detection, and the capture
 * controller that opens the source while any client streams. Data flows one
 * way: capture → reblocker → engine → sender.
 */
import { AlsaOpener } from "../audio/alsa_opener.ts";
import { CaptureController, type CaptureStatus } from "../audio/capture.ts";
import type { Source } from "../audio/source.ts";
import {
  type Aes67Input,
  type AlsaOpenRequest,
  effectiveSourceMode,
  type SourceMode,
} from "../audio/source_factory.ts";
import type { Config } from "../config/types.ts";
import type { SenderKind } from "../net/create_sender.ts";
import type { EngineControl } from "../session/engine.ts";
import {
  type AudioPlane,
  type AudioPlaneKind,
  openAudioPlane,
  type PlaneSender,
} from "../plane/audio_plane.ts";
import type { Clock } from "../util/clock.ts";
import { getLogger, type Logger } from "../util/log.ts";
import { libopus } from "../../ffi/libopus.ts";
import { libsamplerate } from "../../ffi/libsamplerate.ts";
import type { Closers } from "../util/closers.ts";

export interface AudioPipelineOptions {
  hostname: string;
  rtpPort: number;
  sender?: SenderKind;
  /**
   * Where capture → engine → UDP runs (default "worker"; "main" when a test
   * injects `createAlsa`, which only the main plane can run).
   */
  audioPlane?: AudioPlaneKind;
  source: SourceMode;
  clock: Clock;
  /** The effective configuration, read again at every source (re)start. */
  config(): Config;
  createAlsa?: (req: AlsaOpenRequest) => Source;
  /** The AES67 input (`--source aes67`): its session and how to resolve it. */
  aes67Input?: Aes67Input;
  /** The capture controller's status changed (e.g. the source failed). */
  onCaptureStatus(status: CaptureStatus): void;
  /** One client's stream failed in the engine (its session is ended; the others stream on). */
  onClientError(clientId: string, error: unknown): void;
  log: Logger;
}

export interface AudioPipeline {
  sender: PlaneSender;
  engine: EngineControl;
  capture: CaptureController;
  alsa: AlsaOpener;
  features: { opus: boolean; resample: boolean };
  /** The audio plane itself (the AES67 output's plan and counters: src/aes67/service.ts). */
  plane: AudioPlane;
  /** Opens the source while any client streams or the AES67 output is on, closes it otherwise. */
  syncCapture(): void;
}

/** Whether a native library loads; the reason is logged once when it does not. */
function probe(what: string, load: () => unknown, log: Logger): boolean {
  try {
    load();
    return true;
  } catch (e) {
    log.warn(`${what} unavailable`, { error: e as Error });
    return false;
  }
}

/** Opens the RTP socket and builds the audio path; registers its closers on `closers`. */
export async function assembleAudio(
  opts: AudioPipelineOptions,
  closers: Closers,
): Promise<AudioPipeline> {
  const { clock, log } = opts;
  const cfg = opts.config();
  const features = {
    resample: probe("resampling (libsamplerate)", libsamplerate, log),
    opus: probe("Opus (libopus)", libopus, log),
  };
  // Where capture → engine → UDP runs: this thread, or a worker of its own (src/plane/).
  const plane = await openAudioPlane(opts.audioPlane ?? (opts.createAlsa ? "main" : "worker"), {
    sender: opts.sender ?? "sendmmsg",
    hostname: opts.hostname,
    port: opts.rtpPort,
    cfg,
    resample: features.resample,
    opus: features.opus,
    clock,
    log,
    onClientError: opts.onClientError,
  });
  closers.add("audio plane", () => plane.close());
  const { engine, sender } = plane;
  log.info("rtp socket open", {
    port: sender.localPort,
    sender: sender.kind,
    dscp: cfg.network.dscp,
    audio_plane: plane.kind,
  });

  const alsa = new AlsaOpener(clock, getLogger("alsa"));
  const usesConsole = opts.source === "auto" || opts.source === "alsa";
  if (usesConsole && !opts.createAlsa && cfg.audio.test_mode === "off") {
    // Say at start what the installer will get, not only when the first phone connects.
    alsa.detect(cfg.alsa.device);
    if (alsa.found === false && opts.source === "auto") {
      log.warn("no console found: phones will get the TEST SIGNAL until one is plugged in", {
        reason: alsa.detection,
      });
    }
  }
  const capture = new CaptureController({
    candidates: () => {
      const cfg = opts.config();
      const mode = effectiveSourceMode(opts.source, cfg);
      return plane.candidates(mode, cfg, alsa, opts.createAlsa, opts.aes67Input);
    },
    sink: plane.sink,
    log: getLogger("capture"),
    clock,
    onStatus: opts.onCaptureStatus,
  });
  closers.add("capture", () => capture.stop());

  // start/stop never reject; the controller serialises them. The AES67 output captures like a client.
  const syncCapture = () =>
    void (engine.active || opts.config().aes67.output.enabled ? capture.start() : capture.stop());
  return { sender, engine, capture, alsa, features, plane, syncCapture };
}
