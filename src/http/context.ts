/**
 * What the HTTP side can reach of the running server, built once by
 * src/server.ts (nothing is patched in later). Each consumer takes the
 * narrowest of these views:
 *   ClientSocketContext  the client WebSocket (./ws.ts)
 *   ListenerContext      the listener page's sockets (src/listener/socket.ts)
 *   ServerContext        the public API (./app.ts) and the admin module
 */
import type { ConfigStore } from "../config/store.ts";
import type { ChannelConfig, Config } from "../config/types.ts";
import type { CaptureController } from "../audio/capture.ts";
import type { SessionManager } from "../session/sessions.ts";
import type { EngineControl } from "../session/engine.ts";
import type { ProcessMetrics } from "../qos/process_metrics.ts";
import type { QosReport } from "../qos/report.ts";
import type { Clock } from "../util/clock.ts";
import type { Logger } from "../util/log.ts";
import type { Context } from "hono";
import type { HttpsControl } from "../tls/https_service.ts";
import type { Aes67Service } from "../aes67/service.ts";

/** The client WebSocket (`/ws`): sessions, time, a log. */
export interface ClientSocketContext {
  readonly clock: Clock;
  readonly log: Logger;
  readonly sessions: SessionManager;
}

/** The listener page's sockets (`/listen`): the client socket's view and the datagram limit. */
export interface ListenerContext extends ClientSocketContext {
  /** Stored configuration with this run's command-line overrides applied. */
  config(): Config;
}

export interface ServerContext extends ListenerContext {
  readonly store: ConfigStore;
  readonly engine: EngineControl;
  readonly capture: CaptureController;
  readonly metrics: ProcessMetrics;
  readonly startedAt: number;
  readonly rtpPort: number;
  httpPort(): number;
  channels(): ChannelConfig[];
  /** "auto" | "alsa" | "test" | "aes67": the source this run was asked for. */
  readonly sourceMode: "auto" | "alsa" | "test" | "aes67";
  /** What the engine can produce: Opus, and the sample rates reachable from the native rate. */
  readonly engineFeatures: { readonly opus: boolean; readonly resample: boolean };
  /** What console detection found (for /health). */
  alsaDetection(): string;
  /** Console detection ran and found no console. */
  consoleMissing(): boolean;
  /** A client's QoS report arrived (the sample-rate adaptation). */
  onQos(report: QosReport): void;
  /** Sets the `reason` the next config_changed event carries (admin edit, rate step…). */
  changeReason(reason: string): void;
  /**
   * The optional HTTPS listener: its state, its certificates while on
   * (src/tls/certificates.ts; the WebTransport one is `https.tls.transport()`),
   * and a hook for it turning on/off or rotating.
   */
  readonly https: HttpsControl;
  /** The AES67 output (streams, SAP, clock): src/aes67/service.ts. */
  readonly aes67?: Aes67Service;
  /** Whether a request carries a valid admin session (src/admin/auth.ts). */
  isAdmin(c: Context): boolean | Promise<boolean>;
}
