/**
 * The JSON the admin API and its live feed answer (docs/admin.md), as types
 * only: the server's views (./views.ts, ./routes.ts) are checked against
 * them, and the admin page (web/admin/) reads its answers through them.
 * Nothing here runs, so the page's bundle takes no server code with it.
 */
import type { HttpsStatus } from "../tls/https_status.ts";
import type { ChannelConfig, Config } from "../config/types.ts";

export type { ChannelConfig, Config };

/** `GET /api/admin/clients`, and `clients` of a live snapshot: one per connected client. */
export interface ClientView {
  client_id: string;
  address: string;
  /**
   * What the phone is, from its User-Agent when it connected ("iPhone · Safari",
   * "Android · Chrome", "Deno"): the protocol carries no name a musician sets
   * (docs/protocol.md §4), so this is the best label there is. Null: no User-Agent.
   */
  device: string | null;
  /** The User-Agent it was derived from (shown as a tooltip), or null. */
  user_agent: string | null;
  udp_port: number | null;
  transport: string;
  streaming: boolean;
  channels: number[];
  sample_rate: number | null;
  compression: string | null;
  packets_sent: number;
  bytes_sent: number;
  connected_at: string;
  /** Last message of any kind from the client (heartbeats keep it alive). */
  last_heartbeat: string;
  /**
   * The latest RTCP receiver report from this client (RFC 3550 §6.4.2), or
   * null: none yet, or a browser transport (they get no RTCP). `fraction_lost`
   * is since the previous report (0–1), `cumulative_lost` since the start,
   * `jitter_ms` the RFC 3550 interarrival jitter, `round_trip_ms` from LSR/DLSR
   * (null until the client echoes a sender report).
   */
  rtcp: {
    received_at: string;
    reports: number;
    fraction_lost: number;
    cumulative_lost: number;
    jitter_ms: number;
    round_trip_ms: number | null;
  } | null;
  qos: {
    received_at: string;
    packet_loss_rate: number;
    jitter_ms: number;
    latency_ms: number;
    packets_received: number;
    packets_expected: number;
    bandwidth_mbps: number;
  } | null;
}

/** One of the recent warnings and errors (`recent_log`). */
export interface LogLine {
  time: string;
  level: string;
  category: string;
  message: string;
  /** The whole line as the log prints it. */
  text: string;
}

/** `GET /api/admin/status` (without `sound_cards`), and `status` of a live snapshot. */
export interface StatusView {
  status: "ok" | "degraded";
  source: {
    mode: "auto" | "alsa" | "test" | "aes67";
    kind: "alsa" | "test" | "aes67";
    state: "idle" | "starting" | "running" | "error";
    error: string;
    description: string;
    channels: number;
    faults: number;
    sink_errors: number;
  };
  connected_clients: number;
  streaming_clients: number;
  total_packets_sent: number;
  cpu_pct: number;
  uptime_s: number;
  config_version: number;
  /** The stored rate every session gets. */
  sample_rate: number;
  native_sample_rate: number;
  /** Addresses the adaptation stepped below `sample_rate`. */
  lowered_clients: { address: string; sample_rate: number }[];
  http_port: number;
  rtp_port: number;
  /** Stored values this run's command-line flags replace, by "section.key". */
  overrides: Record<string, unknown>;
  recent_log: LogLine[];
}

/** A point of the QoS history: the worst figure over the reporting clients. */
export interface HistoryPoint {
  t: number;
  clients: number;
  loss_pct: number | null;
  jitter_ms: number | null;
  latency_ms: number | null;
}

/** What `/api/admin/live` sends. */
export type LiveMessage =
  | { type: "hello"; history: HistoryPoint[] }
  | {
    type: "snapshot";
    time: number;
    status: StatusView;
    clients: ClientView[];
    point: HistoryPoint | null;
  };

/** `PATCH /api/admin/config` and `PUT /api/admin/channels`. */
export interface SaveAnswer {
  status: "ok";
  config_version: number;
  /** Client sessions the write ended (config_changed). */
  sessions_ended: number;
}

/** `GET /api/admin/login`: the page's "am I logged in?" probe. */
export interface LoginProbe {
  logged_in: boolean;
  expires_at: string | null;
}

/** `GET /api/admin/qr`. */
export interface QrAnswer {
  /** What the phone opens; null when this machine has no LAN IPv4 address. */
  url: string | null;
  svg: string | null;
  /** Every LAN IPv4 of this machine (the first one is in the code). */
  addresses: string[];
  /** Why there is no code, or other hints. */
  note: string | null;
  /** The secure page while the HTTPS listener is up, else null (the plain one above stays valid). */
  https: { url: string; svg: string; urls: string[] } | null;
}

/** The HTTPS listener's state and certificates: the TLS service owns them (admin shows them). */
export type { CertInfo, HttpsStatus } from "../tls/https_status.ts";

/** `GET /api/admin/https`: the state and the secure listener page's addresses. */
export interface HttpsView extends HttpsStatus {
  urls: string[];
}

/** `POST /api/admin/https`. */
export interface HttpsSaveAnswer extends HttpsView {
  status: "ok";
  config_version: number;
}

/** Every error answer (docs/protocol.md §3). */
export interface ErrorAnswer {
  error: { code: string; message: string };
}
export type { Aes67View } from "../aes67/view.ts";
export type { Aes67SessionView } from "../aes67/view.ts";
