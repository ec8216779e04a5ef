/**
 * The typed configuration, shaped exactly like `GET /api/admin/config`
 * (docs/protocol.md §9). Stored in SQLite by ./store.ts.
 */

export const SAMPLE_RATES = [48000, 44100, 32000, 24000] as const;
export type SampleRate = typeof SAMPLE_RATES[number];
export const NATIVE_SAMPLE_RATES = [48000, 44100] as const;
export const ENCODINGS = ["L16", "L24"] as const;
export type Encoding = typeof ENCODINGS[number];
export const PTIMES_MS = [1, 2.5, 5, 10, 20] as const;
export const TEST_MODES = ["off", "id", "tone"] as const;
export type TestMode = typeof TEST_MODES[number];
export const COMPRESSIONS = ["none", "opus"] as const;
export type Compression = typeof COMPRESSIONS[number];

export const CHANNEL_COUNT = 32;
export const CHANNEL_NAME_MAX = 32;

export interface AudioConfig {
  native_sample_rate: number;
  sample_rate: number;
  encoding: Encoding;
  ptime_ms: number;
  max_datagram_bytes: number;
  test_mode: TestMode;
}

export interface NetworkConfig {
  dscp: number;
  max_clients: number;
  heartbeat_timeout_s: number;
  ext_interval_ms: number;
}

export interface JitterThresholds {
  interpolate: number;
  drop: number;
}

export interface AdaptationConfig {
  enabled: boolean;
  latency_ms: number;
  hold_s: number;
  recover_hold_s: number;
}

export interface AlsaConfig {
  /** ALSA PCM name as given (`hw:X32`, `plughw:1,0`, a PCM from asoundrc); "" = find the console. */
  device: string;
}

/** The optional HTTPS listener page (docs/admin.md "Secure listener page"). */
export interface HttpsConfig {
  /** Off by default: plain http:// needs no certificate warning on phones. */
  enabled: boolean;
  /** TCP port of the HTTPS listener (the plain HTTP port keeps serving). */
  port: number;
}

/** AES67 output (docs/protocol.md §13, docs/aes67.md): multicast RTP L24 on the wired interface. */
export interface Aes67OutputConfig {
  enabled: boolean;
  /** Network interface name; "" = the default route's. */
  interface: string;
  /** Stream k goes to this IPv4 multicast address + k. */
  multicast_base: string;
  /** Packet time in µs: one of AES67_PTIMES_US. */
  ptime_us: number;
  /** 1–8 channels per stream. */
  channels_per_stream: number;
  ttl: number;
  dscp: number;
  /** The SDP session name's stem: stream k is `<name> <k+1>`. */
  name: string;
}

/** AES67 input as the source (another box's or any AES67 sender's streams). */
export interface Aes67InputConfig {
  enabled: boolean;
  /** A sender's name, one stream's whole `s=` line, or a path to an SDP file. */
  session: string;
}

export interface Aes67Config {
  output: Aes67OutputConfig;
  input: Aes67InputConfig;
}

/** AES67 packet times (µs): 125 µs … 4 ms; 333 is 16 frames at 48 kHz. */
export const AES67_PTIMES_US = [125, 250, 333, 1000, 4000] as const;
export const AES67_MAX_CHANNELS_PER_STREAM = 8;

export interface Config {
  audio: AudioConfig;
  network: NetworkConfig;
  jitter: JitterThresholds;
  adaptation: AdaptationConfig;
  alsa: AlsaConfig;
  https: HttpsConfig;
  aes67: Aes67Config;
  config_version: number;
}

export type ConfigPatch =
  & {
    [K in Exclude<keyof Config, "config_version" | "aes67">]?: Partial<Config[K]>;
  }
  & {
    aes67?: { output?: Partial<Aes67OutputConfig>; input?: Partial<Aes67InputConfig> };
  };

export interface ChannelConfig {
  /** USB channel number 1–32. */
  id: number;
  name: string;
  enabled: boolean;
  order: number;
}

export const DEFAULT_CONFIG: Omit<Config, "config_version"> = {
  audio: {
    native_sample_rate: 48000,
    sample_rate: 48000,
    encoding: "L24",
    ptime_ms: 5,
    max_datagram_bytes: 1400,
    test_mode: "off",
  },
  network: { dscp: 46, max_clients: 20, heartbeat_timeout_s: 30, ext_interval_ms: 5000 },
  jitter: { interpolate: 100, drop: 200 },
  adaptation: { enabled: true, latency_ms: 50, hold_s: 10, recover_hold_s: 60 },
  alsa: { device: "" },
  https: { enabled: false, port: 8443 },
  aes67: {
    output: {
      enabled: false,
      interface: "",
      multicast_base: "239.69.83.1",
      ptime_us: 1000,
      channels_per_stream: 8,
      ttl: 15,
      dscp: 34,
      name: "m32-server",
    },
    input: { enabled: false, session: "" },
  },
};

export function defaultChannelName(id: number): string {
  return `CH${String(id).padStart(2, "0")}`;
}

export function defaultChannels(): ChannelConfig[] {
  return Array.from({ length: CHANNEL_COUNT }, (_, i) => ({
    id: i + 1,
    name: defaultChannelName(i + 1),
    enabled: true,
    order: i + 1,
  }));
}

/** Enabled channels in send order: the mapping every client chooses from. */
export function mappedChannels(channels: readonly ChannelConfig[]): ChannelConfig[] {
  return channels.filter((c) => c.enabled).sort((a, b) => a.order - b.order || a.id - b.id);
}

/** Bytes per sample on the wire for a PCM encoding. */
export function bytesPerSample(encoding: Encoding): 2 | 3 {
  return encoding === "L16" ? 2 : 3;
}
