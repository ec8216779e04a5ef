/**
 * RTCP (RFC 3550 §6) packets: sender reports, receiver reports, SDES CNAME
 * and BYE, written into caller-owned buffers and parsed with every length
 * checked first. Standalone (no server imports): the unicast streams
 * (src/session/rtcp_agent.ts), the reference client and the AES67 output use it.
 *
 * Common header of every RTCP packet (§6.4.1):
 *
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |V=2|P|   RC    |      PT       |      length (words − 1)       |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * | SSRC of sender                                                |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * SR: + NTP timestamp (64, seconds since 1900 . fraction), RTP timestamp of
 * the same instant, sender's packet count, sender's octet count (payload
 * bytes only), then RC report blocks of 24 bytes each:
 *
 * | SSRC of source | fraction lost (8) cumulative lost (24, signed) |
 * | extended highest sequence number received | interarrival jitter |
 * | last SR (LSR: middle 32 bits of its NTP) | delay since last SR (DLSR, 1/65536 s) |
 *
 * RR: the sender SSRC, then RC report blocks. SDES: chunks of (SSRC, items
 * (type, length, text)…, 0) padded to 32 bits. BYE: SC SSRCs, optional reason.
 */

export const RTCP_VERSION = 2;
export const PT_SR = 200;
export const PT_RR = 201;
export const PT_SDES = 202;
export const PT_BYE = 203;
export const PT_APP = 204;
export const SDES_CNAME = 1;

const HEADER_BYTES = 8;
const SENDER_INFO_BYTES = 20;
const REPORT_BLOCK_BYTES = 24;
/** Report blocks in one SR/RR: RC is 5 bits. */
export const MAX_REPORT_BLOCKS = 31;
/** Seconds from the NTP epoch (1900-01-01) to the Unix epoch. */
export const NTP_UNIX_OFFSET_S = 2_208_988_800;
const TWO_32 = 0x1_0000_0000;

/** One receiver's view of one source (a report block of an SR or RR). */
export interface ReportBlock {
  /** The source reported on (our stream's SSRC). */
  ssrc: number;
  /** Packets lost since the previous report, as a fraction 0…255/256 (the 8-bit field). */
  fractionLost: number;
  /** Packets lost since reception began (signed 24-bit: duplicates can make it negative). */
  cumulativeLost: number;
  /** Extended highest sequence number received. */
  highestSeq: number;
  /** Interarrival jitter in RTP timestamp units (§6.4.1, A.8). */
  jitter: number;
  /** Middle 32 bits of the NTP time of the last SR received from the source (0: none). */
  lsr: number;
  /** Delay from receiving that SR to sending this report, in 1/65536 s. */
  dlsr: number;
}

export type RtcpPacket =
  | {
    type: "sr";
    ssrc: number;
    ntpSeconds: number;
    ntpFraction: number;
    rtpTimestamp: number;
    packetCount: number;
    octetCount: number;
    reports: ReportBlock[];
  }
  | { type: "rr"; ssrc: number; reports: ReportBlock[] }
  | { type: "sdes"; chunks: { ssrc: number; cname: string | null }[] }
  | { type: "bye"; ssrcs: number[]; reason: string | null }
  | { type: "other"; packetType: number };

// ---------------------------------------------------------------- time

/** The 64-bit NTP timestamp of `unixMs` as [seconds, fraction] (both unsigned 32-bit). */
export function ntpFromUnixMs(unixMs: number): [number, number] {
  const s = Math.floor(unixMs / 1000);
  const frac = Math.floor(((unixMs - s * 1000) / 1000) * TWO_32);
  return [(s + NTP_UNIX_OFFSET_S) >>> 0, Math.min(frac, TWO_32 - 1) >>> 0];
}

/** Unix ms of an NTP timestamp (seconds in the era 1968–2104, as RFC 3550 assumes). */
export function unixMsFromNtp(seconds: number, fraction: number): number {
  return (seconds - NTP_UNIX_OFFSET_S) * 1000 + (fraction / TWO_32) * 1000;
}

/** The middle 32 bits of `unixMs`'s NTP timestamp (what LSR echoes; units of 1/65536 s). */
export function ntpMiddle32(unixMs: number): number {
  const [s, f] = ntpFromUnixMs(unixMs);
  return (((s & 0xffff) << 16) | (f >>> 16)) >>> 0;
}

/**
 * Round trip (RFC 3550 §6.4.1) from a report block's LSR/DLSR and the report's
 * arrival time, in ms; null when the block echoes no SR (LSR 0) or the result
 * is negative (clocks or fields that cannot be right).
 */
export function roundTripMs(arrivalUnixMs: number, lsr: number, dlsr: number): number | null {
  if (lsr === 0) return null;
  const a = ntpMiddle32(arrivalUnixMs);
  const rtt = (a - lsr - dlsr) | 0; // modulo 2^32, as a signed difference
  if (rtt < 0) return null;
  return (rtt / 65536) * 1000;
}

// ---------------------------------------------------------------- writing

function writeU32(buf: Uint8Array, off: number, v: number): void {
  buf[off] = (v >>> 24) & 0xff;
  buf[off + 1] = (v >>> 16) & 0xff;
  buf[off + 2] = (v >>> 8) & 0xff;
  buf[off + 3] = v & 0xff;
}

function readU32(buf: Uint8Array, off: number): number {
  return ((buf[off] << 24) | (buf[off + 1] << 16) | (buf[off + 2] << 8) | buf[off + 3]) >>> 0;
}

function writeHeader(buf: Uint8Array, off: number, count: number, pt: number, bytes: number) {
  buf[off] = (RTCP_VERSION << 6) | (count & 0x1f);
  buf[off + 1] = pt;
  const words = bytes / 4 - 1;
  buf[off + 2] = (words >>> 8) & 0xff;
  buf[off + 3] = words & 0xff;
}

function writeBlocks(buf: Uint8Array, off: number, blocks: readonly ReportBlock[]): number {
  for (const b of blocks) {
    writeU32(buf, off, b.ssrc);
    const lost = Math.max(-0x800000, Math.min(0x7fffff, Math.trunc(b.cumulativeLost)));
    writeU32(buf, off + 4, (Math.max(0, Math.min(255, b.fractionLost)) << 24) | (lost & 0xffffff));
    writeU32(buf, off + 8, b.highestSeq);
    writeU32(buf, off + 12, b.jitter);
    writeU32(buf, off + 16, b.lsr);
    writeU32(buf, off + 20, b.dlsr);
    off += REPORT_BLOCK_BYTES;
  }
  return off;
}

function checkRoom(buf: Uint8Array, off: number, bytes: number): void {
  if (off + bytes > buf.length) {
    throw new RangeError(`RTCP packet needs ${off + bytes} bytes, the buffer has ${buf.length}`);
  }
}

/**
 * Writes a sender report at `buf[off..]`; returns the offset after it.
 * `ntpUnixMs` and `rtpTimestamp` name the same instant (the stream's RTP clock
 * at that wall-clock time); `octetCount` counts payload bytes only (§6.4.1).
 */
export function writeSenderReport(
  buf: Uint8Array,
  off: number,
  ssrc: number,
  ntpUnixMs: number,
  rtpTimestamp: number,
  packetCount: number,
  octetCount: number,
  blocks: readonly ReportBlock[] = [],
): number {
  if (blocks.length > MAX_REPORT_BLOCKS) throw new RangeError("more than 31 report blocks");
  const bytes = HEADER_BYTES + SENDER_INFO_BYTES + blocks.length * REPORT_BLOCK_BYTES;
  checkRoom(buf, off, bytes);
  writeHeader(buf, off, blocks.length, PT_SR, bytes);
  writeU32(buf, off + 4, ssrc);
  const [s, f] = ntpFromUnixMs(ntpUnixMs);
  writeU32(buf, off + 8, s);
  writeU32(buf, off + 12, f);
  writeU32(buf, off + 16, rtpTimestamp >>> 0);
  writeU32(buf, off + 20, packetCount % TWO_32);
  writeU32(buf, off + 24, octetCount % TWO_32);
  return writeBlocks(buf, off + HEADER_BYTES + SENDER_INFO_BYTES, blocks);
}

/** Writes a receiver report (the sender of it sends no media); returns the offset after it. */
export function writeReceiverReport(
  buf: Uint8Array,
  off: number,
  ssrc: number,
  blocks: readonly ReportBlock[],
): number {
  if (blocks.length > MAX_REPORT_BLOCKS) throw new RangeError("more than 31 report blocks");
  const bytes = HEADER_BYTES + blocks.length * REPORT_BLOCK_BYTES;
  checkRoom(buf, off, bytes);
  writeHeader(buf, off, blocks.length, PT_RR, bytes);
  writeU32(buf, off + 4, ssrc);
  return writeBlocks(buf, off + HEADER_BYTES, blocks);
}

/** Writes an SDES packet with one chunk holding one CNAME item (UTF-8, ≤ 255 bytes). */
export function writeSdesCname(buf: Uint8Array, off: number, ssrc: number, cname: Uint8Array) {
  if (cname.length > 255) throw new RangeError("a CNAME is at most 255 bytes");
  // SSRC, item type, length, text, then at least one null octet, padded to 32 bits.
  const bytes = 4 + Math.ceil((4 + 2 + cname.length + 1) / 4) * 4;
  checkRoom(buf, off, bytes);
  writeHeader(buf, off, 1, PT_SDES, bytes);
  writeU32(buf, off + 4, ssrc);
  buf[off + 8] = SDES_CNAME;
  buf[off + 9] = cname.length;
  buf.set(cname, off + 10);
  buf.fill(0, off + 10 + cname.length, off + bytes);
  return off + bytes;
}

/** Writes a BYE for `ssrc` with an optional reason (UTF-8, ≤ 255 bytes). */
export function writeBye(buf: Uint8Array, off: number, ssrc: number, reason?: Uint8Array) {
  const r = reason ?? new Uint8Array(0);
  if (r.length > 255) throw new RangeError("a BYE reason is at most 255 bytes");
  const bytes = 8 + (r.length > 0 ? Math.ceil((1 + r.length) / 4) * 4 : 0);
  checkRoom(buf, off, bytes);
  writeHeader(buf, off, 1, PT_BYE, bytes);
  writeU32(buf, off + 4, ssrc);
  if (r.length > 0) {
    buf[off + 8] = r.length;
    buf.set(r, off + 9);
    buf.fill(0, off + 9 + r.length, off + bytes);
  }
  return off + bytes;
}

/** Bytes an SR (no blocks) + SDES CNAME + BYE compound can take, for sizing a buffer. */
export function compoundBytes(cnameBytes: number, reasonBytes = 0): number {
  return HEADER_BYTES + SENDER_INFO_BYTES + 4 + Math.ceil((4 + 2 + cnameBytes + 1) / 4) * 4 +
    8 + Math.ceil((1 + reasonBytes) / 4) * 4;
}

// ---------------------------------------------------------------- parsing

function readBlocks(buf: Uint8Array, off: number, count: number): ReportBlock[] {
  const out: ReportBlock[] = [];
  for (let i = 0; i < count; i++, off += REPORT_BLOCK_BYTES) {
    const word = readU32(buf, off + 4);
    let lost = word & 0xffffff;
    if (lost & 0x800000) lost -= 0x1000000;
    out.push({
      ssrc: readU32(buf, off),
      fractionLost: word >>> 24,
      cumulativeLost: lost,
      highestSeq: readU32(buf, off + 8),
      jitter: readU32(buf, off + 12),
      lsr: readU32(buf, off + 16),
      dlsr: readU32(buf, off + 20),
    });
  }
  return out;
}

const decoder = new TextDecoder("utf-8", { fatal: false });

function readSdes(buf: Uint8Array, off: number, end: number, count: number) {
  const chunks: { ssrc: number; cname: string | null }[] = [];
  for (let c = 0; c < count; c++) {
    if (off + 4 > end) return null;
    const ssrc = readU32(buf, off);
    off += 4;
    let cname: string | null = null;
    for (;;) {
      if (off >= end) return null;
      const type = buf[off];
      if (type === 0) break;
      if (off + 2 > end) return null;
      const len = buf[off + 1];
      if (off + 2 + len > end) return null;
      if (type === SDES_CNAME) cname = decoder.decode(buf.subarray(off + 2, off + 2 + len));
      off += 2 + len;
    }
    // The null item ends the chunk; the next starts on a 32-bit boundary.
    off = (off + 4) & ~3;
    chunks.push({ ssrc, cname });
  }
  return chunks;
}

/**
 * Parses one RTCP datagram (a compound packet, RFC 3550 §6.1, or a single
 * packet): null unless every packet has version 2, a length inside the
 * datagram, a count its length can hold, and padding only on the last; the
 * lengths must add up to the datagram. Unknown packet types are returned as
 * `other`. Never throws, whatever the bytes.
 */
export function parseRtcp(buf: Uint8Array): RtcpPacket[] | null {
  const out: RtcpPacket[] = [];
  let off = 0;
  if (buf.length < 4 || buf.length % 4 !== 0) return null;
  while (off < buf.length) {
    if (off + 4 > buf.length) return null;
    const b0 = buf[off];
    if (b0 >> 6 !== RTCP_VERSION) return null;
    const padded = (b0 & 0x20) !== 0;
    const count = b0 & 0x1f;
    const pt = buf[off + 1];
    const bytes = (((buf[off + 2] << 8) | buf[off + 3]) + 1) * 4;
    const next = off + bytes;
    if (next > buf.length) return null;
    let end = next;
    if (padded) {
      if (next !== buf.length) return null; // only the last packet may be padded
      const pad = buf[next - 1];
      if (pad === 0 || pad > bytes - 4) return null;
      end = next - pad;
    }
    const body = end - off;
    switch (pt) {
      case PT_SR: {
        if (body < HEADER_BYTES + SENDER_INFO_BYTES + count * REPORT_BLOCK_BYTES) return null;
        out.push({
          type: "sr",
          ssrc: readU32(buf, off + 4),
          ntpSeconds: readU32(buf, off + 8),
          ntpFraction: readU32(buf, off + 12),
          rtpTimestamp: readU32(buf, off + 16),
          packetCount: readU32(buf, off + 20),
          octetCount: readU32(buf, off + 24),
          reports: readBlocks(buf, off + HEADER_BYTES + SENDER_INFO_BYTES, count),
        });
        break;
      }
      case PT_RR: {
        if (body < HEADER_BYTES + count * REPORT_BLOCK_BYTES) return null;
        out.push({
          type: "rr",
          ssrc: readU32(buf, off + 4),
          reports: readBlocks(buf, off + HEADER_BYTES, count),
        });
        break;
      }
      case PT_SDES: {
        const chunks = readSdes(buf, off + 4, end, count);
        if (!chunks) return null;
        out.push({ type: "sdes", chunks });
        break;
      }
      case PT_BYE: {
        if (body < 4 + count * 4) return null;
        const ssrcs: number[] = [];
        for (let i = 0; i < count; i++) ssrcs.push(readU32(buf, off + 4 + i * 4));
        let reason: string | null = null;
        const r = off + 4 + count * 4;
        if (r < end) {
          const len = buf[r];
          if (r + 1 + len > end) return null;
          reason = decoder.decode(buf.subarray(r + 1, r + 1 + len));
        }
        out.push({ type: "bye", ssrcs, reason });
        break;
      }
      default:
        out.push({ type: "other", packetType: pt });
    }
    off = next;
  }
  return out;
}
