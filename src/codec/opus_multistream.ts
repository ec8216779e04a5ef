/**
 * Opus multistream packets (the payload of our RTP payload type 97), built
 * from N separately encoded mono Opus packets and split back into them.
 *
 * What `opus_multistream_decode` expects (RFC 7845 §5.1.1, channel mapping
 * family 255 as we use it: N streams, 0 coupled, mapping [0, 1, …, N−1]):
 * the N packets back to back, all but the last in the self-delimiting framing
 * of RFC 6716 Appendix B, the last in the ordinary framing of RFC 6716 §3.
 *
 *  +------------------------+------------------------+-----+----------------+
 *  | stream 0 self-delimited| stream 1 self-delimited| ... | stream N−1     |
 *  +------------------------+------------------------+-----+----------------+
 *
 * Ordinary packet, RFC 6716 §3.1 (TOC byte) and §3.2 (frame packing):
 *
 *   0 1 2 3 4 5 6 7
 *  +-+-+-+-+-+-+-+-+
 *  | config  |s| c |   c: 0 = one frame, 1 = two equal frames,
 *  +-+-+-+-+-+-+-+-+      2 = two frames (first length given), 3 = M frames
 *
 *  code 0:  | TOC | frame ............................................ |
 *  code 1:  | TOC | frame 1 | frame 2 |                    (equal halves)
 *  code 2:  | TOC | N1 (1–2 B) | frame 1 (N1) | frame 2 (rest) |
 *  code 3:  | TOC |v|p|  M  | padding length (if p) | N1..N(M−1) (if v) |
 *           | frames ... | padding |          (CBR, v = 0: equal frames)
 *
 * Self-delimited packet, RFC 6716 Appendix B: one extra length field is
 * inserted right before the first frame's data, after every existing length
 * field; it gives the size of the last frame (for code 1 and CBR code 3, the
 * size of every frame):
 *
 *  code 0:  | TOC | N (1–2 B) | frame (N) |
 *  code 1:  | TOC | N | frame 1 (N) | frame 2 (N) |
 *  code 2:  | TOC | N1 | N2 | frame 1 (N1) | frame 2 (N2) |
 *  code 3:  | TOC |v|p|M| padding length | N1..N(M−1) | NM | frames | padding |
 *
 * Lengths (RFC 6716 §3.2.1): 0–251 in one byte; 252–1275 in two bytes,
 * first byte 252–255, length = 4 × second + first.
 */

/** RFC 6716 §3.2.1 */
const ONE_BYTE_LENGTH_MAX = 251;
const TWO_BYTE_LENGTH_FIRST_MIN = 252;
export const OPUS_FRAME_BYTES_MAX = 1275;
/** RFC 6716 §3.2.5: at most 120 ms of audio in one packet. */
const PACKET_DURATION_MAX_US = 120_000;

const TOC_CODE_MASK = 0x03;
const TOC_CONFIG_SHIFT = 3;
const CODE_TWO_EQUAL = 1;
const CODE_TWO_VARIABLE = 2;
const CODE_ARBITRARY = 3;
const COUNT_VBR_FLAG = 0x80;
const COUNT_PADDING_FLAG = 0x40;
const COUNT_MASK = 0x3f;
const PADDING_CONTINUE = 255;
const PADDING_CONTINUE_BYTES = 254;

/** Frame duration in µs for each TOC config (RFC 6716 §3.1, Table 2). */
const FRAME_US_BY_CONFIG = [
  10000,
  20000,
  40000,
  60000,
  10000,
  20000,
  40000,
  60000,
  10000,
  20000,
  40000,
  60000,
  10000,
  20000,
  10000,
  20000,
  2500,
  5000,
  10000,
  20000,
  2500,
  5000,
  10000,
  20000,
  2500,
  5000,
  10000,
  20000,
  2500,
  5000,
  10000,
  20000,
];

/** One packet's layout, filled by `scan` (a single reused object: no allocation). */
const scanned = {
  /** Offset of the first frame's data; where Appendix B puts the extra length. */
  dataStart: 0,
  /** Bytes of the self-delimiting length field found (0 when scanning ordinary framing). */
  sdLengthBytes: 0,
  /** Size of the last frame (code 1 / CBR code 3: of every frame). */
  lastFrameBytes: 0,
  /** Offset just past the packet. */
  end: 0,
};

/** Bytes a frame length takes in the §3.2.1 encoding. */
export function frameLengthBytes(n: number): number {
  return n <= ONE_BYTE_LENGTH_MAX ? 1 : 2;
}

/** Writes a §3.2.1 frame length at `buf[at]`; returns the bytes written. */
function writeFrameLength(buf: Uint8Array, at: number, n: number): number {
  if (n <= ONE_BYTE_LENGTH_MAX) {
    buf[at] = n;
    return 1;
  }
  const first = TWO_BYTE_LENGTH_FIRST_MIN + (n & 3);
  buf[at] = first;
  buf[at + 1] = (n - first) >> 2;
  return 2;
}

let lengthBytesRead = 0;
/** Reads a §3.2.1 frame length at `buf[at]` (before `end`); sets `lengthBytesRead`. */
function readFrameLength(buf: Uint8Array, at: number, end: number, what: string): number {
  if (at >= end) {
    throw new RangeError(`${what}: frame length needs 1 byte at ${at}, packet ends at ${end}`);
  }
  const first = buf[at];
  if (first < TWO_BYTE_LENGTH_FIRST_MIN) {
    lengthBytesRead = 1;
    return first;
  }
  if (at + 1 >= end) {
    throw new RangeError(
      `${what}: two-byte frame length needs 2 bytes at ${at}, packet ends at ${end}`,
    );
  }
  lengthBytesRead = 2;
  return 4 * buf[at + 1] + first;
}

/**
 * Parses the packet starting at `start`, at most up to `end`, in ordinary framing
 * (the packet is exactly `start..end`) or self-delimited framing (it ends where its
 * lengths say). Fills `scanned`; throws RangeError naming the numbers on any violation
 * of RFC 6716 §3.4 that matters for framing.
 */
function scan(
  buf: Uint8Array,
  start: number,
  end: number,
  selfDelimited: boolean,
  what: string,
): void {
  if (start >= end) throw new RangeError(`${what}: an Opus packet needs at least 1 byte, got 0`);
  const toc = buf[start];
  const code = toc & TOC_CODE_MASK;
  const frameUs = FRAME_US_BY_CONFIG[toc >> TOC_CONFIG_SHIFT];
  let pos = start + 1;
  let frames = 1;
  let padding = 0;
  let knownFrameBytes = 0; // bytes of frames whose length is given before the last one
  let cbr = false;
  if (code === CODE_TWO_EQUAL) {
    frames = 2;
    cbr = true;
  } else if (code === CODE_TWO_VARIABLE) {
    frames = 2;
    knownFrameBytes = readFrameLength(buf, pos, end, what);
    pos += lengthBytesRead;
  } else if (code === CODE_ARBITRARY) {
    if (pos >= end) {
      throw new RangeError(
        `${what}: code 3 packet needs a frame count byte at ${pos}, packet ends at ${end}`,
      );
    }
    const countByte = buf[pos++];
    frames = countByte & COUNT_MASK;
    if (frames === 0) throw new RangeError(`${what}: code 3 packet with 0 frames`);
    if (frames * frameUs > PACKET_DURATION_MAX_US) {
      throw new RangeError(`${what}: ${frames} frames of ${frameUs} µs exceed 120 ms`);
    }
    if (countByte & COUNT_PADDING_FLAG) {
      let more = true;
      while (more) {
        if (pos >= end) {
          throw new RangeError(
            `${what}: padding length needs a byte at ${pos}, packet ends at ${end}`,
          );
        }
        const p = buf[pos++];
        more = p === PADDING_CONTINUE;
        padding += more ? PADDING_CONTINUE_BYTES : p;
      }
    }
    cbr = (countByte & COUNT_VBR_FLAG) === 0;
    if (!cbr) {
      for (let i = 0; i < frames - 1; i++) {
        const n = readFrameLength(buf, pos, end, what);
        if (n > OPUS_FRAME_BYTES_MAX) {
          throw new RangeError(`${what}: frame of ${n} bytes exceeds ${OPUS_FRAME_BYTES_MAX}`);
        }
        knownFrameBytes += n;
        pos += lengthBytesRead;
      }
    }
  }
  let last: number;
  let sdBytes = 0;
  let packetEnd: number;
  if (selfDelimited) {
    last = readFrameLength(buf, pos, end, what);
    sdBytes = lengthBytesRead;
    const dataBytes = cbr ? last * frames : knownFrameBytes + last;
    packetEnd = pos + sdBytes + dataBytes + padding;
    if (packetEnd > end) {
      throw new RangeError(
        `${what}: self-delimited packet needs ${packetEnd - start} bytes, ${end - start} left`,
      );
    }
  } else {
    packetEnd = end;
    const dataBytes = end - pos - padding;
    if (dataBytes < knownFrameBytes) {
      throw new RangeError(
        `${what}: frames need ${knownFrameBytes + padding} bytes after the header, got ${
          end - pos
        }`,
      );
    }
    if (cbr) {
      if (dataBytes % frames !== 0) {
        throw new RangeError(
          `${what}: ${dataBytes} bytes do not split into ${frames} equal frames`,
        );
      }
      last = dataBytes / frames;
    } else {
      last = dataBytes - knownFrameBytes;
    }
  }
  if (last > OPUS_FRAME_BYTES_MAX || knownFrameBytes > OPUS_FRAME_BYTES_MAX) {
    throw new RangeError(
      `${what}: frame of ${Math.max(last, knownFrameBytes)} bytes exceeds ${OPUS_FRAME_BYTES_MAX}`,
    );
  }
  scanned.dataStart = pos;
  scanned.sdLengthBytes = sdBytes;
  scanned.lastFrameBytes = last;
  scanned.end = packetEnd;
}

/** Bytes that the packet `packet[0..length)` takes in self-delimiting framing. */
export function selfDelimitedByteLength(packet: Uint8Array, length: number): number {
  scan(packet, 0, checkedLength(packet, length), false, "Opus packet");
  return length + frameLengthBytes(scanned.lastFrameBytes);
}

/**
 * Bytes of the multistream packet made of streams `first .. first+count-1`:
 * `packets[i][0 .. lengths[i])` (ordinary single-stream Opus packets).
 */
export function multistreamByteLength(
  packets: readonly Uint8Array[],
  lengths: ArrayLike<number>,
  first = 0,
  count = packets.length - first,
): number {
  checkRange(packets, first, count);
  let total = 0;
  for (let i = first; i < first + count - 1; i++) {
    total += selfDelimitedByteLength(packets[i], lengths[i]);
  }
  const lastIndex = first + count - 1;
  scan(
    packets[lastIndex],
    0,
    checkedLength(packets[lastIndex], lengths[lastIndex]),
    false,
    `stream ${lastIndex}`,
  );
  return total + lengths[lastIndex];
}

/**
 * Writes the multistream packet of streams `first .. first+count-1` at `buf[offset..]`;
 * returns the bytes written (= multistreamByteLength of the same arguments).
 */
export function writeMultistream(
  buf: Uint8Array,
  offset: number,
  packets: readonly Uint8Array[],
  lengths: ArrayLike<number>,
  first = 0,
  count = packets.length - first,
): number {
  checkRange(packets, first, count);
  let at = offset;
  const lastIndex = first + count - 1;
  for (let i = first; i <= lastIndex; i++) {
    const p = packets[i];
    const len = checkedLength(p, lengths[i]);
    scan(p, 0, len, false, `stream ${i}`);
    const selfDelimited = i < lastIndex;
    const need = len + (selfDelimited ? frameLengthBytes(scanned.lastFrameBytes) : 0);
    if (at + need > buf.length) {
      throw new RangeError(
        `multistream packet needs ${
          at + need - offset
        } bytes from offset ${offset}, buffer has ${buf.length}`,
      );
    }
    if (!selfDelimited) {
      at = copyBytes(p, 0, len, buf, at);
      break;
    }
    const head = scanned.dataStart;
    at = copyBytes(p, 0, head, buf, at);
    at += writeFrameLength(buf, at, scanned.lastFrameBytes);
    at = copyBytes(p, head, len, buf, at);
  }
  return at - offset;
}

/**
 * Splits a multistream packet of `streams` streams into ordinary single-stream
 * packets (copies), checking every length. For the reference client and tests.
 */
export function splitMultistream(packet: Uint8Array, streams: number): Uint8Array[] {
  if (!(Number.isInteger(streams) && streams >= 1 && streams <= 255)) {
    throw new RangeError(`stream count must be 1–255, got ${streams}`);
  }
  const out: Uint8Array[] = [];
  let at = 0;
  for (let s = 0; s < streams - 1; s++) {
    scan(packet, at, packet.length, true, `stream ${s} of ${streams}`);
    const { dataStart, sdLengthBytes, end } = scanned;
    const p = new Uint8Array(end - at - sdLengthBytes);
    p.set(packet.subarray(at, dataStart), 0);
    p.set(packet.subarray(dataStart + sdLengthBytes, end), dataStart - at);
    out.push(p);
    at = end;
  }
  scan(packet, at, packet.length, false, `stream ${streams - 1} of ${streams}`);
  out.push(packet.slice(at));
  return out;
}

/** Copies `src[from..to)` to `dst[at..]` without creating views; returns the new `at`. */
function copyBytes(src: Uint8Array, from: number, to: number, dst: Uint8Array, at: number): number {
  for (let i = from; i < to; i++) dst[at++] = src[i];
  return at;
}

function checkedLength(packet: Uint8Array, length: number): number {
  if (!(length >= 1 && length <= packet.length)) {
    throw new RangeError(`Opus packet length ${length} is outside 1–${packet.length} (its buffer)`);
  }
  return length;
}

function checkRange(packets: readonly Uint8Array[], first: number, count: number): void {
  if (!(count >= 1 && first >= 0 && first + count <= packets.length)) {
    throw new RangeError(
      `streams ${first}..${first + count - 1} are outside the ${packets.length} packets given`,
    );
  }
}
