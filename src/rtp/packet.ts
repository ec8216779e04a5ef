/**
 * RTP fixed header (RFC 3550 §5.1) and our header extension in the RFC 8285
 * one-byte form (§4.2), written into caller-owned buffers (no allocation) and
 * parsed with every length checked first.
 *
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |V=2|P|X|  CC   |M|     PT      |       sequence number         |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                           timestamp                           |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |           synchronization source (SSRC) identifier            |
 * +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
 * |      0xBE     |      0xDE     |         length = 3            |  X = 1 only
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * | ID=1  | L=7   |  capture time, ms since the Unix epoch, u64 BE |
 * +-+-+-+-+-+-+-+-+                                               +
 * |                                                               |
 * +               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |               | ID=2  | L=0   |  event flags  |  0 (padding)  |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * An element's L field is its data length minus one (RFC 8285 §4.2).
 */

export const RTP_VERSION = 2;
export const RTP_HEADER_BYTES = 12;
export const EXT_PROFILE_ONE_BYTE = 0xbede;
/** Our extension block: 4-byte extension header + 12 bytes of elements and padding. */
export const EXT_BYTES = 16;
export const EXT_LENGTH_WORDS = 3;
export const EXT_ID_CAPTURE_TIME = 1;
export const EXT_ID_EVENT_FLAGS = 2;
export const EXT_CAPTURE_TIME_BYTES = 8;

export const EVENT_TIME_SYNC = 0x01;
export const EVENT_STATUS_UPDATE = 0x02;
export const EVENT_CONTROL_MESSAGE = 0x04;

export const PT_PCM = 96;
export const PT_OPUS = 97;

const FLAG_PADDING = 0x20;
const FLAG_EXTENSION = 0x10;
const MASK_CSRC_COUNT = 0x0f;
const FLAG_MARKER = 0x80;
const MASK_PT = 0x7f;
const TWO_32 = 0x1_0000_0000;

/** Pass as `captureTimeMs` to write a packet without the extension. */
export const NO_EXTENSION = -1;

/**
 * Writes the RTP header (and, when `captureTimeMs >= 0`, the 16-byte extension)
 * at `buf[0..]`; returns the header length (12 or 28). Byte by byte: no
 * DataView or BigInt, so nothing is allocated per packet.
 */
export function writeRtpHeader(
  buf: Uint8Array,
  marker: boolean,
  payloadType: number,
  sequence: number,
  timestamp: number,
  ssrc: number,
  captureTimeMs: number,
  eventFlags: number,
): number {
  const ext = captureTimeMs >= 0;
  buf[0] = (RTP_VERSION << 6) | (ext ? FLAG_EXTENSION : 0);
  buf[1] = (marker ? FLAG_MARKER : 0) | (payloadType & MASK_PT);
  buf[2] = (sequence >>> 8) & 0xff;
  buf[3] = sequence & 0xff;
  writeU32(buf, 4, timestamp);
  writeU32(buf, 8, ssrc);
  if (!ext) return RTP_HEADER_BYTES;
  const ms = Math.floor(captureTimeMs);
  buf[12] = EXT_PROFILE_ONE_BYTE >>> 8;
  buf[13] = EXT_PROFILE_ONE_BYTE & 0xff;
  buf[14] = 0;
  buf[15] = EXT_LENGTH_WORDS;
  buf[16] = (EXT_ID_CAPTURE_TIME << 4) | (EXT_CAPTURE_TIME_BYTES - 1);
  writeU32(buf, 17, Math.floor(ms / TWO_32));
  writeU32(buf, 21, ms % TWO_32);
  buf[25] = (EXT_ID_EVENT_FLAGS << 4) | 0;
  buf[26] = eventFlags & 0xff;
  buf[27] = 0;
  return RTP_HEADER_BYTES + EXT_BYTES;
}

function writeU32(buf: Uint8Array, off: number, v: number): void {
  buf[off] = (v >>> 24) & 0xff;
  buf[off + 1] = (v >>> 16) & 0xff;
  buf[off + 2] = (v >>> 8) & 0xff;
  buf[off + 3] = v & 0xff;
}

/** A parsed RTP packet. Reuse one with `parseRtpInto` on receive paths. */
export interface RtpPacketInfo {
  marker: boolean;
  payloadType: number;
  sequence: number;
  timestamp: number;
  ssrc: number;
  csrcCount: number;
  /** Capture time (epoch ms) from extension element 1, or -1 when absent. */
  captureTimeMs: number;
  /** Event flags from extension element 2, or 0. */
  eventFlags: number;
  /** Offset and length of the payload inside the parsed buffer. */
  payloadOffset: number;
  payloadLength: number;
}

export function emptyRtpPacketInfo(): RtpPacketInfo {
  return {
    marker: false,
    payloadType: 0,
    sequence: 0,
    timestamp: 0,
    ssrc: 0,
    csrcCount: 0,
    captureTimeMs: -1,
    eventFlags: 0,
    payloadOffset: 0,
    payloadLength: 0,
  };
}

/** Parses `buf[0..length]` into `out`. Throws RangeError naming both lengths when truncated. */
export function parseRtpInto(
  buf: Uint8Array,
  length: number,
  out: RtpPacketInfo,
): RtpPacketInfo {
  if (length < RTP_HEADER_BYTES) {
    throw new RangeError(`RTP header needs ${RTP_HEADER_BYTES} bytes, got ${length}`);
  }
  const b0 = buf[0];
  if (b0 >> 6 !== RTP_VERSION) throw new RangeError(`RTP version must be 2, got ${b0 >> 6}`);
  const view = new DataView(buf.buffer, buf.byteOffset, length);
  out.csrcCount = b0 & MASK_CSRC_COUNT;
  out.marker = (buf[1] & FLAG_MARKER) !== 0;
  out.payloadType = buf[1] & MASK_PT;
  out.sequence = view.getUint16(2);
  out.timestamp = view.getUint32(4);
  out.ssrc = view.getUint32(8);
  out.captureTimeMs = -1;
  out.eventFlags = 0;
  let off = RTP_HEADER_BYTES + out.csrcCount * 4;
  if (length < off) throw new RangeError(`RTP header with CSRCs needs ${off} bytes, got ${length}`);
  if (b0 & FLAG_EXTENSION) {
    if (length < off + 4) {
      throw new RangeError(`RTP extension header needs ${off + 4} bytes, got ${length}`);
    }
    const profile = view.getUint16(off);
    const extLen = view.getUint16(off + 2) * 4;
    const start = off + 4;
    const end = start + extLen;
    if (length < end) throw new RangeError(`RTP extension needs ${end} bytes, got ${length}`);
    if (profile === EXT_PROFILE_ONE_BYTE) parseOneByteElements(buf, view, start, end, out);
    off = end;
  }
  let payloadEnd = length;
  if (b0 & FLAG_PADDING) {
    const pad = buf[length - 1];
    if (pad === 0 || off + pad > length) {
      throw new RangeError(`RTP padding of ${pad} bytes does not fit a ${length}-byte packet`);
    }
    payloadEnd -= pad;
  }
  out.payloadOffset = off;
  out.payloadLength = payloadEnd - off;
  return out;
}

export function parseRtp(buf: Uint8Array, length = buf.length): RtpPacketInfo {
  return parseRtpInto(buf, length, emptyRtpPacketInfo());
}

function parseOneByteElements(
  buf: Uint8Array,
  view: DataView,
  start: number,
  end: number,
  out: RtpPacketInfo,
): void {
  let i = start;
  while (i < end) {
    const b = buf[i];
    if (b === 0) { // padding byte
      i++;
      continue;
    }
    const id = b >> 4;
    if (id === 15) break; // reserved: stop processing (RFC 8285 §4.2)
    const len = (b & 0x0f) + 1;
    if (i + 1 + len > end) {
      throw new RangeError(`RTP extension element ${id} needs ${len} bytes, got ${end - i - 1}`);
    }
    if (id === EXT_ID_CAPTURE_TIME && len === EXT_CAPTURE_TIME_BYTES) {
      out.captureTimeMs = view.getUint32(i + 1) * TWO_32 + view.getUint32(i + 5);
    } else if (id === EXT_ID_EVENT_FLAGS && len === 1) {
      out.eventFlags = buf[i + 1];
    }
    i += 1 + len;
  }
}
