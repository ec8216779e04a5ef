/**
 * Per-client channel settings (contract §11), stored on the client per server,
 * runtime-neutral: storage is injected (`SettingsStorage` has the shape of the
 * Web Storage API, so a browser passes `localStorage`; the Deno adapter is
 * ./settings_file.ts).
 *
 *   {"server":"m32-server.local:8080","sample_rate":48000,"compression":"opus",
 *    "channels":[{"id":1,"name":"Vocal","color":"#e04040","image":null,"mute":false,
 *                 "hidden":false,"order":1,"volume":0.8,"solo":false,"pan":-0.2,
 *                 "eq":{"low":-3,"mid":0,"high":2.5},
 *                 "limit":{"enabled":true,"threshold_db":-6}}]}
 *
 * Loading never fails: unknown or broken values fall back to defaults, numbers
 * are clamped to their ranges. Channels the server no longer maps are kept.
 */

import type { MetaChannel } from "./api.ts";
import type { Compression } from "./messages.ts";

export const VOLUME_MAX = 2;
export const PAN_MAX = 1;
export const EQ_MAX_DB = 12;
export const SETTINGS_KEY_PREFIX = "m32-client-settings:";

export interface EqSettings {
  low: number;
  mid: number;
  high: number;
}

export interface LimitSettings {
  enabled: boolean;
  threshold_db: number;
}

export interface ChannelSettings {
  id: number;
  name: string;
  color: string | null;
  image: string | null;
  mute: boolean;
  hidden: boolean;
  /**
   * Whether this client asks the server for the channel at all (not in §11's
   * example; a client's own field, ignored by the server). Fewer channels =
   * less Wi-Fi airtime. `hidden` only hides the strip; the channel still plays.
   */
  receive: boolean;
  /** One of the musician's own channels ("more me" lowers the others; a client's own field). */
  me: boolean;
  order: number;
  /** Linear gain 0–2, 1 = unity. */
  volume: number;
  solo: boolean;
  /** −1 left … +1 right. */
  pan: number;
  eq: EqSettings;
  /** A plain boolean is allowed, as in the requirements. */
  limit: LimitSettings | boolean;
}

/** The mix's master strip (client-side only; not in contract §11's example). */
export interface MasterStripSettings {
  /** Linear gain 0–2. */
  volume: number;
  /** Output limiter; `true` = −1 dBFS. */
  limit: LimitSettings | boolean;
  /**
   * "More me": how many dB every channel not marked `me` is lowered by (0 … MORE_ME_MAX_DB).
   * Lowering the others keeps the mix's headroom, where raising "me" would clip. Absent = 0.
   */
  more_me_db?: number;
}

export const MORE_ME_MAX_DB = 12;

/** The gain "more me" applies to a channel (1 for the musician's own, lower for the others). */
export function moreMeGain(master: MasterStripSettings, ch: ChannelSettings): number {
  const db = master.more_me_db ?? 0;
  return ch.me || db <= 0 ? 1 : 10 ** (-db / 20);
}

export interface ClientSettings {
  server: string;
  master: MasterStripSettings;
  /** Asked sample rate; null = the server's current rate. */
  sample_rate: number | null;
  compression: Compression;
  channels: ChannelSettings[];
  /**
   * The listener page's one-tap lock: every control but the mutes and the
   * master volume is inert. Absent = unlocked (a client without a lock ignores it).
   */
  locked?: boolean;
}

export interface SettingsStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

export function settingsKey(server: string): string {
  return SETTINGS_KEY_PREFIX + server;
}

export function defaultChannelSettings(id: number, name?: string, order?: number): ChannelSettings {
  return {
    id,
    name: name ?? `CH${String(id).padStart(2, "0")}`,
    color: null,
    image: null,
    mute: false,
    hidden: false,
    receive: true,
    me: false,
    order: order ?? id,
    volume: 1,
    solo: false,
    pan: 0,
    eq: { low: 0, mid: 0, high: 0 },
    limit: false,
  };
}

export function defaultSettings(server: string): ClientSettings {
  return {
    server,
    master: { volume: 1, limit: true },
    sample_rate: null,
    compression: "none",
    channels: [],
  };
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

function clampNum(v: unknown, lo: number, hi: number, fallback: number): number {
  return typeof v === "number" && Number.isFinite(v) ? Math.min(hi, Math.max(lo, v)) : fallback;
}

function bool(v: unknown, fallback: boolean): boolean {
  return typeof v === "boolean" ? v : fallback;
}

function normalizeLimit(v: unknown, fallback: LimitSettings | boolean): LimitSettings | boolean {
  if (typeof v === "boolean") return v;
  if (!isObj(v)) return fallback;
  return { enabled: bool(v.enabled, true), threshold_db: clampNum(v.threshold_db, -60, 0, -6) };
}

function normalizeChannel(v: unknown): ChannelSettings | null {
  if (!isObj(v) || !Number.isInteger(v.id) || (v.id as number) < 1) return null;
  const d = defaultChannelSettings(v.id as number);
  const eq = isObj(v.eq) ? v.eq : {};
  const limit = normalizeLimit(v.limit, d.limit);
  return {
    id: d.id,
    name: typeof v.name === "string" && v.name !== "" ? v.name : d.name,
    color: typeof v.color === "string" ? v.color : null,
    image: typeof v.image === "string" ? v.image : null,
    mute: bool(v.mute, d.mute),
    hidden: bool(v.hidden, d.hidden),
    receive: bool(v.receive, d.receive),
    me: bool(v.me, d.me),
    order: Number.isInteger(v.order) ? v.order as number : d.order,
    volume: clampNum(v.volume, 0, VOLUME_MAX, d.volume),
    solo: bool(v.solo, d.solo),
    pan: clampNum(v.pan, -PAN_MAX, PAN_MAX, d.pan),
    eq: {
      low: clampNum(eq.low, -EQ_MAX_DB, EQ_MAX_DB, 0),
      mid: clampNum(eq.mid, -EQ_MAX_DB, EQ_MAX_DB, 0),
      high: clampNum(eq.high, -EQ_MAX_DB, EQ_MAX_DB, 0),
    },
    limit,
  };
}

/** Any JSON value → valid settings for `server` (one entry per channel id, first wins). */
export function normalizeSettings(raw: unknown, server: string): ClientSettings {
  const s = defaultSettings(server);
  if (!isObj(raw)) return s;
  if (typeof raw.sample_rate === "number" && raw.sample_rate > 0) s.sample_rate = raw.sample_rate;
  if (raw.compression === "opus" || raw.compression === "none") s.compression = raw.compression;
  if (isObj(raw.master)) {
    s.master = {
      volume: clampNum(raw.master.volume, 0, VOLUME_MAX, 1),
      limit: normalizeLimit(raw.master.limit, true),
    };
    const moreMe = clampNum(raw.master.more_me_db, 0, MORE_ME_MAX_DB, 0);
    if (moreMe > 0) s.master.more_me_db = moreMe;
  }
  if (raw.locked === true) s.locked = true;
  const seen = new Set<number>();
  for (const c of Array.isArray(raw.channels) ? raw.channels : []) {
    const ch = normalizeChannel(c);
    if (ch && !seen.has(ch.id)) {
      seen.add(ch.id);
      s.channels.push(ch);
    }
  }
  return s;
}

export function loadSettings(storage: SettingsStorage, server: string): ClientSettings {
  const text = storage.getItem(settingsKey(server));
  if (text === null) return defaultSettings(server);
  try {
    return normalizeSettings(JSON.parse(text), server);
  } catch {
    return defaultSettings(server);
  }
}

export function saveSettings(storage: SettingsStorage, settings: ClientSettings): void {
  storage.setItem(settingsKey(settings.server), JSON.stringify(settings));
}

/**
 * Brings the stored channels up to date with the server's mapping: a mapped
 * channel without settings gets defaults (its server name and order); stored
 * channels that are not mapped stay in `settings` for when they return.
 * Returns the settings of the mapped channels in send order.
 */
export function reconcileChannels(
  settings: ClientSettings,
  mapped: readonly MetaChannel[],
): ChannelSettings[] {
  const byId = new Map(settings.channels.map((c) => [c.id, c]));
  const active: ChannelSettings[] = [];
  for (const m of mapped) {
    let c = byId.get(m.id);
    if (!c) {
      c = defaultChannelSettings(m.id, m.name, m.order);
      settings.channels.push(c);
      byId.set(m.id, c);
    }
    active.push(c);
  }
  settings.channels.sort((a, b) => a.id - b.id);
  return active;
}

/** A Map-backed storage (tests, and a fallback when nothing persists). */
export class MemoryStorage implements SettingsStorage {
  readonly items = new Map<string, string>();
  getItem(key: string): string | null {
    return this.items.get(key) ?? null;
  }
  setItem(key: string, value: string): void {
    this.items.set(key, value);
  }
}
