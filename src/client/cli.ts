/**
 * `m32-server client` (contract §10): flags and environment → ReferenceClient.
 * Logs go to stderr; with --json the last stdout line is the summary object.
 */

import { parseArgs } from "node:util";
import type { JitterThresholds } from "./api.ts";
import type { Compression } from "./messages.ts";
import { ReferenceClient } from "./session.ts";
import type { ClientSummary } from "./summary.ts";
import { DEFAULT_CLIENT_UDP_PORT, openUdpSource } from "./udp_source.ts";

export const CLIENT_USAGE = `m32-server client [flags]   receive channels and report QoS
  --server URL         server base URL (default http://127.0.0.1:8080)
  --udp-port N         local RTP port (default $UDP_PORT or 5004; 0 = any free port)
  --channels 1,5,32    USB channel ids (default: every mapped channel)
  --compression none|opus   (default none; Opus is counted but not decoded yet)
  --sample-rate N      48000, 44100, 32000 or 24000 (default: the server's rate)
  --duration S         stop after S seconds (default: until Ctrl-C)
  --json               print the summary as one JSON object (last stdout line)
environment: UDP_PORT, FORCE_DELAY_MS, JITTER_INTERPOLATE_MS, JITTER_DROP_MS`;

const SAMPLE_RATES = [48000, 44100, 32000, 24000];
const MAX_CHANNEL = 32;

export interface ClientCliIo {
  env?: (name: string) => string | undefined;
  stdout?: (line: string) => void;
  stderr?: (line: string) => void;
}

export interface ClientCliConfig {
  server: string;
  udpPort: number;
  channels?: number[];
  compression: Compression;
  sampleRate?: number;
  durationS?: number;
  json: boolean;
  forceDelayMs: number;
  jitterEnv: Partial<JitterThresholds>;
}

class UsageError extends Error {}

function intIn(v: string, what: string, lo: number, hi: number): number {
  if (!/^\d+$/.test(v.trim())) throw new UsageError(`${what} must be an integer, got "${v}"`);
  const n = Number(v);
  if (n < lo || n > hi) throw new UsageError(`${what} must be ${lo}–${hi}, got ${n}`);
  return n;
}

/** Flags and environment → a checked configuration; throws UsageError with a sentence. */
export function parseClientArgs(
  args: string[],
  env: (name: string) => string | undefined,
): ClientCliConfig | "help" {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: {
        server: { type: "string" },
        "udp-port": { type: "string" },
        channels: { type: "string" },
        compression: { type: "string" },
        "sample-rate": { type: "string" },
        duration: { type: "string" },
        json: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const v = parsed.values;
  if (v.help) return "help";
  const server = v.server ?? "http://127.0.0.1:8080";
  try {
    const u = new URL(server);
    if (u.protocol !== "http:" && u.protocol !== "https:") throw new Error();
  } catch {
    throw new UsageError(`--server must be an http:// URL, got "${server}"`);
  }
  const portText = v["udp-port"] ?? env("UDP_PORT");
  const udpPort = portText === undefined || portText === ""
    ? DEFAULT_CLIENT_UDP_PORT
    : intIn(portText, v["udp-port"] !== undefined ? "--udp-port" : "UDP_PORT", 0, 65535);
  let channels: number[] | undefined;
  if (v.channels !== undefined) {
    channels = v.channels.split(",").map((s) => intIn(s, "a --channels id", 1, MAX_CHANNEL));
    if (new Set(channels).size !== channels.length) {
      throw new UsageError(`--channels lists a channel twice: ${v.channels}`);
    }
  }
  const compression = v.compression ?? "none";
  if (compression !== "none" && compression !== "opus") {
    throw new UsageError(`--compression must be none or opus, got "${compression}"`);
  }
  let sampleRate: number | undefined;
  if (v["sample-rate"] !== undefined) {
    sampleRate = intIn(v["sample-rate"], "--sample-rate", 1, 192000);
    if (!SAMPLE_RATES.includes(sampleRate)) {
      throw new UsageError(
        `--sample-rate must be one of ${SAMPLE_RATES.join(", ")}, got ${sampleRate}`,
      );
    }
  }
  let durationS: number | undefined;
  if (v.duration !== undefined) {
    durationS = Number(v.duration);
    if (!(durationS > 0)) {
      throw new UsageError(`--duration must be > 0 seconds, got "${v.duration}"`);
    }
  }
  const delayText = env("FORCE_DELAY_MS");
  const forceDelayMs = delayText ? intIn(delayText, "FORCE_DELAY_MS", 0, 60_000) : 0;
  const jitterEnv: Partial<JitterThresholds> = {};
  const ji = env("JITTER_INTERPOLATE_MS");
  const jd = env("JITTER_DROP_MS");
  if (ji) jitterEnv.interpolate = intIn(ji, "JITTER_INTERPOLATE_MS", 1, 10_000);
  if (jd) jitterEnv.drop = intIn(jd, "JITTER_DROP_MS", 1, 10_000);
  return {
    server,
    udpPort,
    channels,
    compression,
    sampleRate,
    durationS,
    json: v.json ?? false,
    forceDelayMs,
    jitterEnv,
  };
}

function humanSummary(s: ClientSummary): string[] {
  const lat = s.latency_ms === null ? "n/a" : `${s.latency_ms} ms`;
  return [
    `channels ${s.channels.join(",")} @ ${s.sample_rate ?? "?"} Hz ${s.encoding ?? ""} ssrc ${
      s.ssrc ?? "?"
    }`,
    `packets ${s.packets_received}/${s.packets_expected} lost ${s.packets_lost} (${
      (s.packet_loss_rate * 100).toFixed(2)
    }%) jitter ${s.jitter_ms} ms latency ${lat}`,
    `reconnects ${s.reconnects} concealed ${s.concealed_packets} dropped ${s.dropped_packets}` +
    ` values ${JSON.stringify(s.values)}`,
  ];
}

/** Runs the client; returns the exit code (0 ok, 1 no audio or gave up, 2 bad usage). */
export async function runClientCli(args: string[], io: ClientCliIo = {}): Promise<number> {
  const env = io.env ?? ((name: string) => Deno.env.get(name));
  const out = io.stdout ?? ((line: string) => console.log(line));
  const err = io.stderr ?? ((line: string) => console.error(line));
  let cfg: ClientCliConfig;
  try {
    const r = parseClientArgs(args, env);
    if (r === "help") {
      out(CLIENT_USAGE);
      return 0;
    }
    cfg = r;
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    err(`m32-server client: ${e.message}\n${CLIENT_USAGE}`);
    return 2;
  }
  let udp;
  try {
    udp = openUdpSource(cfg.udpPort);
  } catch (e) {
    err(`m32-server client: cannot open UDP port ${cfg.udpPort}: ${(e as Error).message}`);
    return 1;
  }
  const client = new ReferenceClient({
    server: cfg.server,
    udp,
    channels: cfg.channels,
    compression: cfg.compression,
    sampleRate: cfg.sampleRate,
    forceDelayMs: cfg.forceDelayMs,
    jitterEnv: cfg.jitterEnv,
    log: err,
  }).start();
  err(
    `[RTP] listening on udp port ${client.udpPort}` +
      (cfg.forceDelayMs > 0 ? `, FORCE_DELAY_MS=${cfg.forceDelayMs}` : ""),
  );
  const onSignal = () => void client.stop();
  const signals: Deno.Signal[] = Deno.build.os === "windows" ? ["SIGINT"] : ["SIGINT", "SIGTERM"];
  for (const s of signals) Deno.addSignalListener(s, onSignal);
  const timer = cfg.durationS !== undefined
    ? setTimeout(() => void client.stop(), cfg.durationS * 1000)
    : undefined;
  try {
    await client.whenStopped();
  } finally {
    if (timer !== undefined) clearTimeout(timer);
    for (const s of signals) Deno.removeSignalListener(s, onSignal);
  }
  const summary = await client.stop();
  if (cfg.json) out(JSON.stringify(summary));
  else for (const line of humanSummary(summary)) out(line);
  if (summary.error !== null) return 1;
  return summary.packets_received > 0 ? 0 : 1;
}
