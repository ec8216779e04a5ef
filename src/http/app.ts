/**
 * The public HTTP API and the client WebSocket (docs/protocol.md §3, §4) on
 * Hono. Errors are rendered in the contract's shape in one place (onError).
 */
import { Hono } from "hono";
import type { Context } from "hono";
import { getConnInfo, upgradeWebSocket } from "hono/deno";
import { bodyLimit } from "hono/body-limit";
import { ApiError, badRequest, SessionError } from "./errors.ts";
import type { ServerContext } from "./context.ts";
import { JitterThresholdsBody, MAX_HTTP_BODY_BYTES, parseWith, QosReport } from "./schemas.ts";
import { ProcessMetrics } from "../qos/process_metrics.ts";
import { SAMPLE_RATES } from "../config/types.ts";
import { shownChannels } from "../session/shown_channels.ts";
import { attachClientSocket } from "./ws.ts";
import { parseUdpPort } from "../session/errors.ts";
import { REPORT_WINDOW_MS, ReportRateLimiter, REPORTS_PER_WINDOW } from "./report_rate_limit.ts";

export function remoteIp(c: Context): string {
  const addr = getConnInfo(c).remote.address ?? "";
  // IPv4-mapped IPv6 ("::ffff:10.0.0.5") is the IPv4 client.
  return addr.startsWith("::ffff:") ? addr.slice(7) : addr;
}

export async function readJson(c: Context): Promise<unknown> {
  const text = await c.req.text();
  try {
    return JSON.parse(text);
  } catch {
    throw badRequest("bad_json", "the request body is not valid JSON");
  }
}

export type AppExtension = (app: Hono, ctx: ServerContext) => void;

export function createApp(ctx: ServerContext, extensions: AppExtension[] = []): Hono {
  const app = new Hono();

  app.onError((err, c) => {
    const answer = err instanceof SessionError ? ApiError.from(err) : err;
    if (answer instanceof ApiError) return c.json(answer.toJSON(), answer.status);
    ctx.log.error("request failed", { path: c.req.path, error: err });
    return c.json({ error: { code: "internal_error", message: "internal server error" } }, 500);
  });
  app.notFound((c) =>
    c.json({ error: { code: "not_found", message: `no such endpoint: ${c.req.path}` } }, 404)
  );

  app.use(
    "*",
    bodyLimit({
      maxSize: MAX_HTTP_BODY_BYTES,
      onError: (c) =>
        c.json({
          error: { code: "too_large", message: `request body over ${MAX_HTTP_BODY_BYTES} bytes` },
        }, 413),
    }),
  );

  /** The source phones get now; while idle, the one they would get (auto with no console → test). */
  const currentSource = () => {
    const st = ctx.capture.status;
    if (st.state !== "idle") return st.source;
    if (ctx.sourceMode === "test" || ctx.config().audio.test_mode !== "off") return "test";
    return ctx.sourceMode === "auto" && ctx.consoleMissing() ? "test" : st.source;
  };

  app.get("/audio-meta", (c) => {
    const cfg = ctx.config();
    const channels = shownChannels(ctx.sessions.available());
    return c.json({
      sample_rate: cfg.audio.sample_rate,
      native_sample_rate: cfg.audio.native_sample_rate,
      encoding: cfg.audio.encoding,
      compressions: ctx.engineFeatures.opus ? ["none", "opus"] : ["none"],
      sample_rates: SAMPLE_RATES.filter((r) =>
        r <= cfg.audio.sample_rate &&
        (ctx.engineFeatures.resample || r === cfg.audio.native_sample_rate)
      ),
      ptime_ms: cfg.audio.ptime_ms,
      max_datagram_bytes: cfg.audio.max_datagram_bytes,
      channels,
      config_version: cfg.config_version,
      // RTCP (receiver reports in, sender reports out) on the RTP port + 1 (docs/protocol.md §5).
      rtp: {
        payload_type: 96,
        opus_payload_type: 97,
        server_port: ctx.rtpPort,
        rtcp_port: ctx.rtpPort + 1,
      },
      test_mode: currentSource() === "test",
    });
  });

  const requestAudio = (c: Context) => {
    const port = parseUdpPort(c.req.query("udp_port"));
    const clientId = c.req.query("client_id") || undefined;
    return c.json(ctx.sessions.requestAudio(remoteIp(c), port, clientId));
  };
  app.get("/request-audio", requestAudio);
  app.post("/request-audio", requestAudio);

  app.get("/jitter-thresholds", (c) => c.json(ctx.store.getJitter()));
  app.post("/jitter-thresholds", async (c) => {
    if (!(await ctx.isAdmin(c))) {
      throw new ApiError(401, "unauthorized", "changing jitter thresholds needs an admin session");
    }
    const r = parseWith(JitterThresholdsBody, await readJson(c));
    if (!r.ok) throw badRequest("invalid_value", r.message);
    ctx.store.setJitter(r.value);
    return c.json({ status: "ok" });
  });

  const reportLimiter = new ReportRateLimiter(ctx.clock);
  /** Contract §3: only a session's own address, at most 10 a second; only these reach onQos. */
  app.post("/qos-metrics", async (c) => {
    const ip = remoteIp(c);
    const admission = reportLimiter.admit(ip);
    if (!admission.ok) {
      const err = new ApiError(
        429,
        "too_many_requests",
        `more than ${REPORTS_PER_WINDOW} QoS reports in ${REPORT_WINDOW_MS} ms from ${ip}; ` +
          `retry in ${Math.ceil(admission.retryAfterMs)} ms`,
      );
      return c.json(err.toJSON(), 429, {
        "Retry-After": String(Math.ceil(admission.retryAfterMs / 1000)),
      });
    }
    const r = parseWith(QosReport, await readJson(c));
    if (!r.ok) throw badRequest("invalid_value", r.message);
    const session = ctx.sessions.get(r.value.client_id);
    if (!session) {
      throw new ApiError(404, "unknown_client", `no session with client_id ${r.value.client_id}`);
    }
    if (session.ip !== ip) {
      throw new ApiError(
        403,
        "wrong_address",
        `client_id ${r.value.client_id} belongs to another address; report from the session's own`,
      );
    }
    ctx.sessions.recordQos(r.value);
    ctx.onQos?.(r.value);
    return c.json({
      status: "ok",
      server_metrics: {
        total_clients: ctx.sessions.streamingCount,
        total_packets_sent: ctx.engine.totalPackets,
        server_cpu_usage: round1(ctx.metrics.cpuPercent),
        server_memory_usage: round1(ProcessMetrics.rssMiB()),
      },
    });
  });

  app.get("/health", (c) => {
    const st = ctx.capture.status;
    const source = currentSource();
    const degraded = st.state === "error" || (ctx.sourceMode !== "test" && source === "test");
    return c.json({
      status: degraded ? "degraded" : "ok",
      source,
      source_state: st.state,
      source_error: st.error,
      source_description: st.description,
      sink_errors: st.sinkErrors,
      alsa_detection: ctx.alsaDetection(),
      streaming_clients: ctx.sessions.streamingCount,
      uptime_s: Math.round((ctx.clock.now() - ctx.startedAt) / 1000),
      config_version: ctx.config().config_version,
      aes67: aes67Health(ctx),
    });
  });

  app.get(
    "/ws",
    upgradeWebSocket((c) =>
      attachClientSocket(ctx, remoteIp(c), c.req.header("user-agent") ?? null)
    ),
  );

  for (const ext of extensions) ext(app, ctx);
  return app;
}

function round1(x: number): number {
  return Math.round(x * 10) / 10;
}

/** /health's `aes67`: whether the output sends, how many streams, and which clock (§13). */
function aes67Health(ctx: ServerContext) {
  return ctx.aes67?.health() ??
    { output: "off", streams: 0, clock: "system", grandmaster: null, domain: null };
}
