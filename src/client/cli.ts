/**
 * `m32-server client` (contract §10): flags and environment → ReferenceClient.
 * Logs go to stderr; with --json the last stdout line is the summary object.
 */

import { parseArgs } from "node:util";
import type { JitterThresholds } from "./api.ts";
import type { AudioOutput } from "./audio_output.ts";
import { AlsaOutput } from "./alsa_output.ts";
import { type ClientSettings, loadSettings, reconcileChannels, saveSettings } from "./settings.ts";
import { FileSettingsStorage } from "./settings_file.ts";
import type { WavBits } from "./wav.ts";
import { WavFileOutput } from "./wav_file.ts";
import type { Compression } from "./messages.ts";
import { libopusDecoderFactory } from "./opus_ffi.ts";
import { ReferenceClient } from "./session.ts";
import type { ClientSummary } from "./summary.ts";
import { DEFAULT_CLIENT_UDP_PORT, openRtcpChannel, openUdpSource } from "./udp_source.ts";

export const CLIENT_USAGE = `m32-server client [flags]   receive channels and report QoS
  --server URL         server base URL (default http://127.0.0.1:8080)
  --udp-port N         local RTP port (default $UDP_PORT or 5004; 0 = any free port)
  --channels 1,5,32    USB channel ids (default: every mapped channel)
  --compression none|opus   (default none; Opus is decoded with libopus)
  --sample-rate N      48000, 44100, 32000 or 24000 (default: the server's rate)
  --duration S         stop after S seconds (default: until Ctrl-C)
  --json               print the summary as one JSON object (last stdout line)
  --out FILE.wav       write the stereo mix as a WAV file (finalised on exit)
  --bits 16|24         WAV sample size (default 16)
  --play DEVICE        play the stereo mix on an ALSA device (e.g. default, hw:0, null)
  --settings FILE|none per-server client settings (§11 channels, mix, rate, compression);
                       default ~/.config/m32-client/<host_port>.json, or
                       ./m32-client-settings.json without $HOME; "none" = do not load or save
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
  /** --compression was given (it then overrides the stored setting). */
  compressionGiven: boolean;
  sampleRate?: number;
  durationS?: number;
  json: boolean;
  forceDelayMs: number;
  jitterEnv: Partial<JitterThresholds>;
  outPath?: string;
  bits: WavBits;
  playDevice?: string;
  /** null = settings are neither loaded nor saved. */
  settingsPath: string | null;
}

/** The per-server settings file when --settings is not given. */
export function defaultSettingsPath(server: string, home: string | undefined): string {
  const u = new URL(server);
  const name = `${u.hostname}_${u.port || (u.protocol === "https:" ? "443" : "80")}`.replace(
    /[^A-Za-z0-9._-]/g,
    "_",
  );
  return home ? `${home}/.config/m32-client/${name}.json` : "./m32-client-settings.json";
}

/** The settings key of a server URL: "host:port". */
export function serverKey(server: string): string {
  return new URL(server).host;
}

class UsageError extends Error {}

/** Opens every output; one that fails to open is logged and left out. */
function teeOutputs(
  opens: ((rate: number) => AudioOutput)[],
  rate: number,
  log: (line: string) => void,
): AudioOutput {
  const outs: AudioOutput[] = [];
  for (const open of opens) {
    try {
      outs.push(open(rate));
    } catch (e) {
      log(`[PLAY] ${(e as Error).message}`);
    }
  }
  return {
    sampleRate: rate,
    write: (stereo, frames) => outs.forEach((o) => o.write(stereo, frames)),
    close: () => outs.forEach((o) => o.close()),
  };
}

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
        out: { type: "string" },
        bits: { type: "string" },
        play: { type: "string" },
        settings: { type: "string" },
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
  const bitsText = v.bits ?? "16";
  if (bitsText !== "16" && bitsText !== "24") {
    throw new UsageError(`--bits must be 16 or 24, got "${bitsText}"`);
  }
  const settingsPath = v.settings === "none"
    ? null
    : v.settings ?? defaultSettingsPath(server, env("HOME"));
  return {
    outPath: v.out,
    bits: Number(bitsText) as WavBits,
    playDevice: v.play,
    settingsPath,
    compressionGiven: v.compression !== undefined,
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
    `decoded ${s.decoded_packets} decode errors ${s.decode_errors}` +
    (s.encoding === "opus"
      ? ` opus groups concealed ${s.opus_concealed_groups} late ${s.opus_late_groups}`
      : "") +
    (s.undecoded_packets > 0 ? ` undecoded ${s.undecoded_packets}` : ""),
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
    const hint = e instanceof Deno.errors.AddrInUse
      ? " (on the server's own machine its RTP port is taken: use --udp-port 0 for any free port)"
      : "";
    err(`m32-server client: cannot open UDP port ${cfg.udpPort}: ${(e as Error).message}${hint}`);
    return 1;
  }
  // RTCP on udp_port + 1 (docs/protocol.md §5); without it the client still plays.
  let rtcp;
  try {
    rtcp = udp.port < 65535 ? openRtcpChannel(udp.port + 1) : undefined;
  } catch (e) {
    err(`m32-server client: no RTCP (UDP port ${udp.port + 1}: ${(e as Error).message})`);
  }
  const storage = cfg.settingsPath === null ? null : new FileSettingsStorage(cfg.settingsPath);
  const settings: ClientSettings = storage
    ? loadSettings(storage, serverKey(cfg.server))
    : loadSettings({ getItem: () => null, setItem: () => {} }, serverKey(cfg.server));
  if (cfg.sampleRate !== undefined) settings.sample_rate = cfg.sampleRate;
  if (cfg.compressionGiven) settings.compression = cfg.compression;
  const requested = cfg.channels ??
    (settings.channels.length > 0 ? settings.channels.map((c) => c.id) : undefined);
  const outputs: ((rate: number) => AudioOutput)[] = [];
  if (cfg.outPath !== undefined) {
    const path = cfg.outPath;
    outputs.push((rate) => new WavFileOutput(path, rate, cfg.bits));
  }
  if (cfg.playDevice !== undefined) {
    const dev = cfg.playDevice;
    outputs.push((rate) => new AlsaOutput(dev, rate, err));
  }
  const client = new ReferenceClient({
    server: cfg.server,
    udp,
    rtcp,
    channels: requested,
    channelSettings: settings.channels,
    master: settings.master,
    groups: settings.groups,
    compression: settings.compression,
    sampleRate: settings.sample_rate ?? undefined,
    forceDelayMs: cfg.forceDelayMs,
    jitterEnv: cfg.jitterEnv,
    openOutput: outputs.length === 0 ? undefined : (rate) => teeOutputs(outputs, rate, err),
    log: err,
    opusDecoder: libopusDecoderFactory,
  }).start();
  if (cfg.settingsPath !== null) err(`[CFG] settings ${cfg.settingsPath}`);
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
  if (storage !== null && client.meta !== null) {
    const mapped = client.meta.channels.filter((c) =>
      requested === undefined || requested.includes(c.id)
    );
    reconcileChannels(settings, mapped);
    try {
      await Deno.mkdir(cfg.settingsPath!.replace(/\/[^/]*$/, "") || ".", { recursive: true });
      saveSettings(storage, settings);
    } catch (e) {
      err(`[CFG] cannot save settings to ${cfg.settingsPath}: ${(e as Error).message}`);
    }
  }
  if (cfg.json) out(JSON.stringify(summary));
  else for (const line of humanSummary(summary)) out(line);
  if (summary.error !== null) return 1;
  return summary.packets_received > 0 ? 0 : 1;
}
