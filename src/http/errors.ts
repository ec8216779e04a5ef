/**
 * The contract's error shapes, in one place (docs/protocol.md §3, §4):
 *   HTTP:      {"error":{"code":"<snake_case>","message":"<human sentence>"}}
 *   WebSocket: {"type":"error","code":"<one of WS_ERROR_CODES>","message":"…"}
 * The session layer throws `SessionError`s that name what went wrong;
 * `SESSION_ERROR_ANSWERS` below is the one table that turns each into an
 * HTTP status and a WebSocket error code. Errors of the HTTP layer itself
 * (bad JSON, not logged in…) are `ApiError`s carrying their status.
 */
import { SessionError, type SessionErrorCode } from "../session/errors.ts";

export type HttpErrorStatus = 400 | 401 | 403 | 404 | 409 | 413 | 429 | 500 | 503;

/** The only codes a `/ws` `error` message may carry (§4). */
export const WS_ERROR_CODES = [
  "bad_json",
  "unknown_type",
  "invalid_payload",
  "not_ready",
  "too_large",
] as const;
export type WsErrorCode = typeof WS_ERROR_CODES[number];

export interface ErrorAnswer {
  /** HTTP status; the body's `code` is the domain code itself. */
  status: HttpErrorStatus;
  /** What a `/ws` client gets (the contract's fixed set). */
  ws: WsErrorCode;
}

/** Every session-layer refusal → its HTTP and WebSocket answer (§3 statuses, §12 codes). */
export const SESSION_ERROR_ANSWERS: Readonly<Record<SessionErrorCode, ErrorAnswer>> = {
  invalid_port: { status: 400, ws: "invalid_payload" },
  address_mismatch: { status: 403, ws: "invalid_payload" },
  no_session: { status: 409, ws: "not_ready" },
  server_full: { status: 503, ws: "not_ready" },
  unmapped_channel: { status: 400, ws: "invalid_payload" },
  no_mapped_channel: { status: 409, ws: "invalid_payload" },
  opus_unavailable: { status: 409, ws: "invalid_payload" },
};

export class ApiError extends Error {
  constructor(
    readonly status: HttpErrorStatus,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }

  /** The HTTP answer for a session-layer refusal. */
  static from(e: SessionError): ApiError {
    return new ApiError(SESSION_ERROR_ANSWERS[e.code].status, e.code, e.message);
  }

  toJSON() {
    return { error: { code: this.code, message: this.message } };
  }
}

export const badRequest = (code: string, message: string) => new ApiError(400, code, message);

/** The `/ws` `error` message for a session-layer refusal. */
export function wsError(e: SessionError): { type: "error"; code: WsErrorCode; message: string } {
  return { type: "error", code: SESSION_ERROR_ANSWERS[e.code].ws, message: e.message };
}

export { SessionError };
