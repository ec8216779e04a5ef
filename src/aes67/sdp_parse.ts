/**
 * Reads an AES67 session description (SDP, RFC 8866) as a receiver needs it:
 * the session's origin and name, and every audio stream we can take
 * (docs/protocol.md §13): `c=IN IP4 <group>[/<ttl>]`, `m=audio <port> RTP/AVP <pt>`,
 * `a=rtpmap:<pt> L24|L16/<rate>[/<channels>]`, `a=ptime`, `a=ts-refclk`,
 * `a=mediaclk` and the channel names (`a=label`, or `i=` of the media or of
 * the session, a comma-separated list of one name per channel).
 *
 * Never throws: text that is not an SDP gives `{ok: false}` with the reason;
 * an `m=` block we cannot receive (video, another encoding, IPv6, no
 * address) is left out with its reason in `skipped`.
 */

export interface SdpOrigin {
  username: string;
  sessionId: string;
  sessionVersion: string;
  address: string;
}

export interface SdpAudioStream {
  /** Position of its `m=` line among the description's media (0-based). */
  index: number;
  /** Destination address (the multicast group, or a unicast address). */
  group: string;
  /** Multicast TTL from `c=…/<ttl>`, or null when none is given. */
  ttl: number | null;
  port: number;
  payloadType: number;
  encoding: "L24" | "L16";
  sampleRate: number;
  channels: number;
  /** Packet time in ms (`a=ptime`, may be fractional: 0.125, 0.333), or null when absent. */
  ptimeMs: number | null;
  /** `a=ts-refclk` value (media level, else session level), e.g. `ptp=IEEE1588-2008:…:0`. */
  refclk: string | null;
  /** `a=mediaclk` value, e.g. `direct=0`. */
  mediaclk: string | null;
  /** RTP timestamp of the media clock's epoch (`mediaclk:direct=<offset>`), 0 when absent. */
  mediaclkOffset: number;
  /** Source address from `a=source-filter: incl`, when one is given. */
  sourceAddress: string | null;
  /** One name per channel ("" where the description names none). */
  labels: string[];
}

export interface SdpSession {
  origin: SdpOrigin;
  /** The whole `s=` line's value. */
  name: string;
  /** Session-level `i=`, or "". */
  info: string;
  streams: SdpAudioStream[];
  /** Media blocks left out, each with why. */
  skipped: string[];
}

export type SdpResult = { ok: true; session: SdpSession } | { ok: false; error: string };

/** Longest SDP we read (SAP carries at most one UDP datagram; a file is a person's). */
export const MAX_SDP_CHARS = 65536;
const MAX_CHANNELS_PER_STREAM = 64;
const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/** True for a dotted quad with every octet 0–255. */
export function isIpv4(s: string): boolean {
  const m = IPV4.exec(s);
  return m !== null && m.slice(1).every((o) => Number(o) <= 255);
}

/** True for an IPv4 multicast address (224.0.0.0/4). */
export function isMulticastIpv4(s: string): boolean {
  return isIpv4(s) && Number(s.split(".")[0]) >= 224 && Number(s.split(".")[0]) <= 239;
}

interface Conn {
  address: string;
  ttl: number | null;
}

/** `IN IP4 239.1.2.3/15` → address and TTL; null when it is not IPv4 or malformed. */
function parseConnection(v: string): Conn | string {
  const parts = v.trim().split(/\s+/);
  if (parts.length !== 3 || parts[0] !== "IN") return `c= line "${v}" is not "IN IP4 <address>"`;
  if (parts[1] !== "IP4") return `c= address type ${parts[1]} is not supported (IPv4 only)`;
  const [address, ttlText] = parts[2].split("/");
  if (!isIpv4(address)) return `c= address "${parts[2]}" is not an IPv4 address`;
  let ttl: number | null = null;
  if (ttlText !== undefined) {
    const n = Number(ttlText);
    if (!Number.isInteger(n) || n < 0 || n > 255) return `c= TTL "${ttlText}" is not 0–255`;
    ttl = n;
  }
  return { address, ttl };
}

/** Channel names from `i=` or `a=label`: a comma (or semicolon) separated list, one per channel. */
export function parseLabels(text: string, channels: number): string[] | null {
  // Dante writes "2 channels: 02, 03".
  const t = text.trim().replace(/^\d+ channels?:\s*/i, "");
  if (t === "") return null;
  for (const sep of [",", ";"]) {
    const parts = t.split(sep).map((p) => p.trim());
    if (parts.length === channels) return parts;
  }
  return channels === 1 ? [t] : null;
}

interface MediaBlock {
  index: number;
  mline: string;
  conn: Conn | string | null;
  info: string;
  attrs: [string, string][];
}

function attr(attrs: [string, string][], name: string): string | null {
  for (const [k, v] of attrs) if (k === name) return v;
  return null;
}

function mediaStream(
  b: MediaBlock,
  sessionConn: Conn | string | null,
  sessionAttrs: [string, string][],
  sessionInfo: string,
): SdpAudioStream | string {
  const m = b.mline.trim().split(/\s+/);
  if (m.length < 4) return `m= line "${b.mline}" is incomplete`;
  if (m[0] !== "audio") return `media ${b.index} is ${m[0]}, not audio`;
  const port = Number(m[1].split("/")[0]);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    return `media ${b.index}: port "${m[1]}" is not 1–65535`;
  }
  if (m[2] !== "RTP/AVP") return `media ${b.index}: transport ${m[2]} is not RTP/AVP`;
  const conn = b.conn ?? sessionConn;
  if (conn === null) return `media ${b.index}: no c= address`;
  if (typeof conn === "string") return `media ${b.index}: ${conn}`;
  const reasons: string[] = [];
  for (const ptText of m.slice(3)) {
    const pt = Number(ptText);
    if (!Number.isInteger(pt) || pt < 0 || pt > 127) continue;
    let map: string | null = null;
    for (const [k, v] of b.attrs) {
      if (k !== "rtpmap") continue;
      const sp = v.indexOf(" ");
      if (sp > 0 && v.slice(0, sp) === ptText) map = v.slice(sp + 1).trim();
    }
    if (map === null) {
      reasons.push(`payload type ${pt} has no rtpmap`);
      continue;
    }
    const [enc, rateText, chText] = map.split("/");
    const encoding = enc.toUpperCase();
    if (encoding !== "L24" && encoding !== "L16") {
      reasons.push(`payload type ${pt} is ${enc}, not L24 or L16`);
      continue;
    }
    const sampleRate = Number(rateText);
    const channels = chText === undefined ? 1 : Number(chText);
    if (!Number.isInteger(sampleRate) || sampleRate < 8000 || sampleRate > 384000) {
      reasons.push(`payload type ${pt}: rate "${rateText}" is not a sample rate`);
      continue;
    }
    if (!Number.isInteger(channels) || channels < 1 || channels > MAX_CHANNELS_PER_STREAM) {
      reasons.push(`payload type ${pt}: channel count "${chText}" is not 1–64`);
      continue;
    }
    const ptimeText = attr(b.attrs, "ptime");
    const ptime = ptimeText === null ? NaN : Number(ptimeText);
    const mediaclk = attr(b.attrs, "mediaclk") ?? attr(sessionAttrs, "mediaclk");
    const direct = mediaclk === null ? null : /^direct=(\d+)/.exec(mediaclk.trim());
    const offset = direct ? Number(direct[1]) : 0;
    const filter = attr(b.attrs, "source-filter") ?? attr(sessionAttrs, "source-filter");
    const fparts = filter?.trim().split(/\s+/) ?? [];
    const sourceAddress = fparts[0] === "incl" && fparts.length >= 5 && isIpv4(fparts[4])
      ? fparts[4]
      : null;
    const labelText = b.attrs.filter(([k]) => k === "label").map(([, v]) => v.trim());
    const labels = (labelText.length === channels && channels > 1 ? labelText : null) ??
      parseLabels(labelText.join(","), channels) ?? parseLabels(b.info, channels) ??
      parseLabels(sessionInfo, channels) ?? new Array<string>(channels).fill("");
    return {
      index: b.index,
      group: conn.address,
      ttl: conn.ttl,
      port,
      payloadType: pt,
      encoding,
      sampleRate,
      channels,
      ptimeMs: Number.isFinite(ptime) && ptime > 0 && ptime <= 1000 ? ptime : null,
      refclk: attr(b.attrs, "ts-refclk") ?? attr(sessionAttrs, "ts-refclk"),
      mediaclk,
      mediaclkOffset: Number.isSafeInteger(offset) ? offset % 2 ** 32 : 0,
      sourceAddress,
      labels,
    };
  }
  return `media ${b.index}: ${reasons.length ? reasons.join("; ") : "no usable payload type"}`;
}

/** Parses one session description (see the header). */
export function parseSdp(text: string): SdpResult {
  if (typeof text !== "string") return { ok: false, error: "SDP is not text" };
  if (text.length > MAX_SDP_CHARS) return { ok: false, error: "SDP is too long" };
  const lines = text.split(/\r?\n/).map((l) => l.replace(/\r$/, "")).filter((l) => l !== "");
  if (lines[0] !== "v=0") return { ok: false, error: "SDP does not start with v=0" };
  let origin: SdpOrigin | null = null;
  let name: string | null = null;
  let info = "";
  let sessionConn: Conn | string | null = null;
  const sessionAttrs: [string, string][] = [];
  const blocks: MediaBlock[] = [];
  for (const line of lines.slice(1)) {
    if (line.length < 2 || line[1] !== "=") continue; // not a type=value line: ignored
    const type = line[0];
    const value = line.slice(2);
    const block = blocks.at(-1);
    if (type === "m") {
      blocks.push({ index: blocks.length, mline: value, conn: null, info: "", attrs: [] });
    } else if (type === "c") {
      if (block) block.conn = parseConnection(value);
      else sessionConn = parseConnection(value);
    } else if (type === "i") {
      if (block) block.info = value;
      else info = value;
    } else if (type === "a") {
      const colon = value.indexOf(":");
      const entry: [string, string] = colon === -1
        ? [value, ""]
        : [value.slice(0, colon), value.slice(colon + 1)];
      (block ? block.attrs : sessionAttrs).push(entry);
    } else if (!block && type === "o") {
      const o = value.trim().split(/\s+/);
      if (o.length !== 6) return { ok: false, error: `o= line "${value}" does not have 6 fields` };
      origin = { username: o[0], sessionId: o[1], sessionVersion: o[2], address: o[5] };
    } else if (!block && type === "s") {
      name = value;
    }
  }
  if (origin === null) return { ok: false, error: "SDP has no o= line" };
  if (name === null) return { ok: false, error: "SDP has no s= line" };
  const streams: SdpAudioStream[] = [];
  const skipped: string[] = [];
  for (const b of blocks) {
    const s = mediaStream(b, sessionConn, sessionAttrs, info);
    if (typeof s === "string") skipped.push(s);
    else streams.push(s);
  }
  return { ok: true, session: { origin, name, info, streams, skipped } };
}
