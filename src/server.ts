/**
 * The server, composed of named parts (src/server/):
 *
 *   config store ─► audio path (RTP socket, engine, capture)   audio_pipeline.ts
 *               └─► control plane (sessions, config changes,   control_plane.ts
 *                   adaptation, metrics, stats lines)
 *               └─► AES67 output, and source reopens on AES67   aes67_policy.ts
 *                   settings
 *               └─► web (HTTP, HTTPS, WebTransport, admin)      web_service.ts
 *
 * Each part registers its closer as soon as it is open. Shutdown and a start
 * that fails half-way both run them newest first (src/util/closers.ts), so a failed
 * start leaves no socket, timer or database handle behind.
 */
import { effectiveSourceMode } from "./audio/source_factory.ts";
import { installAdmin, openAdminAuth } from "./admin/mod.ts";
import { assembleAes67Input } from "./aes67/mod.ts";
import { ConfigStore } from "./config/store.ts";
import { createApp } from "./http/app.ts";
import type { ServerContext } from "./http/context.ts";
import { listenerExtension } from "./listener/mod.ts";
import { startAes67 } from "./server/aes67_policy.ts";
import { assembleAudio } from "./server/audio_pipeline.ts";
import { Closers } from "./util/closers.ts";
import { assembleControl, warnSourceError } from "./server/control_plane.ts";
import { type RunningServer, type ServerOptions, withOverrides } from "./server/options.ts";
import { WebService } from "./server/web_service.ts";
import { systemClock } from "./util/clock.ts";
import { getLogger } from "./util/log.ts";

export type { RunningServer, ServerOptions } from "./server/options.ts";

export async function startServer(opts: ServerOptions): Promise<RunningServer> {
  const log = getLogger("server");
  const clock = opts.clock ?? systemClock;
  const hostname = opts.hostname ?? "0.0.0.0";
  const closers = new Closers(log);
  try {
    const store = ConfigStore.open(opts.dataDir);
    closers.add("database", () => store.close());
    const config = () => withOverrides(store.get(), opts);
    const channels = () => store.getChannels();

    const aes67In = await assembleAes67Input(
      {
        input: opts.aes67,
        sap: opts.sap,
        configuredSession: () => config().aes67.input.session,
      },
      getLogger("aes67"),
      closers,
    );
    const audio = await assembleAudio({
      ...opts,
      aes67Input: aes67In.input,
      hostname,
      clock,
      config,
      log,
      onCaptureStatus: (st) => warnSourceError(control.sessions, st),
      // One client's failure ends that session only (no client exists before `control`).
      onClientError: (id, error) => control.sessions.streamFailed(id, error),
    }, closers);
    const control = assembleControl(
      { ...opts, hostname, clock, store, config, channels, log },
      audio,
      closers,
    );
    const { sessions } = control;

    const aes67 = await startAes67(
      { config, channels, store, audio, sourceIsAes67: opts.source === "aes67" },
      closers,
    );

    const web = new WebService({
      ...opts,
      hostname,
      store,
      clock: opts.tlsClock ?? clock,
      busy: () => sessions.list().length > 0,
      log,
    }, closers);
    const auth = openAdminAuth(store, clock, log, { initialPassword: opts.adminPassword });
    const { engine, capture, alsa, sender } = audio;
    const ctx: ServerContext = {
      store,
      clock,
      log,
      engine,
      capture,
      sessions,
      config,
      channels,
      metrics: control.metrics,
      startedAt: clock.now(),
      rtpPort: sender.localPort,
      httpPort: () => web.httpPort,
      get sourceMode() {
        return effectiveSourceMode(opts.source, config());
      },
      engineFeatures: audio.features,
      alsaDetection: () => alsa.detection,
      consoleMissing: () => alsa.found === false,
      onQos: control.adaptation.onQos,
      changeReason: control.changeReason,
      https: web.https,
      aes67,
      isAdmin: (c) => auth.isAdmin(c),
    };
    const admin = installAdmin(ctx, auth);
    closers.add("admin", () => admin.close());
    const webtransport = () => web.webtransport.current();
    await web.serve(createApp(ctx, [
      admin.extension,
      aes67In.extension,
      listenerExtension({ webtransport, hostname: opts.hostname }),
      ...(opts.extensions ?? []),
    ]));

    // Registered last, so it runs first: every client hears why before its socket closes.
    let shutdownReason = "";
    closers.add("sessions", () => {
      sessions.endAll(shutdownReason, { type: "server_shutdown", reason: shutdownReason });
    });
    let stopped: Promise<void> | null = null;
    const close = (reason = "server shutting down"): Promise<void> => {
      if (!stopped) {
        shutdownReason = reason;
        stopped = closers.closeAll().then(() => log.info("server stopped", { reason }));
      }
      return stopped;
    };
    const local = hostname !== "0.0.0.0" ? hostname : "127.0.0.1";
    const httpPort = web.httpPort;
    return { httpPort, rtpPort: sender.localPort, url: `http://${local}:${httpPort}`, ctx, close };
  } catch (e) {
    log.error("start failed", { error: e as Error, closing: closers.names.reverse().join(", ") });
    await closers.closeAll();
    throw e;
  }
}
