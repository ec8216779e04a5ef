/**
 * What the session layer refuses, by name. The layer says *what* went wrong;
 * how each code is answered (HTTP status, WebSocket `error` code) is decided
 * in one table in src/http/errors.ts, so no HTTP status is known here.
 */

export type SessionErrorCode =
  /** `/request-audio` names no open WebSocket session (or none from this address waits). */
  | "no_session"
  /** The `client_id` belongs to a session opened from another address. */
  | "address_mismatch"
  /** `max_clients` sessions already have a destination. */
  | "server_full"
  /** A UDP destination port outside 1024–65535 (or not a number). */
  | "invalid_port"
  /** `client_config` lists a channel the server does not send. */
  | "unmapped_channel"
  /** The server maps no channel at all, so there is nothing to stream. */
  | "no_mapped_channel"
  /** `client_config` asks for Opus and libopus is not loaded. */
  | "opus_unavailable";

export const SESSION_ERROR_CODES: readonly SessionErrorCode[] = [
  "no_session",
  "address_mismatch",
  "server_full",
  "invalid_port",
  "unmapped_channel",
  "no_mapped_channel",
  "opus_unavailable",
];

export class SessionError extends Error {
  override readonly name = "SessionError";
  constructor(readonly code: SessionErrorCode, message: string) {
    super(message);
  }
}

export const MIN_UDP_PORT = 1024;
export const MAX_UDP_PORT = 65535;

/** A client's UDP destination port from its text form; throws `invalid_port`. */
export function parseUdpPort(raw: string | undefined): number {
  if (raw === undefined || raw === "") {
    throw new SessionError(
      "invalid_port",
      `udp_port is required (${MIN_UDP_PORT}–${MAX_UDP_PORT})`,
    );
  }
  const port = Number(raw);
  if (!/^\d+$/.test(raw) || port < MIN_UDP_PORT || port > MAX_UDP_PORT) {
    throw new SessionError(
      "invalid_port",
      `udp_port must be an integer ${MIN_UDP_PORT}–${MAX_UDP_PORT}, got ${raw}`,
    );
  }
  return port;
}
