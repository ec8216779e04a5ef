/**
 * The JSON shapes the admin API and the live WebSocket send: connected
 * clients, server status, recent warnings. Read-only views of the server.
 */
import type { ServerContext } from "../http/context.ts";
import type { ClientSession } from "../session/sessions.ts";
import { formatRecord, logConfig, type LogRecord } from "../util/log.ts";
import type { ClientView, LogLine, StatusView } from "./api_types.ts";
import { deviceLabel } from "./device_label.ts";
import type { ReceiverReportStats } from "../session/rtcp_agent.ts";

export type { ClientView, LogLine, StatusView };

export const RECENT_LOG_LINES = 50;

const iso = (ms: number) => new Date(ms).toISOString();

export function clientView(s: ClientSession): ClientView {
  const e = s.effective;
  return {
    client_id: s.id,
    address: s.ip,
    device: s.userAgent === null ? null : deviceLabel(s.userAgent),
    user_agent: s.userAgent,
    udp_port: s.udpPort,
    transport: s.kind,
    streaming: s.stream !== null,
    channels: [...(e?.channels ?? [])],
    sample_rate: e?.sampleRate ?? null,
    compression: e?.compression ?? null,
    packets_sent: s.stream?.packetsSent ?? 0,
    bytes_sent: s.stream?.bytesSent ?? 0,
    connected_at: iso(s.createdAt),
    last_heartbeat: iso(s.lastSeen),
    rtcp: rtcpView(s.stream?.receiverReport ?? null),
    qos: s.qos ? { received_at: iso(s.qosAt), ...s.qos.metrics } : null,
  };
}

function rtcpView(r: ReceiverReportStats | null): ClientView["rtcp"] {
  if (r === null) return null;
  const round = (x: number) => Math.round(x * 100) / 100;
  return {
    received_at: iso(r.atMs),
    reports: r.reports,
    fraction_lost: Math.round(r.fractionLost * 10000) / 10000,
    cumulative_lost: r.cumulativeLost,
    jitter_ms: round(r.jitterMs),
    round_trip_ms: r.rttMs === null ? null : round(r.rttMs),
  };
}

/** Connected clients, oldest first. */
export function clientsView(ctx: ServerContext): ClientView[] {
  return ctx.sessions.list().map(clientView);
}

/** Recent warnings and errors, newest first. */
export function recentLog(limit = RECENT_LOG_LINES): LogLine[] {
  return logConfig.recent.slice(-limit).reverse().map((r: LogRecord) => ({
    time: r.time,
    level: r.level,
    category: r.category,
    message: r.message,
    text: formatRecord(r),
  }));
}

/** Stored values that this run's command-line flags replace. */
export function overrides(ctx: ServerContext): Record<string, unknown> {
  const stored = ctx.store.get();
  const effective = ctx.config();
  const out: Record<string, unknown> = {};
  for (const name of ["audio", "network", "jitter", "adaptation", "alsa"] as const) {
    const a = stored[name] as unknown as Record<string, unknown>;
    const b = effective[name] as unknown as Record<string, unknown>;
    for (const key of Object.keys(b)) {
      if (a[key] !== b[key]) out[`${name}.${key}`] = b[key];
    }
  }
  return out;
}

export function statusView(ctx: ServerContext): StatusView {
  const st = ctx.capture.status;
  const degraded = st.state === "error" || (ctx.sourceMode !== "test" && st.source === "test");
  return {
    status: degraded ? "degraded" : "ok",
    source: {
      mode: ctx.sourceMode,
      kind: st.source,
      state: st.state,
      error: st.error,
      description: st.description,
      channels: st.channels,
      faults: st.faults,
      sink_errors: st.sinkErrors,
    },
    connected_clients: ctx.sessions.list().length,
    streaming_clients: ctx.sessions.streamingCount,
    total_packets_sent: ctx.engine.totalPackets,
    cpu_pct: Math.round(ctx.metrics.cpuPercent * 10) / 10,
    uptime_s: Math.round((ctx.clock.now() - ctx.startedAt) / 1000),
    config_version: ctx.config().config_version,
    /** The stored rate every session gets, and the addresses adaptation stepped below it. */
    sample_rate: ctx.config().audio.sample_rate,
    native_sample_rate: ctx.config().audio.native_sample_rate,
    lowered_clients: ctx.sessions.rateCeilings(),
    http_port: ctx.httpPort(),
    rtp_port: ctx.rtpPort,
    overrides: overrides(ctx),
    recent_log: recentLog(),
  };
}
