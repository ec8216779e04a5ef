/**
 * A mix as a short text for a QR code or a link (issue #13 item 6: move a mix
 * to another phone by scanning it). Runtime-neutral (CompressionStream is in
 * browsers and Deno).
 *
 *   code = base64url(deflate-raw(compact JSON))
 *   link = <page>#mix=<code>      (a phone camera opens the page, which offers to load it)
 *
 * The compact JSON is the mix file's content (./mixes.ts) without what a code
 * cannot or need not carry: no pictures, no save time, and per channel only
 * the fields that differ from a fresh channel (numbers rounded to 4 decimals,
 * far finer than any fader step). Decoding fills the defaults back in and
 * validates like a file, so a code decodes to the same mix it was made of.
 *
 *   {"v":1,"n":"Sunday set","m":{"volume":0.9,"limit":true},
 *    "c":[{"id":1,"volume":0.8},{"id":2,"mute":true},{"id":3},…],"g":[…]}
 */
import { MixFileError, type MixPreset, normalizeMix } from "./mixes.ts";
import { defaultChannelSettings } from "./settings.ts";

export const MIX_CODE_VERSION = 1;
/** The link's fragment key: `#mix=<code>`. */
export const MIX_HASH_KEY = "mix";
/** A code longer than this is not one of ours (32 channels, all set, are well under 2 000). */
export const MAX_MIX_CODE_CHARS = 8000;

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function round(v: Json): Json {
  if (typeof v === "number") return Math.round(v * 1e4) / 1e4;
  if (Array.isArray(v)) return v.map(round);
  if (v !== null && typeof v === "object") {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, round(x)]));
  }
  return v;
}

/** The compact object of a mix (defaults left out, numbers rounded, no pictures). */
export function compactMix(mix: MixPreset): Record<string, Json> {
  const channels = mix.channels.map((c) => {
    const d = defaultChannelSettings(c.id) as unknown as Record<string, Json>;
    const out: Record<string, Json> = { id: c.id };
    for (const [k, v] of Object.entries(c) as [string, Json][]) {
      if (k === "id" || k === "image" || v === undefined) continue;
      const r = round(v);
      if (JSON.stringify(r) !== JSON.stringify(d[k])) out[k] = r;
    }
    return out;
  });
  return {
    v: MIX_CODE_VERSION,
    n: mix.name,
    m: round(mix.master as unknown as Json),
    c: channels,
    ...(mix.groups ? { g: round(mix.groups as unknown as Json) } : {}),
  };
}

/** The most a code may inflate to: a 32-channel mix is ~5 KiB of JSON. */
export const MAX_MIX_JSON_BYTES = 64 * 1024;

async function pipe(bytes: Uint8Array, stream: CompressionStream | DecompressionStream) {
  const out = new Response(new Blob([bytes as BlobPart]).stream().pipeThrough(stream));
  return new Uint8Array(await out.arrayBuffer());
}

/** Inflates, stopping (a MixFileError) once past MAX_MIX_JSON_BYTES: a crafted code cannot fill memory. */
async function inflate(bytes: Uint8Array): Promise<Uint8Array> {
  const reader = new Blob([bytes as BlobPart]).stream()
    .pipeThrough(new DecompressionStream("deflate-raw")).getReader();
  const parts: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_MIX_JSON_BYTES) {
      await reader.cancel();
      throw new MixFileError("this mix code unpacks to too much", "code_damaged");
    }
    parts.push(value);
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

function base64url(bytes: Uint8Array): string {
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

function fromBase64url(text: string): Uint8Array {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) {
    throw new MixFileError("this is not a mix code", "not_a_code");
  }
  const b64 = text.replaceAll("-", "+").replaceAll("_", "/");
  const bin = atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4));
  return Uint8Array.from(bin, (ch) => ch.charCodeAt(0));
}

/** A mix → its code (for a QR code or a link). */
export async function encodeMix(mix: MixPreset): Promise<string> {
  const json = JSON.stringify(compactMix(mix));
  return base64url(
    await pipe(new TextEncoder().encode(json), new CompressionStream("deflate-raw")),
  );
}

/** A code → the mix (validated and clamped like a file); a MixFileError if it is not one. */
export async function decodeMix(code: string, nowIso: string): Promise<MixPreset> {
  if (code.length === 0 || code.length > MAX_MIX_CODE_CHARS) {
    throw new MixFileError("this is not a mix code", "not_a_code");
  }
  let raw: unknown;
  try {
    const bytes = await inflate(fromBase64url(code));
    raw = JSON.parse(new TextDecoder().decode(bytes));
  } catch (e) {
    if (e instanceof MixFileError) throw e;
    throw new MixFileError("this mix code is damaged or incomplete", "code_damaged");
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new MixFileError("this is not a mix code", "not_a_code");
  }
  const o = raw as Record<string, unknown>;
  if (o.v !== MIX_CODE_VERSION) {
    throw new MixFileError(
      `mix code version ${o.v} is not supported (this page reads 1)`,
      "version",
      { version: String(o.v) },
    );
  }
  if (!Array.isArray(o.c)) throw new MixFileError("this mix code has no channels", "no_channels");
  const channels = o.c.filter((c): c is Record<string, unknown> =>
    typeof c === "object" && c !== null && Number.isInteger((c as { id?: unknown }).id) &&
    ((c as { id: number }).id >= 1)
  ).map((c) => ({ ...defaultChannelSettings(c.id as number), ...c }));
  return normalizeMix(
    { name: o.n, saved_at: nowIso, master: o.m, channels, groups: o.g },
    "Shared mix",
  );
}

/** The page's link that carries a mix: `<page>#mix=<code>`. */
export function mixLink(pageUrl: string, code: string): string {
  const u = new URL(pageUrl);
  u.search = "";
  u.hash = `${MIX_HASH_KEY}=${code}`;
  return u.href;
}

/**
 * The code in what a musician pasted or scanned: a link with `#mix=`, or the
 * bare code. Null when it holds none.
 */
export function mixCodeOf(text: string): string | null {
  const t = text.trim();
  const m = /(?:^|[#&])mix=([A-Za-z0-9_-]+)/.exec(t);
  if (m) return m[1];
  return /^[A-Za-z0-9_-]{16,}$/.test(t) ? t : null;
}
