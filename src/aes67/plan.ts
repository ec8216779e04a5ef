/**
 * How the AES67 output is laid out (docs/protocol.md §13): the mapped
 * channels in send order, `channels_per_stream` to a stream, stream k on
 * `multicast_base + k`, packets of `ptime_us`. Pure: shared by the
 * validation, the control plane and the audio plane.
 */

export const AES67_MAX_CHANNELS = 8;
/**
 * AES67 payload limit: 1440 bytes of audio per packet (AES67-2018 §7.2.2,
 * below a 1500-byte MTU with IP, UDP and RTP headers), so nothing is fragmented.
 */
export const AES67_MAX_PAYLOAD_BYTES = 1440;
export const L24_BYTES = 3;

/** Frames in one packet time at `rate` (333 µs is 16 frames at 48 kHz, a third of a ms). */
export function aes67FramesPerPacket(ptimeUs: number, rate = 48000): number {
  const exact = ptimeUs === 333 ? rate / 3000 : (rate * ptimeUs) / 1e6;
  return Math.max(1, Math.round(exact));
}

/** The most channels per stream whose packets of `ptimeUs` fit the payload limit. */
export function aes67MaxChannelsPerStream(ptimeUs: number, rate = 48000): number {
  const perChannel = aes67FramesPerPacket(ptimeUs, rate) * L24_BYTES;
  return Math.max(
    1,
    Math.min(AES67_MAX_CHANNELS, Math.floor(AES67_MAX_PAYLOAD_BYTES / perChannel)),
  );
}

export function ipv4ToNumber(ip: string): number {
  const p = ip.split(".").map(Number);
  return ((p[0] << 24) >>> 0) + (p[1] << 16) + (p[2] << 8) + p[3];
}

export function numberToIpv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff].join(".");
}

/** One multicast stream of the output. */
export interface StreamLayout {
  index: number;
  group: string;
  /** USB channel ids, in send order. */
  channels: number[];
}

/** The streams for `channelIds` (mapped channels in send order). */
export function planStreams(
  channelIds: readonly number[],
  channelsPerStream: number,
  multicastBase: string,
): StreamLayout[] {
  const base = ipv4ToNumber(multicastBase);
  const out: StreamLayout[] = [];
  for (let i = 0, k = 0; i < channelIds.length; i += channelsPerStream, k++) {
    out.push({
      index: k,
      group: numberToIpv4(base + k),
      channels: channelIds.slice(i, i + channelsPerStream),
    });
  }
  return out;
}
