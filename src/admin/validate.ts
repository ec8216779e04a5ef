/**
 * Every admin write is checked here and only here (valibot): the config
 * patch (`PATCH /api/admin/config`), the channel table (`PUT
 * /api/admin/channels`), the password change and the custom message. A
 * failure is one readable sentence and nothing is written.
 */
import * as v from "valibot";
import {
  AES67_MAX_CHANNELS_PER_STREAM,
  AES67_PTIMES_US,
  type Aes67OutputConfig,
  CHANNEL_COUNT,
  CHANNEL_NAME_MAX,
  type ChannelConfig,
  type Config,
  type ConfigPatch,
  ENCODINGS,
  type HttpsConfig,
  NATIVE_SAMPLE_RATES,
  PTIMES_MS,
  SAMPLE_RATES,
  TEST_MODES,
} from "../config/types.ts";
import { describeIssues } from "../http/schemas.ts";
import {
  AES67_MAX_PAYLOAD_BYTES,
  aes67FramesPerPacket,
  aes67MaxChannelsPerStream,
} from "../aes67/plan.ts";
import { MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH } from "./password.ts";

export const LIMITS = {
  max_datagram_bytes: [256, 1472],
  dscp: [0, 63],
  max_clients: [1, 100],
  heartbeat_timeout_s: [5, 3600],
  /** 0 = an extension on every packet, else 20–60000 ms. */
  ext_interval_ms: [20, 60_000],
  jitter_ms: [1, 10_000],
  latency_ms: [1, 10_000],
  hold_s: [1, 3600],
  recover_hold_s: [1, 86_400],
  alsa_device_chars: 128,
  channel_order: [1, 1000],
  /** The service runs without privileges (systemd DynamicUser): no ports below 1024. */
  https_port: [1024, 65535],
  message_chars: [1, 500],
  aes67_ttl: [1, 255],
  aes67_name_chars: [1, 64],
  aes67_session_chars: 1024,
} as const;

export type Result<T> = { ok: true; value: T } | { ok: false; message: string };

const int = (name: string, [min, max]: readonly [number, number]) =>
  v.pipe(
    v.number(`${name} must be a number`),
    v.integer(`${name} must be an integer`),
    v.minValue(min, `${name} must be at least ${min}`),
    v.maxValue(max, `${name} must be at most ${max}`),
  );

const oneOf = <T extends readonly (string | number)[]>(name: string, options: T) =>
  v.picklist(options, `${name} must be one of ${options.join(", ")}`);

/** valibot's object schemas also accept arrays; JSON bodies here must be plain objects. */
const isRecord = (x: unknown) => typeof x === "object" && x !== null && !Array.isArray(x);

const section = <T extends v.ObjectEntries>(name: string, entries: T) =>
  v.pipe(
    v.custom<Record<string, unknown>>(isRecord, `${name} must be a JSON object`),
    v.strictObject(entries, `unknown key in ${name}; allowed: ${Object.keys(entries).join(", ")}`),
  );

const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

const AudioPatch = section("audio", {
  native_sample_rate: v.optional(oneOf("native_sample_rate", NATIVE_SAMPLE_RATES)),
  sample_rate: v.optional(oneOf("sample_rate", SAMPLE_RATES)),
  encoding: v.optional(oneOf("encoding", ENCODINGS)),
  ptime_ms: v.optional(oneOf("ptime_ms", PTIMES_MS)),
  max_datagram_bytes: v.optional(int("max_datagram_bytes", LIMITS.max_datagram_bytes)),
  test_mode: v.optional(oneOf("test_mode", TEST_MODES)),
});

const NetworkPatch = section("network", {
  dscp: v.optional(int("dscp", LIMITS.dscp)),
  max_clients: v.optional(int("max_clients", LIMITS.max_clients)),
  heartbeat_timeout_s: v.optional(int("heartbeat_timeout_s", LIMITS.heartbeat_timeout_s)),
  ext_interval_ms: v.optional(
    v.union(
      [v.literal(0), int("ext_interval_ms", LIMITS.ext_interval_ms)],
      "ext_interval_ms must be 0 (every packet) or an integer 20–60000",
    ),
  ),
});

const JitterPatch = section("jitter", {
  interpolate: v.optional(int("interpolate", LIMITS.jitter_ms)),
  drop: v.optional(int("drop", LIMITS.jitter_ms)),
});

const AdaptationPatch = section("adaptation", {
  enabled: v.optional(v.boolean("enabled must be true or false")),
  latency_ms: v.optional(int("latency_ms", LIMITS.latency_ms)),
  hold_s: v.optional(int("hold_s", LIMITS.hold_s)),
  recover_hold_s: v.optional(int("recover_hold_s", LIMITS.recover_hold_s)),
});

const AlsaPatch = section("alsa", {
  device: v.optional(
    v.pipe(
      v.string("device must be a string"),
      v.maxLength(
        LIMITS.alsa_device_chars,
        `device must be at most ${LIMITS.alsa_device_chars} characters`,
      ),
      v.regex(PRINTABLE_ASCII, "device must be printable ASCII"),
    ),
  ),
});

const HttpsPatch = section("https", {
  enabled: v.optional(v.boolean("enabled must be true or false")),
  port: v.optional(int("port", LIMITS.https_port)),
});

/** A Linux interface name (IFNAMSIZ 16 with its NUL), or "" for the default route's. */
const INTERFACE_NAME = /^[A-Za-z0-9_.:@-]{0,15}$/;
/** No control characters: the name goes into SDP lines (`s=`, `i=`), the session into logs. */
// deno-lint-ignore no-control-regex
const NO_CONTROL = /^[^\x00-\x1f\x7f]*$/;

const Aes67OutputPatch = section("aes67.output", {
  enabled: v.optional(v.boolean("enabled must be true or false")),
  interface: v.optional(
    v.pipe(
      v.string("interface must be a string"),
      v.regex(INTERFACE_NAME, "interface must be an interface name (up to 15 characters) or empty"),
    ),
  ),
  multicast_base: v.optional(
    v.pipe(
      v.string("multicast_base must be a string"),
      v.check(
        (s) => multicastBaseProblem(s) === null,
        "multicast_base must be an IPv4 multicast address in 224.0.1.0–239.255.255.223 (not 239.255.255.255, SAP's)",
      ),
    ),
  ),
  ptime_us: v.optional(oneOf("ptime_us", AES67_PTIMES_US)),
  channels_per_stream: v.optional(
    int("channels_per_stream", [1, AES67_MAX_CHANNELS_PER_STREAM]),
  ),
  ttl: v.optional(int("ttl", LIMITS.aes67_ttl)),
  dscp: v.optional(int("dscp", LIMITS.dscp)),
  name: v.optional(
    v.pipe(
      v.string("name must be a string"),
      v.minLength(LIMITS.aes67_name_chars[0], "name must not be empty"),
      v.maxLength(
        LIMITS.aes67_name_chars[1],
        `name must be at most ${LIMITS.aes67_name_chars[1]} characters`,
      ),
      v.regex(NO_CONTROL, "name must not contain control characters"),
    ),
  ),
});

const Aes67InputPatch = section("aes67.input", {
  enabled: v.optional(v.boolean("enabled must be true or false")),
  session: v.optional(
    v.pipe(
      v.string("session must be a string"),
      v.maxLength(
        LIMITS.aes67_session_chars,
        `session must be at most ${LIMITS.aes67_session_chars} characters`,
      ),
      v.regex(NO_CONTROL, "session must not contain control characters"),
    ),
  ),
});

const Aes67Patch = section("aes67", {
  output: v.optional(Aes67OutputPatch),
  input: v.optional(Aes67InputPatch),
});

/** Streams the output may need: 32 channels at 1 per stream. */
const AES67_MAX_STREAMS = CHANNEL_COUNT;

/** Why `s` cannot be the first of up to 32 stream groups, or null. */
export function multicastBaseProblem(s: string): string | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) return "not a dotted IPv4 address";
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return "not a dotted IPv4 address";
  const n = ((parts[0] << 24) >>> 0) + (parts[1] << 16) + (parts[2] << 8) + parts[3];
  // 224.0.0.0/24 is link-local control (IGMP, PTP's 224.0.1.129 is above it and allowed
  // only as a base the installer chose); 239.255.255.255 is SAP's own group.
  const first = (224 << 24) >>> 0;
  const low = first + 256;
  const sap = ((239 << 24) >>> 0) + (255 << 16) + (255 << 8) + 255;
  if (n < low || n + AES67_MAX_STREAMS - 1 >= sap) return "outside the usable multicast range";
  return null;
}

/**
 * The merged output section, or why it cannot be sent unfragmented. A new
 * ptime_us without channels_per_stream lowers channels_per_stream to fit (as
 * a new native rate lowers sample_rate); both given and too large → an error.
 */
function checkAes67Output(
  current: Aes67OutputConfig,
  patch: Partial<Aes67OutputConfig> | undefined,
): Result<Aes67OutputConfig> {
  const out = { ...current, ...patch };
  const max = aes67MaxChannelsPerStream(out.ptime_us);
  if (out.channels_per_stream <= max) return { ok: true, value: out };
  if (patch?.ptime_us !== undefined && patch.channels_per_stream === undefined) {
    return { ok: true, value: { ...out, channels_per_stream: max } };
  }
  return {
    ok: false,
    message: `aes67.output: ${out.channels_per_stream} channels of ${out.ptime_us} µs ` +
      `make ${aes67FramesPerPacket(out.ptime_us) * 3 * out.channels_per_stream}-byte packets, ` +
      `above AES67's ${AES67_MAX_PAYLOAD_BYTES}; use at most ${max} channels per stream`,
  };
}

const ConfigPatchBody = v.pipe(
  v.custom<Record<string, unknown>>(isRecord, "the body must be a JSON object"),
  v.strictObject(
    {
      audio: v.optional(AudioPatch),
      network: v.optional(NetworkPatch),
      jitter: v.optional(JitterPatch),
      adaptation: v.optional(AdaptationPatch),
      alsa: v.optional(AlsaPatch),
      https: v.optional(HttpsPatch),
      aes67: v.optional(Aes67Patch),
      /** When given, the patch applies only to this version (else 409). */
      config_version: v.optional(int("config_version", [0, Number.MAX_SAFE_INTEGER])),
    },
    "unknown section; allowed: audio, network, jitter, adaptation, alsa, https, aes67, config_version",
  ),
);

function parse<T extends v.GenericSchema>(schema: T, body: unknown): Result<v.InferOutput<T>> {
  const r = v.safeParse(schema, body);
  return r.success
    ? { ok: true, value: r.output }
    : { ok: false, message: describeIssues(r.issues) };
}

export interface CheckedPatch {
  /** Only the keys whose value differs from `current` (empty: nothing to do). */
  patch: ConfigPatch;
  changedKeys: string[];
  expectedVersion?: number;
}

/**
 * Checks a config patch against the current configuration: shape and ranges,
 * then the rules across keys (sample_rate ≤ native_sample_rate, interpolate
 * < drop). Changing native_sample_rate alone lowers sample_rate to fit.
 */
export function checkConfigPatch(
  current: Config,
  body: unknown,
  httpPort?: number,
): Result<CheckedPatch> {
  const r = parse(ConfigPatchBody, body);
  if (!r.ok) return r;
  const { config_version, ...sections } = r.value;
  const https = { ...current.https, ...sections.https };
  const portClash = httpsPortClash(https, httpPort);
  if (portClash) return { ok: false, message: portClash };
  const audio = { ...current.audio, ...sections.audio };
  if (
    sections.audio?.native_sample_rate !== undefined && sections.audio.sample_rate === undefined
  ) {
    audio.sample_rate = Math.min(audio.sample_rate, audio.native_sample_rate);
  }
  if (audio.sample_rate > audio.native_sample_rate) {
    return {
      ok: false,
      message:
        `audio.sample_rate ${audio.sample_rate} is above native_sample_rate ${audio.native_sample_rate}`,
    };
  }
  const jitter = { ...current.jitter, ...sections.jitter };
  if (!(jitter.interpolate < jitter.drop)) {
    return {
      ok: false,
      message:
        `jitter.interpolate (${jitter.interpolate} ms) must be below drop (${jitter.drop} ms)`,
    };
  }
  const aes67Output = checkAes67Output(current.aes67.output, sections.aes67?.output);
  if (!aes67Output.ok) return aes67Output;
  const aes67 = {
    output: aes67Output.value,
    input: { ...current.aes67.input, ...sections.aes67?.input },
  };
  const merged: Omit<Config, "config_version" | "aes67"> = {
    audio,
    network: { ...current.network, ...sections.network },
    jitter,
    adaptation: { ...current.adaptation, ...sections.adaptation },
    alsa: { ...current.alsa, ...sections.alsa },
    https,
  };
  const patch: Record<string, Record<string, unknown>> = {};
  const changedKeys: string[] = [];
  for (const [name, values] of Object.entries(merged)) {
    const before = current[name as keyof typeof merged] as unknown as Record<string, unknown>;
    for (const [key, value] of Object.entries(values as unknown as Record<string, unknown>)) {
      if (before[key] === value) continue;
      (patch[name] ??= {})[key] = value;
      changedKeys.push(`${name}.${key}`);
    }
  }
  for (const part of ["output", "input"] as const) {
    const before = current.aes67[part] as unknown as Record<string, unknown>;
    for (const [key, value] of Object.entries(aes67[part])) {
      if (before[key] === value) continue;
      const p = patch as { aes67?: Record<string, Record<string, unknown>> };
      ((p.aes67 ??= {})[part] ??= {})[key] = value;
      changedKeys.push(`aes67.${part}.${key}`);
    }
  }
  return {
    ok: true,
    value: { patch: patch as ConfigPatch, changedKeys, expectedVersion: config_version },
  };
}

/** Why an HTTPS port cannot be used next to the plain HTTP listener, or null. */
function httpsPortClash(https: HttpsConfig, httpPort: number | undefined): string | null {
  if (https.enabled && httpPort !== undefined && https.port === httpPort) {
    return `https.port ${https.port} is the plain HTTP port; choose another port`;
  }
  return null;
}

/** `POST /api/admin/https`: the HTTPS setting on its own. */
const HttpsBody = v.pipe(
  v.custom<Record<string, unknown>>(isRecord, "the body must be a JSON object"),
  v.strictObject(
    {
      enabled: v.optional(v.boolean("enabled must be true or false")),
      port: v.optional(int("port", LIMITS.https_port)),
    },
    'unknown key; the body is {"enabled": true|false, "port": 1024–65535}',
  ),
);

/** The HTTPS setting after applying `body` to `current`; the port must differ from `httpPort`. */
export function checkHttps(
  current: HttpsConfig,
  body: unknown,
  httpPort: number,
): Result<HttpsConfig> {
  const r = parse(HttpsBody, body);
  if (!r.ok) return r;
  const next = { ...current, ...r.value };
  const clash = httpsPortClash(next, httpPort);
  return clash ? { ok: false, message: clash } : { ok: true, value: next };
}

const ChannelName = v.pipe(
  v.string("name must be a string"),
  v.trim(),
  v.check((s) => s.length > 0, "name must not be empty"),
  v.check(
    (s) => [...s].length <= CHANNEL_NAME_MAX,
    `name must be at most ${CHANNEL_NAME_MAX} characters`,
  ),
  v.regex(/^[^\p{Cc}]*$/u, "name must not contain control characters"),
);

const ChannelEntry = v.pipe(
  v.custom<Record<string, unknown>>(isRecord, "each channel must be a JSON object"),
  v.strictObject(
    {
      id: int("id", [1, CHANNEL_COUNT]),
      name: ChannelName,
      enabled: v.boolean("enabled must be true or false"),
      order: int("order", LIMITS.channel_order),
    },
    "unknown key in a channel; allowed: id, name, enabled, order",
  ),
);

const ChannelTable = v.pipe(
  v.array(ChannelEntry, "the body must be a list of channels"),
  v.length(CHANNEL_COUNT, `the list must have all ${CHANNEL_COUNT} channels`),
  v.check(
    (list) => new Set(list.map((c) => c.id)).size === CHANNEL_COUNT,
    `every channel id 1–${CHANNEL_COUNT} must appear exactly once`,
  ),
  v.check((list) => {
    const orders = list.filter((c) => c.enabled).map((c) => c.order);
    return new Set(orders).size === orders.length;
  }, "the orders of enabled channels must be unique"),
);

/** The full channel table, sorted by id. */
export function checkChannels(body: unknown): Result<ChannelConfig[]> {
  const r = parse(ChannelTable, body);
  if (!r.ok) return r;
  return { ok: true, value: [...r.value].sort((a, b) => a.id - b.id) };
}

/** True when only names differ (same ids, enabled flags and send order). */
export function onlyNamesChanged(
  before: readonly ChannelConfig[],
  after: readonly ChannelConfig[],
): boolean {
  const key = (list: readonly ChannelConfig[]) =>
    JSON.stringify(
      list.filter((c) => c.enabled).sort((a, b) => a.order - b.order || a.id - b.id).map((c) =>
        c.id
      ),
    );
  return key(before) === key(after);
}

export const LoginBody = v.strictObject({
  password: v.pipe(v.string("password must be a string"), v.maxLength(MAX_PASSWORD_LENGTH)),
}, 'the body must be {"password": "…"}');

export const PasswordChangeBody = v.strictObject({
  current: v.pipe(v.string("current must be a string"), v.maxLength(MAX_PASSWORD_LENGTH)),
  new: v.pipe(
    v.string("new must be a string"),
    v.minLength(
      MIN_PASSWORD_LENGTH,
      `new password needs at least ${MIN_PASSWORD_LENGTH} characters`,
    ),
    v.maxLength(
      MAX_PASSWORD_LENGTH,
      `new password must be at most ${MAX_PASSWORD_LENGTH} characters`,
    ),
  ),
}, 'the body must be {"current": "…", "new": "…"}');

export const MessageBody = v.strictObject({
  text: v.pipe(
    v.string("text must be a string"),
    v.trim(),
    v.minLength(LIMITS.message_chars[0], "text must not be empty"),
    v.maxLength(
      LIMITS.message_chars[1],
      `text must be at most ${LIMITS.message_chars[1]} characters`,
    ),
  ),
}, 'the body must be {"text": "…"}');

export function checkBody<T extends v.GenericSchema>(
  schema: T,
  body: unknown,
): Result<v.InferOutput<T>> {
  return parse(schema, body);
}
