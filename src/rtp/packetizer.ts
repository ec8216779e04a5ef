/**
 * MTU split: how one packet time of interleaved frames is spread over
 * datagrams that never exceed `max_datagram_bytes` (docs/protocol.md §5).
 *
 * Every packet is sized for the worst case header (12-byte RTP header + the
 * 16-byte extension), so the split is the same whether or not a packet carries
 * the extension. Packets are full but the last, which takes the remainder: a
 * client's packet time then leaves as one UDP GSO message (udp(7): equal
 * segments, a shorter last one) — one system call and one trip through the
 * kernel's UDP stack per client instead of one per datagram.
 */
import { EXT_BYTES, RTP_HEADER_BYTES } from "./packet.ts";

export const MAX_HEADER_BYTES = RTP_HEADER_BYTES + EXT_BYTES;

export interface PacketPlan {
  /** Datagrams per packet time. */
  packets: number;
  /** First frame (within the period) of each packet. */
  frameOffsets: number[];
  /** Frames in each packet. */
  frameCounts: number[];
  /** Largest datagram the plan produces, header included. */
  maxDatagramBytes: number;
}

export function planPackets(
  framesPerPeriod: number,
  bytesPerFrame: number,
  maxDatagramBytes: number,
): PacketPlan {
  if (!(framesPerPeriod > 0) || !Number.isInteger(framesPerPeriod)) {
    throw new RangeError(`frames per period must be a positive integer, got ${framesPerPeriod}`);
  }
  const room = maxDatagramBytes - MAX_HEADER_BYTES;
  if (room < bytesPerFrame) {
    throw new RangeError(
      `a ${bytesPerFrame}-byte frame needs a datagram of ${
        bytesPerFrame + MAX_HEADER_BYTES
      } bytes, ` +
        `max_datagram_bytes is ${maxDatagramBytes}`,
    );
  }
  const perPacket = Math.min(Math.floor(room / bytesPerFrame), framesPerPeriod);
  const packets = Math.ceil(framesPerPeriod / perPacket);
  const frameOffsets: number[] = [];
  const frameCounts: number[] = [];
  for (let off = 0; off < framesPerPeriod; off += perPacket) {
    frameOffsets.push(off);
    frameCounts.push(Math.min(perPacket, framesPerPeriod - off));
  }
  return {
    packets,
    frameOffsets,
    frameCounts,
    maxDatagramBytes: MAX_HEADER_BYTES + perPacket * bytesPerFrame,
  };
}

/** Frames in one packet time; 2.5 ms at 44.1 kHz is not a whole number of frames, so it rounds. */
export function framesPerPacketTime(sampleRate: number, ptimeMs: number): number {
  return Math.max(1, Math.round((sampleRate * ptimeMs) / 1000));
}
