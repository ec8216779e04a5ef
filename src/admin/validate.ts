/**
 * Every admin write is checked here and only here (valibot): the config
 * patch (`PATCH /api/admin/config`), the channel table (`PUT
 * /api/admin/channels`), the password change and the custom message. A
 * failure is one readable sentence and nothing is written.
 */
import * as v from "valibot";
import {
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
      /** When given, the patch applies only to this version (else 409). */
      config_version: v.optional(int("config_version", [0, Number.MAX_SAFE_INTEGER])),
    },
    "unknown section; allowed: audio, network, jitter, adaptation, alsa, https, config_version",
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
  const merged: Omit<Config, "config_version"> = {
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
