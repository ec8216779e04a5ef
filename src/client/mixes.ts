/**
 * A musician's saved mixes (named presets) and a mix as a file to move to
 * another phone or keep. Runtime-neutral: storage is injected (Web Storage
 * shape), time is passed in.
 *
 * A preset or a file holds the mix, not the setup: per channel id the
 * musician's level, pan, mute, solo, EQ, limiter, hidden, colour and stereo
 * link, the musician's own name and order where they set one (else the
 * engineer's stay: they follow the console), the groups and the master. A
 * file also carries the strips' pictures (presets do not: they live in the
 * phone's small storage). Loading one changes only the channels it names, by
 * id (a channel this phone has not seen yet is kept for when it appears).
 *
 *   file:    {"format":"m32-mix","version":1,"name":"Sunday set",
 *             "saved_at":"2026-12-04T15:00:00.000Z",
 *             "master":{"volume":0.9,"limit":true},
 *             "channels":[{"id":1,"volume":0.8,"pan":-0.2,…},…]}
 *   storage: key "m32-mixes:<server>" → [ the same objects without format/version ]
 */
import {
  type ChannelSettings,
  type ClientSettings,
  defaultChannelSettings,
  type GroupSettings,
  type MasterStripSettings,
  normalizeSettings,
  type SettingsStorage,
} from "./settings.ts";

export const MIX_FORMAT = "m32-mix";
export const MIX_VERSION = 1;
export const MIXES_KEY_PREFIX = "m32-mixes:";
/** Presets kept per box; the oldest goes when a new name would make one more. */
export const MAX_PRESETS = 20;
/** A mix file is a few KiB (up to ~200 KiB with 32 pictures); anything much larger is not one. */
export const MAX_MIX_FILE_BYTES = 2 * 1024 * 1024;
const MAX_NAME = 40;

/**
 * The parts of a channel's settings a mix carries: `name` and `order` only
 * where the musician set their own, `image` only in a file.
 */
export type MixChannel = Omit<ChannelSettings, "name" | "order" | "image"> & {
  name?: string;
  order?: number;
  image?: string | null;
};

export interface MixPreset {
  name: string;
  saved_at: string;
  master: MasterStripSettings;
  channels: MixChannel[];
  /** The musician's groups (absent = none). */
  groups?: GroupSettings[];
}

/** What is wrong with a mix (a page says it in its language; `vars` fill its text). */
export type MixFileFault =
  | "no_name"
  | "too_large"
  | "not_a_mix"
  | "version"
  | "no_channels"
  | "not_a_code"
  | "code_damaged";

export class MixFileError extends Error {
  override name = "MixFileError";
  constructor(
    message: string,
    readonly code: MixFileFault,
    readonly vars: Record<string, string | number> = {},
  ) {
    super(message);
  }
}

function mixChannel(c: ChannelSettings, images = false): MixChannel {
  const { name, order, image, ...mix } = c;
  const out: MixChannel = structuredClone(mix);
  if (c.custom_name) out.name = name;
  if (c.custom_order) out.order = order;
  if (images && image !== null) out.image = image;
  return out;
}

/** The mix now, under `name` (`images`: with the strips' pictures, for a file). */
export function snapshot(
  settings: ClientSettings,
  name: string,
  nowIso: string,
  opts: { images?: boolean } = {},
): MixPreset {
  const n = name.trim().slice(0, MAX_NAME);
  if (n === "") throw new MixFileError("a saved mix needs a name", "no_name");
  return {
    name: n,
    saved_at: nowIso,
    master: structuredClone(settings.master),
    channels: settings.channels.map((c) => mixChannel(c, opts.images)),
    ...(settings.groups ? { groups: structuredClone(settings.groups) } : {}),
  };
}

/**
 * Copies a preset's mix onto `settings`, channel by channel id; channels it
 * does not name are untouched. A channel without the musician's own name or
 * order in the mix goes back to the engineer's (the caller refreshes those
 * from the server's list: settings.ts `followEngineer`). Returns the number of
 * channels set.
 */
export function applyMix(settings: ClientSettings, mix: MixPreset): number {
  const byId = new Map(settings.channels.map((c) => [c.id, c]));
  for (const m of mix.channels) {
    let c = byId.get(m.id);
    if (!c) {
      c = defaultChannelSettings(m.id);
      settings.channels.push(c);
      byId.set(m.id, c);
    }
    const { name, order, image, ...rest } = structuredClone(m);
    delete c.custom_name;
    delete c.custom_order;
    delete c.link;
    Object.assign(c, rest);
    if (rest.custom_name && name !== undefined) c.name = name;
    else delete c.custom_name;
    if (rest.custom_order && order !== undefined) c.order = order;
    else delete c.custom_order;
    if (image !== undefined) c.image = image;
  }
  settings.channels.sort((a, b) => a.id - b.id);
  settings.master = structuredClone(mix.master);
  if (mix.groups && mix.groups.length > 0) settings.groups = structuredClone(mix.groups);
  else delete settings.groups;
  return mix.channels.length;
}

/** Validates and clamps anything claiming to be a mix (the settings' own rules). */
export function normalizeMix(raw: Record<string, unknown>, fallbackName: string): MixPreset {
  const s = normalizeSettings(
    { master: raw.master, channels: raw.channels, groups: raw.groups },
    "",
  );
  const given = new Map(
    (Array.isArray(raw.channels) ? raw.channels : [])
      .filter((c): c is Record<string, unknown> => typeof c === "object" && c !== null)
      .map((c) => [c.id, c]),
  );
  const name = typeof raw.name === "string" && raw.name.trim() !== ""
    ? raw.name.trim().slice(0, MAX_NAME)
    : fallbackName;
  const at = typeof raw.saved_at === "string" && !Number.isNaN(Date.parse(raw.saved_at))
    ? raw.saved_at
    : new Date(0).toISOString();
  return {
    name,
    saved_at: at,
    master: s.master,
    // A picture only where the mix has one (its absence must not clear the phone's).
    channels: s.channels.map((c) => mixChannel(c, typeof given.get(c.id)?.image === "string")),
    ...(s.groups ? { groups: s.groups } : {}),
  };
}

export function presetsKey(server: string): string {
  return MIXES_KEY_PREFIX + server;
}

export function loadPresets(storage: SettingsStorage, server: string): MixPreset[] {
  try {
    const raw = JSON.parse(storage.getItem(presetsKey(server)) ?? "[]");
    if (!Array.isArray(raw)) return [];
    return raw.filter((p) => typeof p === "object" && p !== null)
      .map((p, i) => normalizeMix(p, `Mix ${i + 1}`));
  } catch {
    return [];
  }
}

/** Saves (or replaces, by name) a preset; newest first, at most MAX_PRESETS. */
export function savePreset(
  storage: SettingsStorage,
  server: string,
  preset: MixPreset,
): MixPreset[] {
  const list = [preset, ...loadPresets(storage, server).filter((p) => p.name !== preset.name)]
    .slice(0, MAX_PRESETS);
  storage.setItem(presetsKey(server), JSON.stringify(list));
  return list;
}

export function deletePreset(storage: SettingsStorage, server: string, name: string): MixPreset[] {
  const list = loadPresets(storage, server).filter((p) => p.name !== name);
  storage.setItem(presetsKey(server), JSON.stringify(list));
  return list;
}

/** A mix as a file's text. */
export function exportMix(preset: MixPreset): string {
  return JSON.stringify({ format: MIX_FORMAT, version: MIX_VERSION, ...preset }, null, 1);
}

/** A mix file's text → a preset; a clear MixFileError for anything that is not one. */
export function importMix(text: string, fallbackName = "Imported mix"): MixPreset {
  if (text.length > MAX_MIX_FILE_BYTES) {
    throw new MixFileError(
      `a mix file is at most ${MAX_MIX_FILE_BYTES} bytes, this one has ${text.length}`,
      "too_large",
      { max: MAX_MIX_FILE_BYTES, size: text.length },
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new MixFileError("this file is not a mix (not JSON)", "not_a_mix");
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new MixFileError("this file is not a mix (not a JSON object)", "not_a_mix");
  }
  const o = raw as Record<string, unknown>;
  if (o.format !== MIX_FORMAT) {
    throw new MixFileError(
      `this file is not a mix (format ${JSON.stringify(o.format)})`,
      "not_a_mix",
    );
  }
  if (o.version !== MIX_VERSION) {
    throw new MixFileError(
      `mix file version ${o.version} is not supported (this page reads 1)`,
      "version",
      { version: String(o.version) },
    );
  }
  if (!Array.isArray(o.channels)) {
    throw new MixFileError("this mix file has no channels", "no_channels");
  }
  return normalizeMix(o, fallbackName);
}
