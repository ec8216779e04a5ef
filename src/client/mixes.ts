/**
 * A musician's saved mixes (named presets) and a mix as a file to move to
 * another phone or keep. Runtime-neutral: storage is injected (Web Storage
 * shape), time is passed in.
 *
 * A preset or a file holds the mix, not the setup: per channel id the
 * musician's level, pan, mute, solo, EQ, limiter, hidden and colour, and the
 * master. Loading one changes only the channels it names, by id; names and
 * order stay the engineer's (they follow the console).
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
  type MasterStripSettings,
  normalizeSettings,
  type SettingsStorage,
} from "./settings.ts";

export const MIX_FORMAT = "m32-mix";
export const MIX_VERSION = 1;
export const MIXES_KEY_PREFIX = "m32-mixes:";
/** Presets kept per box; the oldest goes when a new name would make one more. */
export const MAX_PRESETS = 20;
/** A mix file is a few KiB; anything much larger is not one. */
export const MAX_MIX_FILE_BYTES = 256 * 1024;
const MAX_NAME = 40;

/** The parts of a channel's settings a mix carries. */
type MixChannel = Omit<ChannelSettings, "name" | "order" | "image">;

export interface MixPreset {
  name: string;
  saved_at: string;
  master: MasterStripSettings;
  channels: MixChannel[];
}

/** What is wrong with a mix (a page says it in its language; `vars` fill its text). */
export type MixFileFault = "no_name" | "too_large" | "not_a_mix" | "version" | "no_channels";

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

function mixChannel(c: ChannelSettings): MixChannel {
  const { name: _n, order: _o, image: _i, ...mix } = c;
  return structuredClone(mix);
}

/** The mix now, under `name`. */
export function snapshot(settings: ClientSettings, name: string, nowIso: string): MixPreset {
  const n = name.trim().slice(0, MAX_NAME);
  if (n === "") throw new MixFileError("a saved mix needs a name", "no_name");
  return {
    name: n,
    saved_at: nowIso,
    master: structuredClone(settings.master),
    channels: settings.channels.map(mixChannel),
  };
}

/** Copies a preset's mix onto `settings`, channel by channel id (others untouched). */
export function applyMix(settings: ClientSettings, mix: MixPreset): number {
  const byId = new Map(settings.channels.map((c) => [c.id, c]));
  let applied = 0;
  for (const m of mix.channels) {
    const c = byId.get(m.id);
    if (!c) continue;
    Object.assign(c, structuredClone(m));
    applied++;
  }
  settings.master = structuredClone(mix.master);
  return applied;
}

/** Validates and clamps anything claiming to be a mix (the settings' own rules). */
function normalizeMix(raw: Record<string, unknown>, fallbackName: string): MixPreset {
  const s = normalizeSettings({ master: raw.master, channels: raw.channels }, "");
  const name = typeof raw.name === "string" && raw.name.trim() !== ""
    ? raw.name.trim().slice(0, MAX_NAME)
    : fallbackName;
  const at = typeof raw.saved_at === "string" && !Number.isNaN(Date.parse(raw.saved_at))
    ? raw.saved_at
    : new Date(0).toISOString();
  return { name, saved_at: at, master: s.master, channels: s.channels.map(mixChannel) };
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
