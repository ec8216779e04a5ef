/** `m32-server serve`: flags and environment (docs/protocol.md §1, §10) → startServer. */
import { SOURCE_MODES, type SourceMode } from "../audio/source_factory.ts";
import { SENDER_KINDS, type SenderKind } from "../net/create_sender.ts";
import { startServer } from "../server.ts";
import { getLogger } from "../util/log.ts";
import { intOption, parseFlags } from "./flags.ts";

export const SERVE_USAGE = `m32-server serve [flags]
  --http-port N          HTTP + WebSocket port (default 8080, env M32_HTTP_PORT)
  --rtp-port N           RTP source port (default 5004, env M32_RTP_PORT)
  --data-dir DIR         SQLite and state (default ./data, env M32_DATA_DIR)
  --source MODE          auto | alsa | test (default auto, env M32_SOURCE)
  --alsa-device NAME     ALSA PCM name for this run (e.g. hw:X32)
  --heartbeat-timeout S  seconds without a client message before it is dropped
  --hostname ADDR        bind address (default 0.0.0.0)
  --sender KIND          sendmmsg | deno (default sendmmsg)`;

export async function runServe(args: string[]): Promise<number> {
  const { flags } = parseFlags(args, {
    values: [
      "http-port",
      "rtp-port",
      "data-dir",
      "source",
      "alsa-device",
      "heartbeat-timeout",
      "hostname",
      "sender",
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
  const sender = String(flags.sender ?? "sendmmsg") as SenderKind;
  if (!SENDER_KINDS.includes(sender)) {
    throw new Error(`--sender must be one of ${SENDER_KINDS.join(", ")}, got ${sender}`);
  }
  const server = await startServer({
    httpPort: intOption(flags, "http-port", "M32_HTTP_PORT", 8080, 0, 65535),
    rtpPort: intOption(flags, "rtp-port", "M32_RTP_PORT", 5004, 0, 65535),
    dataDir: String(flags["data-dir"] ?? Deno.env.get("M32_DATA_DIR") ?? "./data"),
    source,
    alsaDevice: flags["alsa-device"] === undefined ? undefined : String(flags["alsa-device"]),
    heartbeatTimeoutS: flags["heartbeat-timeout"] === undefined
      ? undefined
      : intOption(flags, "heartbeat-timeout", undefined, 30, 1, 3600),
    hostname: flags.hostname === undefined ? undefined : String(flags.hostname),
    sender,
  });
  const log = getLogger("main");
  const stop = new Promise<string>((resolve) => {
    for (const sig of ["SIGTERM", "SIGINT"] as const) {
      Deno.addSignalListener(sig, () => resolve(sig));
    }
  });
  const sig = await stop;
  log.info("signal received, shutting down", { signal: sig });
  await server.close("server shutting down");
  return 0;
}
