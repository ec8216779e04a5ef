/**
 * Wires the server together: config store → capture → engine → sender, the
 * session manager, and the HTTP/WebSocket app; runs the periodic jobs
 * (heartbeat sweep, RTP stats) and shuts down gracefully.
 */
import { ConfigStore } from "./config/store.ts";
import type { ChannelConfig, Config } from "./config/types.ts";
import { CaptureController } from "./audio/capture.ts";
import type { AlsaOpenRequest, SourceMode } from "./audio/source_factory.ts";
import type { Source } from "./audio/source.ts";
import { SessionManager } from "./session/sessions.ts";
import type { SenderKind } from "./net/create_sender.ts";
import { type AudioPlaneKind, openAudioPlane } from "./plane/audio_plane.ts";
import { localAddressFor } from "./net/local_address.ts";
import { ProcessMetrics } from "./qos/process_metrics.ts";
import { type AppExtension, createApp } from "./http/app.ts";
import type { ServerContext } from "./http/context.ts";
import { type Clock, cryptoRandom, type Random, systemClock } from "./util/clock.ts";
import { getLogger } from "./util/log.ts";
import { AlsaOpener } from "./audio/alsa_opener.ts";
import { libopus } from "../ffi/libopus.ts";
import { libsamplerate } from "../ffi/libsamplerate.ts";

/** Whether a native library loads; the reason is logged once when it does not. */
function probe(what: string, load: () => unknown, log: ReturnType<typeof getLogger>): boolean {
  try {
    load();
    return true;
  } catch (e) {
    log.warn(`${what} unavailable`, { error: e as Error });
    return false;
  }
}

import { installAdmin } from "./admin/mod.ts";
import { listenerExtension } from "./listener/mod.ts";
import { WebTransportService } from "./listener/webtransport.ts";
import { AdaptationService } from "./qos/adaptation_service.ts";
import { HttpsService } from "./tls/https_service.ts";

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
  /** Where capture → engine → UDP runs (src/plane/audio_plane.ts; default "main"). */
  audioPlane?: AudioPlaneKind;
}

export interface RunningServer {
  httpPort: number;
  rtpPort: number;
  url: string;
  ctx: ServerContext;
  /** Tells every client `server_shutdown`, stops audio, closes sockets and the database. */
  close(reason?: string): Promise<void>;
}

/**
 * The parts of the configuration that change what is on the wire. Channel
 * names are not among them: RTP carries ids, so a rename never cuts a
 * musician's audio (clients see the new name in /audio-meta).
 */
function wireSignature(cfg: Config, channels: ChannelConfig[]): string {
  const mapping = channels.map((c) => [c.id, c.enabled, c.order]);
  return JSON.stringify([cfg.audio, cfg.network, cfg.alsa, mapping]);
}

export async function startServer(opts: ServerOptions): Promise<RunningServer> {
  const log = getLogger("server");
  const clock = opts.clock ?? systemClock;
  const random = opts.random ?? cryptoRandom;
  const store = ConfigStore.open(opts.dataDir);

  const config = (): Config => {
    const cfg = store.get();
    if (opts.heartbeatTimeoutS !== undefined) {
      cfg.network.heartbeat_timeout_s = opts.heartbeatTimeoutS;
    }
    if (opts.alsaDevice !== undefined) cfg.alsa.device = opts.alsaDevice;
    return cfg;
  };
  const channels = () => store.getChannels();
  let cfg = config();

  const canResample = probe("resampling (libsamplerate)", libsamplerate, log);
  const canOpus = probe("Opus (libopus)", libopus, log);
  const plane = await openAudioPlane(opts.audioPlane ?? "main", {
    sender: opts.sender ?? "sendmmsg",
    hostname: opts.hostname ?? "0.0.0.0",
    port: opts.rtpPort,
    cfg,
    resample: canResample,
    opus: canOpus,
    clock,
    log,
  });
  const { engine, sender } = plane;
  log.info("rtp socket open", {
    port: sender.localPort,
    sender: sender.kind,
    dscp: cfg.network.dscp,
    audio_plane: plane.kind,
  });

  const alsa = new AlsaOpener(clock, getLogger("alsa"));
  if (opts.source !== "test" && !opts.createAlsa && cfg.audio.test_mode === "off") {
    // Say at start what the installer will get, not only when the first phone connects.
    alsa.detect(cfg.alsa.device);
    if (alsa.found === false && opts.source === "auto") {
      log.warn("no console found: phones will get the TEST SIGNAL until one is plugged in", {
        reason: alsa.detection,
      });
    }
  }
  const capture = new CaptureController({
    candidates: () => plane.candidates(opts.source, config(), alsa, opts.createAlsa),
    sink: plane.sink,
    log: getLogger("capture"),
    onStatus: (st) => {
      if (st.state === "error") {
        sessions.broadcast({
          type: "network_warning",
          reason: `audio source error: ${st.error}`,
          source: st.source,
          source_state: st.state,
        }, (s) => s.stream !== null);
      }
    },
  });

  const syncCapture = () => {
    if (engine.active) capture.start();
    else capture.stop();
  };

  const sessions: SessionManager = new SessionManager({
    clock,
    random,
    log: getLogger("session"),
    engine,
    config,
    channels,
    deviceChannels: () => capture.status.channels,
    canProduceRate: (rate) => canResample || rate === config().audio.native_sample_rate,
    opusAvailable: () => canOpus,
    serverIpFor: (
      ip,
    ) => (opts.hostname && opts.hostname !== "0.0.0.0" ? opts.hostname : localAddressFor(ip)),
    onStreamingChange: syncCapture,
  });

  const metrics = new ProcessMetrics();
  metrics.start();

  let httpPort = opts.httpPort;
  let pendingReason: string | null = null;
  // The optional HTTPS listener serves the same app as plain HTTP (set once the app exists).
  let appFetch: Deno.ServeHandler<Deno.NetAddr> = () => new Response(null, { status: 503 });
  const https = new HttpsService({
    settings: () => store.get().https,
    handler: (req, info) => appFetch(req, info),
    hostname: opts.hostname ?? "0.0.0.0",
    dir: `${opts.dataDir}/tls`,
    clock: opts.tlsClock ?? clock,
    log: getLogger("https"),
    // Swapping the listener closes its WebSockets: a renewed certificate waits for no client.
    busy: () => sessions.list().length > 0,
  });
  const ctx: ServerContext = {
    store,
    clock,
    log,
    engine,
    capture,
    sessions,
    metrics,
    startedAt: clock.now(),
    rtpPort: sender.localPort,
    httpPort: () => httpPort,
    config,
    channels,
    sourceMode: opts.source,
    engineFeatures: { opus: canOpus, resample: canResample },
    alsaDetection: () => alsa.detection,
    consoleMissing: () => alsa.found === false,
    isAdmin: () => false,
    changeReason: (reason) => (pendingReason = reason),
    https,
  };

  // A change to anything on the wire ends every session with config_changed.
  let signature = wireSignature(cfg, channels());
  const unsubscribe = store.onChange((next) => {
    const sig = wireSignature(config(), channels());
    if (sig === signature) {
      // The write that set this reason changed nothing on the wire: it must not label the next one.
      pendingReason = null;
      return;
    }
    signature = sig;
    const prev = cfg;
    cfg = config();
    engine.configure(cfg.network.ext_interval_ms, cfg.audio.max_datagram_bytes);
    if (prev.network.dscp !== cfg.network.dscp) sender.setDscp(cfg.network.dscp);
    const event: Record<string, unknown> = {
      type: "config_changed",
      reason: pendingReason ?? "configuration changed",
      config_version: next.config_version,
    };
    if (prev.audio.sample_rate !== cfg.audio.sample_rate) {
      event.new_sample_rate = cfg.audio.sample_rate;
    }
    pendingReason = null;
    const n = sessions.endAll("configuration changed", event);
    log.info("configuration changed", { config_version: next.config_version, sessions_ended: n });
    capture.stop();
  });
  const adaptation = new AdaptationService({
    ctx,
    sendStats: () => sender.stats,
    log: getLogger("adaptation"),
  });
  ctx.onQos = adaptation.onQos;
  adaptation.start();
  const admin = installAdmin(ctx, { initialPassword: opts.adminPassword });
  // WebTransport (listener page on HTTPS): a QUIC endpoint on the HTTPS port's number, over UDP.
  const webtransport = new WebTransportService({
    hostname: opts.hostname ?? "0.0.0.0",
    tls: () => https.tls,
    httpsPort: () => https.listeningPort,
    log: getLogger("webtransport"),
  });
  const offWebTransport = https.onChange(() => webtransport.sync());
  const app = createApp(ctx, [
    admin.extension,
    listenerExtension({ webtransport: () => webtransport.current() }),
    ...(opts.extensions ?? []),
  ]);
  const http = Deno.serve({
    port: opts.httpPort,
    hostname: opts.hostname ?? "0.0.0.0",
    onListen: () => {},
  }, app.fetch);
  httpPort = http.addr.port;
  log.info("http listening", { url: `http://${opts.hostname ?? "0.0.0.0"}:${httpPort}/` });
  appFetch = (req, info) => app.fetch(req, info);
  const offHttps = store.onChange(() => void https.apply());
  await https.apply();
  webtransport.sync();

  const sweepTimer = setInterval(() => sessions.sweep(), 1000);
  const statsLog = getLogger("stream");
  const statsIntervalMs = (opts.statsIntervalS ?? 10) * 1000;
  const lastPackets = new Map<string, number>();
  const statsTimer = setInterval(() => {
    for (const s of sessions.list()) {
      if (!s.stream) continue;
      const prev = lastPackets.get(s.id) ?? 0;
      lastPackets.set(s.id, s.stream.packetsSent);
      const m = s.qos?.metrics;
      statsLog.info("RTP stats", {
        client: s.id,
        dest: `${s.ip}:${s.udpPort}`,
        ssrc: s.ssrc >>> 0,
        packets_sent: s.stream.packetsSent,
        pps: Math.round(((s.stream.packetsSent - prev) * 1000) / statsIntervalMs),
        kbytes_sent: Math.round(s.stream.bytesSent / 1024),
        loss_pct: m ? m.packet_loss_rate * 100 : undefined,
        jitter_ms: m?.jitter_ms,
        latency_ms: m?.latency_ms,
      });
    }
    for (const id of lastPackets.keys()) if (!sessions.get(id)) lastPackets.delete(id);
    if (engine.active) {
      statsLog.info("engine stats", {
        clients: sessions.streamingCount,
        capture_to_wire_p50_ms: engine.captureToWire.percentile(50),
        capture_to_wire_p99_ms: engine.captureToWire.percentile(99),
        send_errors: sender.stats.errors,
        cpu_pct: metrics.cpuPercent,
      });
    }
  }, statsIntervalMs);

  let closed = false;
  const close = async (reason = "server shutting down") => {
    if (closed) return;
    closed = true;
    clearInterval(sweepTimer);
    clearInterval(statsTimer);
    adaptation.stop();
    unsubscribe();
    sessions.endAll(reason, { type: "server_shutdown", reason });
    admin.close();
    await capture.stop();
    metrics.stop();
    offHttps();
    offWebTransport();
    webtransport.close();
    await https.close();
    await http.shutdown();
    await plane.close();
    store.close();
    log.info("server stopped", { reason });
  };

  return {
    httpPort,
    rtpPort: sender.localPort,
    url: `http://${
      opts.hostname && opts.hostname !== "0.0.0.0" ? opts.hostname : "127.0.0.1"
    }:${httpPort}`,
    ctx,
    close,
  };
}
