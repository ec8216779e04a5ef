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
  /**
   * The musician renamed the strip on the phone: `name` is theirs and the
   * engineer's renames no longer change it (until "reset to the engineer's").
   * Absent = false. A client's own field, as are the ones below.
   */
  custom_name?: boolean;
  /** The musician reordered the strips: `order` is theirs (absent = the engineer's order). */
  custom_order?: boolean;
  /**
   * A stereo-linked pair (a keyboard on 7/8): set on the pair's first channel,
   * naming the second. One strip: the first channel's level, mute, solo, EQ and
   * limiter drive both; `width` 0 = both in the centre (mono), 1 = first hard
   * left, second hard right; `balance` −1 … +1 turns one side down.
   */
  link?: StereoLink;
}

export interface StereoLink {
  with: number;
  /** 0 (mono, centre) … 1 (full left/right). */
  width: number;
  /** −1 (left only) … 0 … +1 (right only). */
  balance: number;
}

/**
 * A group of strips with one fader (a VCA: each member's gain × the group's,
 * the members keep their own faders) and one mute. A channel is in one group
 * at most. A client's own setting (the server ignores it).
 */
export interface GroupSettings {
  /** 1, 2, …: the group's id on this phone. */
  id: number;
  name: string;
  members: number[];
  /** Linear gain 0–2, 1 = unity. */
  volume: number;
  mute: boolean;
}

export const MAX_GROUPS = 8;
export const MAX_NAME_LENGTH = 40;
/** A strip's picture: a small JPEG/PNG/WebP data URL (the page makes 96×96 JPEGs of a few KiB). */
export const MAX_IMAGE_CHARS = 48 * 1024;
const COLOR_RE = /^#[0-9a-f]{6}$/i;
const IMAGE_RE = /^data:image\/(jpeg|png|webp);base64,[A-Za-z0-9+/=]+$/;

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
  /** The musician's groups (absent = none). */
  groups?: GroupSettings[];
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
    name: typeof v.name === "string" && v.name !== "" ? v.name.slice(0, MAX_NAME_LENGTH) : d.name,
    // Shown in the page's style and as an <img>: only a plain colour and a small picture.
    color: typeof v.color === "string" && COLOR_RE.test(v.color) ? v.color.toLowerCase() : null,
    image: typeof v.image === "string" && v.image.length <= MAX_IMAGE_CHARS &&
        IMAGE_RE.test(v.image)
      ? v.image
      : null,
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
    ...(v.custom_name === true ? { custom_name: true } : {}),
    ...(v.custom_order === true ? { custom_order: true } : {}),
    ...(normalizeLink(v.link, d.id) ?? {}),
  };
}

function normalizeLink(v: unknown, id: number): { link: StereoLink } | null {
  if (!isObj(v) || !Number.isInteger(v.with) || v.with === id || (v.with as number) < 1) {
    return null;
  }
  return {
    link: {
      with: v.with as number,
      width: clampNum(v.width, 0, 1, 1),
      balance: clampNum(v.balance, -1, 1, 0),
    },
  };
}

function normalizeGroups(raw: unknown, channels: readonly ChannelSettings[]): GroupSettings[] {
  const out: GroupSettings[] = [];
  const taken = new Set<number>();
  const followers = new Set(channels.flatMap((c) => (c.link ? [c.link.with] : [])));
  for (const g of Array.isArray(raw) ? raw : []) {
    if (!isObj(g) || !Number.isInteger(g.id) || (g.id as number) < 1) continue;
    if (out.some((o) => o.id === g.id) || out.length >= MAX_GROUPS) continue;
    const members = (Array.isArray(g.members) ? g.members : [])
      .filter((m): m is number => Number.isInteger(m) && m >= 1 && !taken.has(m))
      .filter((m) => !followers.has(m)); // a linked pair is in a group by its first channel
    members.forEach((m) => taken.add(m));
    out.push({
      id: g.id as number,
      name: typeof g.name === "string" && g.name.trim() !== ""
        ? g.name.trim().slice(0, MAX_NAME_LENGTH)
        : `Group ${g.id}`,
      members: [...new Set(members)],
      volume: clampNum(g.volume, 0, VOLUME_MAX, 1),
      mute: bool(g.mute, false),
    });
  }
  return out;
}

/**
 * Links are pairs: a channel links at most one other, which is not itself
 * linked or the partner of another link (the first one wins).
 */
function pruneLinks(channels: ChannelSettings[]): void {
  const used = new Set<number>();
  for (const c of channels) {
    if (!c.link) continue;
    if (used.has(c.id) || used.has(c.link.with)) delete c.link;
    else used.add(c.id).add(c.link.with);
  }
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
  pruneLinks(s.channels);
  const groups = normalizeGroups(raw.groups, s.channels);
  if (groups.length > 0) s.groups = groups;
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

// ---- the musician's own strip layout (names, order, links, groups) ---------

/**
 * The engineer's names and order (the server's mapping, in send order), for
 * every channel where the musician has not set their own. With a custom order
 * in place, channels that never got one (new ones) go after the musician's.
 */
export function followEngineer(
  active: readonly ChannelSettings[],
  mapped: readonly { id: number; name: string }[],
): void {
  const pos = new Map(mapped.map((m, i) => [m.id, i]));
  const custom = active.filter((c) => c.custom_order);
  const base = custom.length > 0 ? Math.max(...custom.map((c) => c.order)) : 0;
  for (const c of active) {
    const i = pos.get(c.id);
    if (i === undefined) continue;
    if (!c.custom_name && typeof mapped[i].name === "string") c.name = mapped[i].name;
    if (!c.custom_order) c.order = base + i + 1;
  }
}

/** The musician names a strip ("" = back to the engineer's name, given as `engineerName`). */
export function renameChannel(ch: ChannelSettings, name: string, engineerName: string): void {
  const n = name.trim().slice(0, MAX_NAME_LENGTH);
  if (n === "" || n === engineerName) {
    delete ch.custom_name;
    ch.name = engineerName;
  } else {
    ch.custom_name = true;
    ch.name = n;
  }
}

/**
 * Moves a strip `delta` places among the strips `shown` (in their order): the
 * whole order becomes the musician's (every channel's `custom_order`).
 * Returns whether it moved.
 */
export function moveChannel(
  active: readonly ChannelSettings[],
  id: number,
  delta: -1 | 1,
  shown: (c: ChannelSettings) => boolean,
): boolean {
  const sorted = [...active].sort((a, b) => a.order - b.order);
  const visible = sorted.filter(shown);
  const i = visible.findIndex((c) => c.id === id);
  const j = i + delta;
  if (i < 0 || j < 0 || j >= visible.length) return false;
  const a = sorted.indexOf(visible[i]), b = sorted.indexOf(visible[j]);
  [sorted[a], sorted[b]] = [sorted[b], sorted[a]];
  sorted.forEach((c, k) => {
    c.order = k + 1;
    c.custom_order = true;
  });
  return true;
}

/** Back to the engineer's names and order for every channel. */
export function resetToEngineer(
  active: readonly ChannelSettings[],
  mapped: readonly { id: number; name: string }[],
): void {
  for (const c of active) {
    delete c.custom_name;
    delete c.custom_order;
  }
  followEngineer(active, mapped);
}

/** The channel whose link names `id` (its pair's first channel), if any. */
export function linkedFrom(
  channels: readonly ChannelSettings[],
  id: number,
): ChannelSettings | undefined {
  return channels.find((c) => c.link?.with === id);
}

/**
 * Links `a` and `b` as a stereo pair (a is the pair's first: its controls drive
 * both; b keeps its own settings for when they are unlinked). False when
 * either is already in a pair.
 */
export function linkChannels(settings: ClientSettings, a: number, b: number): boolean {
  const first = settings.channels.find((c) => c.id === a);
  const second = settings.channels.find((c) => c.id === b);
  if (!first || !second || a === b) return false;
  for (const id of [a, b]) {
    const c = settings.channels.find((x) => x.id === id)!;
    if (c.link || linkedFrom(settings.channels, id)) return false;
  }
  first.link = { with: b, width: 1, balance: 0 };
  for (const g of settings.groups ?? []) g.members = g.members.filter((m) => m !== b);
  return true;
}

export function unlinkChannel(settings: ClientSettings, a: number): void {
  const c = settings.channels.find((x) => x.id === a);
  if (c) delete c.link;
}

export function groupOf(settings: ClientSettings, id: number): GroupSettings | undefined {
  return settings.groups?.find((g) => g.members.includes(id));
}

/**
 * Puts channel `id` in group `groupId` (out of any other), or in none with
 * null. A pair's second channel is in its first's group: it is never a member.
 */
export function setChannelGroup(settings: ClientSettings, id: number, groupId: number | null) {
  if (linkedFrom(settings.channels, id)) return;
  for (const g of settings.groups ?? []) g.members = g.members.filter((m) => m !== id);
  const g = settings.groups?.find((x) => x.id === groupId);
  if (g) g.members.push(id);
}

/** A new, empty group (null when there are MAX_GROUPS already). */
export function addGroup(settings: ClientSettings, name: string): GroupSettings | null {
  const groups = settings.groups ?? (settings.groups = []);
  if (groups.length >= MAX_GROUPS) return null;
  const id = groups.reduce((m, g) => Math.max(m, g.id), 0) + 1;
  const n = name.trim().slice(0, MAX_NAME_LENGTH) || `Group ${id}`;
  const g: GroupSettings = { id, name: n, members: [], volume: 1, mute: false };
  groups.push(g);
  return g;
}

export function deleteGroup(settings: ClientSettings, groupId: number): void {
  settings.groups = (settings.groups ?? []).filter((g) => g.id !== groupId);
  if (settings.groups.length === 0) delete settings.groups;
}
