/**
 * The audio path, assembled: the RTP socket, the streaming engine (with the
 * resampler and Opus when their libraries load), console detection, the
 * reblocker (native periods → packet times) and the capture controller that
 * opens the source while any client streams. Data flows one way:
 * capture → reblocker → engine → sender.
 */
import { AlsaOpener } from "../audio/alsa_opener.ts";
import { CaptureController, type CaptureStatus } from "../audio/capture.ts";
import { ResamplingConverter } from "../audio/rate_converter.ts";
import { Reblocker } from "../audio/reblocker.ts";
import type { Source } from "../audio/source.ts";
import {
  type AlsaOpenRequest,
  sourceCandidates,
  type SourceMode,
} from "../audio/source_factory.ts";
import type { Config } from "../config/types.ts";
import { createSender, type SenderKind } from "../net/create_sender.ts";
import type { PacketSender } from "../net/sender.ts";
import { StreamingEngine } from "../session/engine.ts";
import { OpusLayouts } from "../session/opus_layout.ts";
import type { Clock } from "../util/clock.ts";
import { getLogger, type Logger } from "../util/log.ts";
import { libopus } from "../../ffi/libopus.ts";
import { libsamplerate } from "../../ffi/libsamplerate.ts";
import type { Closers } from "./closers.ts";

/** The resampler's largest input: a native period of 20 ms at 48 kHz, with room for big ALSA periods. */
const MAX_NATIVE_PERIOD_FRAMES = 4096;

export interface AudioPipelineOptions {
  hostname: string;
  rtpPort: number;
  sender?: SenderKind;
  source: SourceMode;
  clock: Clock;
  /** The effective configuration, read again at every source (re)start. */
  config(): Config;
  createAlsa?: (req: AlsaOpenRequest) => Source;
  /** The capture controller's status changed (e.g. the source failed). */
  onCaptureStatus(status: CaptureStatus): void;
  /** One client's stream failed in the engine (its session is ended; the others stream on). */
  onClientError(clientId: string, error: unknown): void;
  log: Logger;
}

export interface AudioPipeline {
  sender: PacketSender;
  engine: StreamingEngine;
  capture: CaptureController;
  alsa: AlsaOpener;
  features: { opus: boolean; resample: boolean };
  /** Opens the source while any client streams, closes it when none does. */
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
  const sender = await createSender(opts.sender ?? "sendmmsg", {
    hostname: opts.hostname,
    port: opts.rtpPort,
    maxDatagramBytes: cfg.audio.max_datagram_bytes,
    dscp: cfg.network.dscp,
  }, (reason) => log.warn("udp sender fallback", { reason }));
  closers.add("rtp socket", () => sender.close());
  log.info("rtp socket open", {
    port: sender.localPort,
    sender: sender.kind,
    dscp: cfg.network.dscp,
  });

  const features = {
    resample: probe("resampling (libsamplerate)", libsamplerate, log),
    opus: probe("Opus (libopus)", libopus, log),
  };
  const opusLayouts = new OpusLayouts();
  const engine = new StreamingEngine({
    sender,
    clock,
    extIntervalMs: cfg.network.ext_interval_ms,
    maxDatagramBytes: cfg.audio.max_datagram_bytes,
    rateConverter: features.resample
      ? (from, to) => new ResamplingConverter(from, to, MAX_NATIVE_PERIOD_FRAMES)
      : undefined,
    opusLayout: features.opus ? opusLayouts.create.bind(opusLayouts) : undefined,
    log: getLogger("engine"),
    onClientError: opts.onClientError,
  });

  const alsa = new AlsaOpener(clock, getLogger("alsa"));
  if (opts.source !== "test" && !opts.createAlsa && cfg.audio.test_mode === "off") {
    // Say at start what the installer will get, not only when the first phone connects.
    alsa.detect(cfg.alsa.device);
    if (alsa.found === false && opts.source === "auto") {
      log.warn("no console found: phones will get the TEST SIGNAL until one is plugged in", {
        reason: alsa.detection,
      });
    }
  }
  const createAlsa = opts.createAlsa ?? alsa.create;
  let ptimeMs = cfg.audio.ptime_ms;
  const reblocker = Reblocker.packetTimes(() => ptimeMs, engine.onPeriod);
  const capture = new CaptureController({
    candidates: () => {
      reblocker.reset();
      const now = opts.config();
      ptimeMs = now.audio.ptime_ms;
      return sourceCandidates(opts.source, now, clock, createAlsa);
    },
    sink: reblocker.push,
    log: getLogger("capture"),
    clock,
    onStatus: opts.onCaptureStatus,
  });
  closers.add("capture", () => capture.stop());

  // start/stop never reject; the controller serialises them.
  const syncCapture = () => void (engine.active ? capture.start() : capture.stop());
  return { sender, engine, capture, alsa, features, syncCapture };
}
