/**
 * `GET /api/admin/aes67/sessions` (docs/protocol.md §13): the SAP sessions
 * heard. Mounted after the admin API, whose middleware (admin session: 401
 * without one) covers everything under `/api/admin/`.
 */
import type { Hono } from "hono";
import type { AppExtension } from "../http/app.ts";
import type { SapSession } from "./sap_listener.ts";
import type { Aes67SessionView } from "./view.ts";

export type { Aes67SessionView };

export const AES67_SESSIONS_PATH = "/api/admin/aes67/sessions";

export function sessionView(s: SapSession): Aes67SessionView {
  const streams = s.session.streams;
  return {
    name: s.session.name,
    origin: s.session.origin.address,
    session_id: `${s.session.origin.username} ${s.session.origin.sessionId}`,
    groups: streams.map((m) => m.group),
    channels: streams.reduce((n, m) => n + m.channels, 0),
    labels: streams.flatMap((m) => m.labels),
    ptime_ms: streams[0]?.ptimeMs ?? null,
    clock: streams[0]?.refclk ?? "",
    last_heard: new Date(s.lastHeardMs).toISOString(),
    sap_source: s.sapSource,
    streams: streams.map((m) => ({
      group: m.group,
      port: m.port,
      ttl: m.ttl,
      encoding: m.encoding,
      sample_rate: m.sampleRate,
      channels: m.channels,
      ptime_ms: m.ptimeMs,
      payload_type: m.payloadType,
      mediaclk: m.mediaclk ?? "",
    })),
  };
}

/** The route, given what SAP heard (null: the listener is not running). */
export function aes67Extension(
  sessions: () => SapSession[] | null,
  listenerError: () => string,
): AppExtension {
  return (app: Hono) => {
    app.get(AES67_SESSIONS_PATH, (c) => {
      const heard = sessions();
      return c.json({
        listening: heard !== null,
        error: heard === null ? listenerError() : "",
        sessions: (heard ?? []).map(sessionView),
      });
    });
  };
}
