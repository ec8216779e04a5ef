/**
 * The client WebSocket (`/ws`, docs/protocol.md §4): one session per socket.
 * Every frame is checked here — size, JSON, type, payload — and a bad frame
 * gets an `error` message while the connection stays open (except too_large).
 */
import type { WSContext, WSEvents } from "hono/ws";
import type { ClientSocketContext } from "./context.ts";
import { SessionError, wsError, type WsErrorCode } from "./errors.ts";
import {
  ClientConfigPayload,
  MAX_WS_MESSAGE_BYTES,
  parseWith,
  WS_MESSAGE_TYPES,
} from "./schemas.ts";
import { type ClientSession, CLOSE_TOO_LARGE } from "../session/sessions.ts";

function sendError(s: ClientSession, code: WsErrorCode, message: string): void {
  s.send({ type: "error", code, message });
}

const encoder = new TextEncoder();

function byteLength(text: string): number {
  // Cheap bound first: UTF-8 never takes more than 3 bytes per UTF-16 unit.
  return text.length * 3 <= MAX_WS_MESSAGE_BYTES ? text.length : encoder.encode(text).length;
}

/** Handles one text frame from a client; never throws. */
export function handleClientFrame(ctx: ClientSocketContext, s: ClientSession, data: unknown): void {
  const received = ctx.clock.now();
  ctx.sessions.touch(s);
  if (typeof data !== "string") {
    const size = data instanceof ArrayBuffer ? data.byteLength : (data as Blob)?.size ?? 0;
    if (size > MAX_WS_MESSAGE_BYTES) return tooLarge(ctx, s, size);
    return sendError(s, "invalid_payload", "binary frames are not accepted; send JSON text");
  }
  const size = byteLength(data);
  if (size > MAX_WS_MESSAGE_BYTES) return tooLarge(ctx, s, size);
  let msg: unknown;
  try {
    msg = JSON.parse(data);
  } catch {
    return sendError(s, "bad_json", "the message is not valid JSON");
  }
  if (typeof msg !== "object" || msg === null || Array.isArray(msg)) {
    return sendError(s, "invalid_payload", 'a message must be a JSON object with a "type"');
  }
  const type = (msg as { type?: unknown }).type;
  if (typeof type !== "string") {
    return sendError(s, "invalid_payload", 'the message has no string "type" field');
  }
  if (!WS_MESSAGE_TYPES.includes(type)) {
    return sendError(
      s,
      "unknown_type",
      `unknown message type "${type.slice(0, 40)}"; expected ${WS_MESSAGE_TYPES.join(", ")}`,
    );
  }
  const m = msg as Record<string, unknown>;
  switch (type) {
    case "heartbeat":
      s.send({ type: "heartbeat_ack", server_time: Math.round(ctx.clock.now()) });
      return;
    case "ntp_request": {
      if (typeof m.t1 !== "number" || !Number.isFinite(m.t1)) {
        return sendError(s, "invalid_payload", "ntp_request needs a numeric t1 (client ms)");
      }
      s.send({ type: "ntp_response", t1: m.t1, t2: ms3(received), t3: ms3(ctx.clock.now()) });
      return;
    }
    case "client_config": {
      const r = parseWith(ClientConfigPayload, m.payload);
      if (!r.ok) return sendError(s, "invalid_payload", `client_config.payload: ${r.message}`);
      try {
        ctx.sessions.configure(s, r.value);
      } catch (e) {
        if (e instanceof SessionError) return s.send(wsError(e));
        ctx.log.error("client_config failed", { client: s.id, error: e as Error });
        return sendError(s, "not_ready", "the server could not start this stream; try again");
      }
      return;
    }
  }
}

function tooLarge(ctx: ClientSocketContext, s: ClientSession, size: number): void {
  sendError(
    s,
    "too_large",
    `message of ${size} bytes is over the ${MAX_WS_MESSAGE_BYTES}-byte limit`,
  );
  ctx.sessions.end(s, "message too large", undefined, CLOSE_TOO_LARGE);
}

function ms3(t: number): number {
  return Math.round(t * 1000) / 1000;
}

export function attachClientSocket(
  ctx: ClientSocketContext,
  ip: string,
  userAgent: string | null = null,
): WSEvents {
  let session: ClientSession | null = null;
  return {
    onOpen(_evt, ws: WSContext) {
      session = ctx.sessions.open(
        ip,
        {
          send: (text) => ws.send(text),
          close: (code, reason) => ws.close(code, reason),
        },
        "udp",
        userAgent,
      );
    },
    onMessage(evt) {
      if (session) handleClientFrame(ctx, session, evt.data);
    },
    onClose() {
      if (session) ctx.sessions.closed(session);
    },
    onError() {
      if (session) ctx.sessions.closed(session);
    },
  };
}
