/**
 * The audio plane: source → reblocker → engine → UDP sender, and where it
 * runs (`audioPlane`, CLI `--audio-plane`):
 *
 *   main    on the main thread, beside HTTP, WebSockets, werift, SQLite and
 *           TLS (./main_plane.ts): anything that holds the thread delays periods;
 *   worker  in a worker of its own (./worker_plane.ts, ./audio_worker.ts): the
 *           control plane only configures it by messages, and a blocked main
 *           thread delays no period (bench/README.md, "idle vs busy").
 *
 * The rest of the server sees the same surface either way: the engine's
 * control (`EngineControl`), the UDP sender's port and counters, and the
 * capture controller's source candidates and sink.
 */
import type { Aes67SendPlan, Aes67SendStatus } from "../aes67/output.ts";
import type { AlsaOpener } from "../audio/alsa_opener.ts";
import type { SourceCandidate } from "../audio/capture.ts";
import type { Aes67Input, AlsaOpenRequest, SourceMode } from "../audio/source_factory.ts";
import type { PeriodSink, Source } from "../audio/source.ts";
import type { Config } from "../config/types.ts";
import type { SenderKind } from "../net/create_sender.ts";
import type { SenderStats } from "../net/sender.ts";
import type { EngineControl } from "../session/engine.ts";
import type { Clock } from "../util/clock.ts";
import type { Logger } from "../util/log.ts";
import { openMainPlane } from "./main_plane.ts";
import { WorkerAudioPlane } from "./worker_plane.ts";

export const AUDIO_PLANES = ["main", "worker"] as const;
export type AudioPlaneKind = typeof AUDIO_PLANES[number];

/** The UDP sender as the control plane sees it. */
export interface PlaneSender {
  readonly kind: string;
  readonly localPort: number;
  readonly stats: SenderStats;
  setDscp(dscp: number): void;
}

export interface AudioPlane {
  readonly kind: AudioPlaneKind;
  readonly engine: EngineControl;
  readonly sender: PlaneSender;
  /**
   * The capture controller's sink: the reblocker → engine on the main plane.
   * On the worker plane the audio goes to the engine inside the worker, and
   * the sink gets only an empty period (frames 0) every 100 ms while it flows.
   */
  readonly sink: PeriodSink;
  /**
   * The capture controller's candidates, called at every open: the plane
   * restarts its packet-time blocks at `cfg.audio.ptime_ms`. `createAlsa`
   * (tests) replaces the ALSA opener on the main plane only. `aes67`: the
   * AES67 input (`--source aes67`), resolved to streams here at every open.
   */
  candidates(
    mode: SourceMode,
    cfg: Config,
    alsa: AlsaOpener,
    createAlsa?: (req: AlsaOpenRequest) => Source,
    aes67?: Aes67Input,
  ): SourceCandidate[];
  /** The AES67 output's streams (null: off): fed from every source period (src/aes67/output.ts). */
  configureAes67(plan: Aes67SendPlan | null): void;
  /** The AES67 output's counters (refreshed about once a second). */
  readonly aes67Status: Aes67SendStatus;
  /** Stops every source, closes the UDP socket (and ends the worker). */
  close(): Promise<void>;
}

export interface AudioPlaneOptions {
  sender: SenderKind;
  hostname: string;
  port: number;
  cfg: Config;
  resample: boolean;
  opus: boolean;
  clock: Clock;
  log: Logger;
  /**
   * One client's stream failed in the engine (the session layer ends it); once
   * per client, from either plane (the worker's engine reports it by message).
   */
  onClientError?: (clientId: string, error: unknown) => void;
}

export async function openAudioPlane(
  kind: AudioPlaneKind,
  opts: AudioPlaneOptions,
): Promise<AudioPlane> {
  return kind === "worker" ? await WorkerAudioPlane.open(opts) : await openMainPlane(opts);
}
