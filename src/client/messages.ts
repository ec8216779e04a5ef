/**
 * WebSocket messages of the contract (§4), typed, with builders for what the
 * client sends and a checking parser for what the server sends. Runtime-neutral.
 *
 * One text frame = one JSON object with a `type`:
 *
 *   client → server                     server → client
 *   heartbeat {timestamp ISO}           welcome {client_id, server_time, heartbeat_timeout_s, config_version}
 *   client_config {payload}             heartbeat_ack {server_time}
 *   ntp_request {t1}                    client_config_ack {payload}
 *                                       ntp_response {t1, t2, t3}
 *                                       event {payload: {type, …}}
 *                                       error {code, message}
 */

export type Compression = "none" | "opus";
export type StreamEncoding = "L16" | "L24" | "opus";

export const MAX_WS_MESSAGE_BYTES = 64 * 1024;

export interface ClientConfigPayload {
  /** Channel settings by USB id; extra fields are the client's own and ignored by the server. */
  channels: ({ id: number } & Record<string, unknown>)[];
  sample_rate: number;
  compression: Compression;
}

export interface WelcomeMessage {
  type: "welcome";
  client_id: string;
  server_time: number;
  heartbeat_timeout_s: number;
  config_version: number;
}

export interface HeartbeatAckMessage {
  type: "heartbeat_ack";
  server_time: number;
}

export interface ClientConfigAck {
  channels: number[];
  sample_rate: number;
  compression: Compression;
  encoding: StreamEncoding;
  ptime_ms: number;
  ssrc: number;
  payload_type: number;
  sdp: string;
  /**
   * Opus only: the channels split into groups, one multistream packet each
   * with the same RTP timestamp (docs/protocol.md §12); absent = one group.
   */
  channel_groups?: number[][];
}

export interface ClientConfigAckMessage {
  type: "client_config_ack";
  payload: ClientConfigAck;
}

export interface NtpResponseMessage {
  type: "ntp_response";
  t1: number;
  t2: number;
  t3: number;
}

export type ServerEventType =
  | "reconnect"
  | "config_changed"
  | "server_shutdown"
  | "network_warning"
  | "custom_message"
  /** The engineer renamed, reordered or (un)mapped channels: `channels` as in /audio-meta. */
  | "channels_changed";

export interface ServerEvent extends Record<string, unknown> {
  /** One of ServerEventType; unknown types are passed through for logging. */
  type: ServerEventType | (string & Record<never, never>);
  reason?: string;
  new_sample_rate?: number;
  /** `config_changed` for this client alone (its own network made the server step its rate). */
  scope?: "client";
  text?: string;
}

export interface EventMessage {
  type: "event";
  payload: ServerEvent;
}

export interface ErrorMessage {
  type: "error";
  code: string;
  message: string;
}

export type ServerMessage =
  | WelcomeMessage
  | HeartbeatAckMessage
  | ClientConfigAckMessage
  | NtpResponseMessage
  | EventMessage
  | ErrorMessage;

/** The server sent something that is not a message of the contract. */
export class ProtocolError extends Error {
  override name = "ProtocolError";
}

/** Events after which the server ends the session and the client starts again (§2 step 8). */
export function isSessionEndingEvent(type: string): boolean {
  return type === "reconnect" || type === "config_changed" || type === "server_shutdown";
}

export function heartbeatMessage(nowMs: number): string {
  return JSON.stringify({ type: "heartbeat", timestamp: new Date(nowMs).toISOString() });
}

export function ntpRequestMessage(t1: number): string {
  return JSON.stringify({ type: "ntp_request", t1 });
}

export function clientConfigMessage(payload: ClientConfigPayload): string {
  return JSON.stringify({ type: "client_config", payload });
}

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function num(o: Obj, key: string, what: string): number {
  const v = o[key];
  if (typeof v !== "number" || !Number.isFinite(v)) {
    throw new ProtocolError(`${what}.${key} must be a number, got ${JSON.stringify(v)}`);
  }
  return v;
}

function str(o: Obj, key: string, what: string): string {
  const v = o[key];
  if (typeof v !== "string") {
    throw new ProtocolError(`${what}.${key} must be a string, got ${JSON.stringify(v)}`);
  }
  return v;
}

function parseAck(p: unknown): ClientConfigAck {
  const what = "client_config_ack.payload";
  if (!isObj(p)) throw new ProtocolError(`${what} must be an object`);
  const channels = p.channels;
  if (!Array.isArray(channels) || !channels.every((c) => Number.isInteger(c))) {
    throw new ProtocolError(`${what}.channels must be a list of channel ids`);
  }
  const encoding = str(p, "encoding", what);
  if (encoding !== "L16" && encoding !== "L24" && encoding !== "opus") {
    throw new ProtocolError(`${what}.encoding must be L16, L24 or opus, got ${encoding}`);
  }
  const compression = p.compression === undefined
    ? (encoding === "opus" ? "opus" : "none")
    : str(p, "compression", what);
  if (compression !== "none" && compression !== "opus") {
    throw new ProtocolError(`${what}.compression must be none or opus, got ${compression}`);
  }
  let groups: number[][] | undefined;
  if (p.channel_groups !== undefined) {
    const g = p.channel_groups;
    if (
      !Array.isArray(g) ||
      !g.every((x) => Array.isArray(x) && x.length > 0 && x.every((c) => Number.isInteger(c)))
    ) {
      throw new ProtocolError(`${what}.channel_groups must be a list of lists of channel ids`);
    }
    groups = g as number[][];
    const flat = groups.flat();
    if (flat.length !== channels.length || flat.some((id, i) => id !== channels[i])) {
      throw new ProtocolError(
        `${what}.channel_groups ${JSON.stringify(g)} must list the channels ${
          JSON.stringify(channels)
        } in order`,
      );
    }
  }
  return {
    ...(groups ? { channel_groups: groups } : {}),
    channels: channels as number[],
    sample_rate: num(p, "sample_rate", what),
    compression,
    encoding,
    ptime_ms: num(p, "ptime_ms", what),
    ssrc: num(p, "ssrc", what) >>> 0,
    payload_type: num(p, "payload_type", what),
    sdp: typeof p.sdp === "string" ? p.sdp : "",
  };
}

/** Parses one text frame from the server; throws ProtocolError naming what is wrong. */
export function parseServerMessage(text: string): ServerMessage {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new ProtocolError(`server message is not JSON (${text.length} chars)`);
  }
  if (!isObj(v)) throw new ProtocolError("server message must be a JSON object");
  const type = v.type;
  switch (type) {
    case "welcome":
      return {
        type,
        client_id: str(v, "client_id", type),
        server_time: num(v, "server_time", type),
        heartbeat_timeout_s: typeof v.heartbeat_timeout_s === "number" ? v.heartbeat_timeout_s : 30,
        config_version: typeof v.config_version === "number" ? v.config_version : 0,
      };
    case "heartbeat_ack":
      return { type, server_time: num(v, "server_time", type) };
    case "client_config_ack":
      return { type, payload: parseAck(v.payload) };
    case "ntp_response":
      return { type, t1: num(v, "t1", type), t2: num(v, "t2", type), t3: num(v, "t3", type) };
    case "event": {
      const p = v.payload;
      if (!isObj(p) || typeof p.type !== "string") {
        throw new ProtocolError("event.payload must be an object with a string type");
      }
      return { type, payload: p as ServerEvent };
    }
    case "error":
      return {
        type,
        code: typeof v.code === "string" ? v.code : "unknown",
        message: typeof v.message === "string" ? v.message : "",
      };
    default:
      throw new ProtocolError(`unknown server message type ${JSON.stringify(type)}`);
  }
}
