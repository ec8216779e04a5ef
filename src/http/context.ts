/** What HTTP handlers can reach: the running server's parts. */
import type { ConfigStore } from "../config/store.ts";
import type { ChannelConfig, Config } from "../config/types.ts";
import type { CaptureController } from "../audio/capture.ts";
import type { SessionManager } from "../session/sessions.ts";
import type { EngineControl } from "../session/engine.ts";
import type { ProcessMetrics } from "../qos/process_metrics.ts";
import type { Clock } from "../util/clock.ts";
import type { Logger } from "../util/log.ts";
import type { Context } from "hono";
import type { QosReport } from "./schemas.ts";
import type { HttpsControl } from "../tls/https_service.ts";

export interface ServerContext {
  store: ConfigStore;
  clock: Clock;
  log: Logger;
  engine: EngineControl;
  capture: CaptureController;
  sessions: SessionManager;
  metrics: ProcessMetrics;
  startedAt: number;
  rtpPort: number;
  httpPort(): number;
  /** Stored configuration with this run's command-line overrides applied. */
  config(): Config;
  channels(): ChannelConfig[];
  /** "auto" | "alsa" | "test": the source this run was asked for. */
  sourceMode: "auto" | "alsa" | "test";
  /** What the engine can produce: Opus, and the sample rates reachable from the native rate. */
  engineFeatures: { opus: boolean; resample: boolean };
  /** What console detection found (for /health). */
  alsaDetection(): string;
  /** Console detection ran and found no console. */
  consoleMissing(): boolean;
  /** A client's QoS report arrived (adaptation policy hook). */
  onQos?: (report: QosReport) => void;
  /** Sets the `reason` the next config_changed event carries (admin edit, rate step…). */
  changeReason(reason: string): void;
  /**
   * The optional HTTPS listener: its state, its certificates while on
   * (src/tls/certificates.ts; the WebTransport one is `https.tls.transport()`),
   * and a hook for it turning on/off or rotating.
   */
  https: HttpsControl;
  /** Whether a request carries a valid admin session (the admin module installs this). */
  isAdmin(c: Context): boolean | Promise<boolean>;
}
