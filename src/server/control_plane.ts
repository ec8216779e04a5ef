/**
 * The control plane, assembled: the client sessions and their heartbeat
 * sweep, what a configuration change ends (./config_change.ts), the
 * sample-rate adaptation, process metrics and the periodic stats lines
 * (./stats_reporter.ts). Each part that starts a timer or a subscription
 * registers its closer.
 */
import type { CaptureStatus } from "../audio/capture.ts";
import type { ConfigStore } from "../config/store.ts";
import type { ChannelConfig, Config } from "../config/types.ts";
import { localAddressFor } from "../net/local_address.ts";
import { AdaptationService } from "../qos/adaptation_service.ts";
import type { AdaptationTiming } from "../qos/adaptation.ts";
import { ProcessMetrics } from "../qos/process_metrics.ts";
import { SessionManager } from "../session/sessions.ts";
import { shownChannels } from "../session/shown_channels.ts";
import { type Clock, cryptoRandom, type Random } from "../util/clock.ts";
import { getLogger, type Logger } from "../util/log.ts";
import type { AudioPipeline } from "./audio_pipeline.ts";
import type { Closers } from "../util/closers.ts";
import { ConfigChangePolicy } from "./config_change.ts";
import { StatsReporter } from "./stats_reporter.ts";

/** How often sessions silent past the heartbeat timeout are ended. */
export const SWEEP_INTERVAL_MS = 1000;
export const DEFAULT_STATS_INTERVAL_S = 10;

export interface ControlPlaneOptions {
  clock: Clock;
  /** SSRCs, sequence numbers, client ids (default crypto). */
  random?: Random;
  /** The bind address; "0.0.0.0" means the SDP names the address facing each client. */
  hostname: string;
  store: ConfigStore;
  /** The effective configuration (stored values with this run's overrides). */
  config(): Config;
  channels(): ChannelConfig[];
  /** Seconds between `RTP stats` lines (default 10). */
  statsIntervalS?: number;
  /** Adaptation start-up grace and step spacing (tests shorten them). */
  adaptationTiming?: Partial<AdaptationTiming>;
  log: Logger;
}

export interface ControlPlane {
  sessions: SessionManager;
  metrics: ProcessMetrics;
  adaptation: AdaptationService;
  /** Names the reason the next config_changed event carries. */
  changeReason(reason: string): void;
}

/** Streaming clients hear that the source failed (the server keeps retrying it). */
export function warnSourceError(sessions: SessionManager, st: CaptureStatus): void {
  if (st.state !== "error") return;
  sessions.broadcast({
    type: "network_warning",
    reason: `audio source error: ${st.error}`,
    source: st.source,
    source_state: st.state,
  }, (s) => s.stream !== null);
}

export function assembleControl(
  opts: ControlPlaneOptions,
  audio: AudioPipeline,
  closers: Closers,
): ControlPlane {
  const { clock, config, channels, store, hostname, log } = opts;
  const { sender, engine, capture, features } = audio;
  const sessions = new SessionManager({
    clock,
    random: opts.random ?? cryptoRandom,
    log: getLogger("session"),
    engine,
    config,
    channels,
    deviceChannels: () => capture.status.channels,
    canProduceRate: (rate) => features.resample || rate === config().audio.native_sample_rate,
    opusAvailable: () => features.opus,
    serverIpFor: (ip) => (hostname !== "0.0.0.0" ? hostname : localAddressFor(ip)),
    // The audio plane binds RTCP on its RTP port + 1 (src/net/rtcp_socket.ts).
    rtcpPort: () => sender.localPort + 1,
    onStreamingChange: audio.syncCapture,
  });
  const sweep = setInterval(() => sessions.sweep(), SWEEP_INTERVAL_MS);
  closers.add("heartbeat sweep", () => clearInterval(sweep));

  const policy = new ConfigChangePolicy({
    config,
    channels,
    applyWire: (prev, next) => {
      engine.configure(next.network.ext_interval_ms, next.audio.max_datagram_bytes);
      if (prev.network.dscp !== next.network.dscp) sender.setDscp(next.network.dscp);
    },
    shownChannels: () => shownChannels(sessions.available()),
    broadcast: (event) => sessions.broadcast(event),
    endAll: (reason, event) => sessions.endAll(reason, event),
    restartCapture: () => void capture.restart(),
    log,
  });
  closers.add("config change policy", store.onChange(policy.committed));

  const metrics = new ProcessMetrics();
  metrics.start();
  closers.add("process metrics", () => metrics.stop());

  const changeReason = policy.changeReason;
  const adaptation = new AdaptationService({
    ctx: { clock, sessions, config, engine, engineFeatures: features, changeReason, store },
    sendStats: () => sender.stats,
    log: getLogger("adaptation"),
    timing: opts.adaptationTiming,
  });
  adaptation.start();
  closers.add("adaptation", () => adaptation.stop());

  const stats = new StatsReporter({
    sessions,
    engine,
    sendErrors: () => sender.stats.errors,
    cpuPercent: () => metrics.cpuPercent,
    log: getLogger("stream"),
    intervalMs: (opts.statsIntervalS ?? DEFAULT_STATS_INTERVAL_S) * 1000,
  });
  stats.start();
  closers.add("stats", () => stats.stop());
  return { sessions, metrics, adaptation, changeReason };
}
