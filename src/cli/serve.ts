/** `m32-server serve`: flags and environment (docs/protocol.md §1, §10) → startServer. */
import { SOURCE_MODES, type SourceMode } from "../audio/source_factory.ts";
import { SENDER_KINDS, type SenderKind } from "../net/create_sender.ts";
import { startServer } from "../server.ts";
import { AUDIO_PLANES, type AudioPlaneKind } from "../plane/audio_plane.ts";
import { preflight } from "../system/preflight.ts";
import { SdNotifier } from "../system/sd_notify.ts";
import { installProcessGuard } from "../system/process_guard.ts";
import { getLogger } from "../util/log.ts";
import { intOption, parseFlags } from "./flags.ts";

/** Where the audio path runs unless told (the help text says so from this constant). */
export const DEFAULT_AUDIO_PLANE: AudioPlaneKind = "worker";

export const SERVE_USAGE = `m32-server serve [flags]
  --http-port N          HTTP + WebSocket port (default 8080, env M32_HTTP_PORT)
  --rtp-port N           RTP source port (default 5004, env M32_RTP_PORT)
  --data-dir DIR         SQLite and state (default ./data, env M32_DATA_DIR)
  --source MODE          auto | alsa | test | aes67 (default auto, env M32_SOURCE)
  --alsa-device NAME     ALSA PCM name for this run (e.g. hw:X32)
  --aes67-session S      with --source aes67: a sender's name (all its streams), one
                         stream's whole s= line, or an SDP file (env M32_AES67_SESSION)
  --aes67-interface ADDR address of the interface to join AES67 groups and SAP on
                         (default: the interface the kernel routes multicast to)
  --heartbeat-timeout S  seconds without a client message before it is dropped
  --hostname ADDR        bind address (default 0.0.0.0)
  --sender KIND          sendmmsg | deno (default sendmmsg)
  --audio-plane WHERE    worker | main: where capture → engine → UDP runs (default ${DEFAULT_AUDIO_PLANE},
                         env M32_AUDIO_PLANE): worker = a real-time thread the control plane
                         cannot stall; main = the main thread, beside HTTP and WebSockets`;

/** Longest graceful shutdown before the process exits anyway (the unit's TimeoutStopSec is 10 s). */
export const SHUTDOWN_TIMEOUT_MS = 5000;

export async function runServe(args: string[]): Promise<number> {
  const { flags } = parseFlags(args, {
    values: [
      "http-port",
      "rtp-port",
      "data-dir",
      "source",
      "alsa-device",
      "aes67-session",
      "aes67-interface",
      "heartbeat-timeout",
      "hostname",
      "sender",
      "audio-plane",
    ],
    switches: ["help"],
  });
  if (flags.help) {
    console.log(SERVE_USAGE);
    return 0;
  }
  const source = String(flags.source ?? Deno.env.get("M32_SOURCE") ?? "auto") as SourceMode;
  if (!SOURCE_MODES.includes(source)) {
    throw new Error(`--source must be one of ${SOURCE_MODES.join(", ")}, got ${source}`);
  }
  const aes67Session = String(flags["aes67-session"] ?? Deno.env.get("M32_AES67_SESSION") ?? "");
  if (source === "aes67" && aes67Session.trim() === "") {
    throw new Error(
      "--source aes67 needs --aes67-session (a sender's name, an s= line or an SDP file)",
    );
  }
  const aes67Interface = flags["aes67-interface"] === undefined
    ? undefined
    : String(flags["aes67-interface"]);
  const sender = String(flags.sender ?? "sendmmsg") as SenderKind;
  if (!SENDER_KINDS.includes(sender)) {
    throw new Error(`--sender must be one of ${SENDER_KINDS.join(", ")}, got ${sender}`);
  }
  const audioPlane = String(
    flags["audio-plane"] ?? Deno.env.get("M32_AUDIO_PLANE") ?? DEFAULT_AUDIO_PLANE,
  ) as AudioPlaneKind;
  if (!AUDIO_PLANES.includes(audioPlane)) {
    throw new Error(`--audio-plane must be one of ${AUDIO_PLANES.join(", ")}, got ${audioPlane}`);
  }
  const log = getLogger("main");
  // One uncaught exception or rejection must not end the gig (systemd's watchdog judges a stuck loop).
  const guard = installProcessGuard(log);
  const checked = preflight(source);
  for (const w of checked.warnings) log.warn(w);
  if (checked.fatal.length > 0) throw new Error(checked.fatal.join("; "));
  const notifier = SdNotifier.fromEnv((e, count) => {
    if (count === 1 || count % 100 === 0) log.warn("sd_notify failed", { error: e, count });
  });
  // Listen before starting, so a stop request during start-up is not lost.
  // The first signal starts the graceful shutdown; a second one cuts it short.
  let signalled!: (sig: string) => void;
  let forced!: (v: "forced") => void;
  const stop = new Promise<string>((resolve) => (signalled = resolve));
  const secondSignal = new Promise<"forced">((resolve) => (forced = resolve));
  let signals = 0;
  const listeners = (["SIGTERM", "SIGINT"] as const).map((sig) => {
    const f = () => (++signals === 1 ? signalled(sig) : forced("forced"));
    Deno.addSignalListener(sig, f);
    return [sig, f] as const;
  });
  const server = await startServer({
    httpPort: intOption(flags, "http-port", "M32_HTTP_PORT", 8080, 0, 65535),
    rtpPort: intOption(flags, "rtp-port", "M32_RTP_PORT", 5004, 0, 65535),
    dataDir: String(flags["data-dir"] ?? Deno.env.get("M32_DATA_DIR") ?? "./data"),
    source,
    alsaDevice: flags["alsa-device"] === undefined ? undefined : String(flags["alsa-device"]),
    aes67: aes67Session === ""
      ? undefined
      : { session: aes67Session, interfaceAddress: aes67Interface },
    sap: aes67Interface === undefined ? undefined : { interfaceAddress: aes67Interface },
    heartbeatTimeoutS: flags["heartbeat-timeout"] === undefined
      ? undefined
      : intOption(flags, "heartbeat-timeout", undefined, 30, 1, 3600),
    hostname: flags.hostname === undefined ? undefined : String(flags.hostname),
    sender,
    audioPlane,
  });
  notifier.ready(
    `serving: http port ${server.httpPort}, rtp port ${server.rtpPort}, source ${source}`,
  );
  notifier.startWatchdog();
  const sig = await stop;
  log.info("signal received, shutting down", { signal: sig });
  notifier.stopping();
  notifier.stopWatchdog();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const outcome = await Promise.race([
    server.close("server shutting down").then(() => "closed" as const),
    new Promise<"timeout">((r) => (timer = setTimeout(() => r("timeout"), SHUTDOWN_TIMEOUT_MS))),
    secondSignal,
  ]);
  clearTimeout(timer);
  if (outcome !== "closed") {
    log.warn("graceful shutdown incomplete; exiting anyway", {
      reason: outcome,
      waited_ms: outcome === "timeout" ? SHUTDOWN_TIMEOUT_MS : undefined,
    });
  }
  for (const [sig, f] of listeners) Deno.removeSignalListener(sig, f);
  notifier.close();
  guard.uninstall();
  return 0;
}
