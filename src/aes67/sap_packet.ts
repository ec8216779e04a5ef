/**
 * SAP packets (RFC 2974 §3) carrying SDP, IPv4, no authentication or
 * encryption:
 *
 *    0                   1                   2                   3
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   | V=1 |A|R|T|E|C|   auth len    |         msg id hash           |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                originating source (IPv4)                      |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   | "application/sdp" NUL | SDP text …
 *
 * T = 0 announces, T = 1 deletes (the payload of a deletion is the
 * session's `o=` line). The message id hash changes whenever the SDP does.
 */

export const SAP_GROUP = "239.255.255.255";
export const SAP_PORT = 9875;
/** RFC 2974 leaves the interval to the bandwidth; §13 fixes it at 30 s. */
export const SAP_INTERVAL_MS = 30_000;
export const SAP_PAYLOAD_TYPE = "application/sdp";

const V1 = 0x20;
const T_DELETE = 0x04;

export function ipv4ToBytes(ip: string): Uint8Array {
  const parts = ip.split(".").map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) {
    throw new RangeError(`not an IPv4 address: ${ip}`);
  }
  return new Uint8Array(parts);
}

/** A 16-bit, non-zero hash of the SDP text (FNV-1a folded): changes with the SDP. */
export function sapMessageHash(sdp: string): number {
  let h = 0x811c9dc5;
  for (const b of new TextEncoder().encode(sdp)) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  const folded = ((h >>> 16) ^ h) & 0xffff;
  return folded === 0 ? 1 : folded;
}

export interface SapPacketParams {
  /** The announcing interface's IPv4 address. */
  origin: string;
  /** The SDP the session is announced with (deletion: the same one, its hash identifies it). */
  sdp: string;
  deletion?: boolean;
  /** What a deletion carries: the `o=` line (RFC 2974 §6); default the whole SDP. */
  payload?: string;
}

export function buildSapPacket(p: SapPacketParams): Uint8Array {
  const enc = new TextEncoder();
  const type = enc.encode(SAP_PAYLOAD_TYPE);
  const body = enc.encode(p.payload ?? p.sdp);
  const out = new Uint8Array(8 + type.length + 1 + body.length);
  out[0] = V1 | (p.deletion ? T_DELETE : 0);
  out[1] = 0;
  const hash = sapMessageHash(p.sdp);
  out[2] = hash >>> 8;
  out[3] = hash & 0xff;
  out.set(ipv4ToBytes(p.origin), 4);
  out.set(type, 8);
  out[8 + type.length] = 0;
  out.set(body, 9 + type.length);
  return out;
}

/** What a SAP packet says (for tests and the wire check; the input side parses in sap_listener.ts). */
export interface SapHeader {
  deletion: boolean;
  hash: number;
  origin: string;
  payloadType: string;
  payload: string;
}

export function readSapHeader(buf: Uint8Array): SapHeader {
  if (buf.length < 8 || buf[0] >> 5 !== 1) throw new Error("not a SAP v1 packet");
  if (buf[0] & 0x10) throw new Error("IPv6 SAP is not read here");
  const authWords = buf[1];
  let off = 8 + authWords * 4;
  const rest = new TextDecoder().decode(buf.subarray(off));
  let payloadType = "application/sdp";
  if (!rest.startsWith("v=0")) {
    const nul = buf.indexOf(0, off);
    if (nul < 0) throw new Error("SAP payload type without its NUL");
    payloadType = new TextDecoder().decode(buf.subarray(off, nul));
    off = nul + 1;
  }
  return {
    deletion: (buf[0] & T_DELETE) !== 0,
    hash: (buf[2] << 8) | buf[3],
    origin: `${buf[4]}.${buf[5]}.${buf[6]}.${buf[7]}`,
    payloadType,
    payload: new TextDecoder().decode(buf.subarray(off)),
  };
}
