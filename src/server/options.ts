/** What `startServer` is asked for (src/cli/serve.ts, tests) and what it hands back. */
import type { Source } from "../audio/source.ts";
import type { AlsaOpenRequest, SourceMode } from "../audio/source_factory.ts";
import type { Aes67InputSettings } from "../aes67/input.ts";
import type { Config } from "../config/types.ts";
import type { AppExtension } from "../http/app.ts";
import type { ServerContext } from "../http/context.ts";
import type { SenderKind } from "../net/create_sender.ts";
import type { AudioPlaneKind } from "../plane/audio_plane.ts";
import type { AdaptationTiming } from "../qos/adaptation.ts";
import type { Clock, Random } from "../util/clock.ts";

export interface ServerOptions {
  httpPort: number;
  rtpPort: number;
  /** Bind address for HTTP and RTP (default all IPv4 interfaces). */
  hostname?: string;
  dataDir: string;
  source: SourceMode;
  /** Overrides for this run only (never stored). */
  heartbeatTimeoutS?: number;
  alsaDevice?: string;
  /** The AES67 input for `source: "aes67"` (CLI `--aes67-session`; docs/protocol.md §13). */
  aes67?: Aes67InputSettings;
  /**
   * The SAP listener (GET /api/admin/aes67/sessions, resolving `aes67.session`):
   * on by default; `false` turns it off, `{port}` moves it (tests).
   */
  sap?: false | { port?: number; interfaceAddress?: string; minTimeoutMs?: number };
  sender?: SenderKind;
  /** Seconds between `RTP stats` lines per client. */
  statsIntervalS?: number;
  clock?: Clock;
  random?: Random;
  createAlsa?: (req: AlsaOpenRequest) => Source;
  extensions?: AppExtension[];
  /** First admin password when the database has none (default: env M32_ADMIN_PASSWORD). */
  adminPassword?: string;
  /** Clock for TLS certificate validity and renewal (tests move it by hand; default `clock`). */
  tlsClock?: Clock;
  /**
   * Where capture → engine → UDP runs (src/plane/audio_plane.ts): default
   * "worker", or "main" when `createAlsa` is given (a test's source runs there only).
   */
  audioPlane?: AudioPlaneKind;
  /** Adaptation start-up grace and step spacing (tests shorten them; default the named constants). */
  adaptationTiming?: Partial<AdaptationTiming>;
  /**
   * The UDP port pages are told to open WebTransport at, when something
   * forwards it to the bound one (a port forward; the Wi-Fi bench's
   * impairment relay, src/loadtest/wifi/). Default: the bound port (the HTTPS port).
   */
  webtransportPublicPort?: number;
}

export interface RunningServer {
  httpPort: number;
  rtpPort: number;
  url: string;
  ctx: ServerContext;
  /** Tells every client `server_shutdown`, stops audio, closes sockets and the database. */
  close(reason?: string): Promise<void>;
}

/** The stored configuration with this run's command-line overrides applied (a fresh copy). */
export function withOverrides(stored: Config, opts: ServerOptions): Config {
  if (opts.heartbeatTimeoutS !== undefined) {
    stored.network.heartbeat_timeout_s = opts.heartbeatTimeoutS;
  }
  if (opts.alsaDevice !== undefined) stored.alsa.device = opts.alsaDevice;
  return stored;
}
