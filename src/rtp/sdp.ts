/**
 * SDP (RFC 8866) for one client's RTP stream, so stock tools can play it
 * (ffmpeg `-protocol_whitelist file,udp,rtp -i s.sdp`, GStreamer, VLC).
 *
 *   v=0
 *   o=- <session id> <version> IN IP4 <server ip>
 *   s=m32-server
 *   c=IN IP4 <server ip>
 *   t=0 0
 *   m=audio <client udp port> RTP/AVP 96
 *   a=rtpmap:96 L24/48000/16          (RFC 3551 §4.5.11 / RFC 3190 §4)
 *   a=ptime:5
 *   a=rtcp:<server rtp port + 1>         (RFC 3605: where the server takes receiver reports)
 *   a=recvonly
 *   a=extmap:1 urn:x-m32-server:capture-time-ms   (RFC 8285 §5: a URI of our own, not urn:ietf)
 *   a=extmap:2 urn:x-m32-server:event-flags
 *   a=x-m32-channels:1,5,32
 * Opus, several channels (multistream as in RFC 7845 family 255):
 *   a=rtpmap:97 multiopus/48000/16
 *   a=fmtp:97 channel_mapping=0,1,...;num_streams=16;coupled_streams=0
 * Opus, one channel: one mono stream is a plain Opus packet, labelled as RFC 7587 §7 says
 * (always `/2`; mono said by `sprop-stereo=0`), so stock tools (ffmpeg) play it:
 *   a=rtpmap:97 opus/48000/2
 *   a=fmtp:97 sprop-stereo=0
 */
import { EXT_ID_CAPTURE_TIME, EXT_ID_EVENT_FLAGS } from "./packet.ts";

export const EXT_URI_CAPTURE_TIME = "urn:x-m32-server:capture-time-ms";
export const EXT_URI_EVENT_FLAGS = "urn:x-m32-server:event-flags";

export interface SdpParams {
  serverIp: string;
  /** The client's receive port. */
  udpPort: number;
  payloadType: number;
  /** "L16" | "L24" | "opus". */
  encoding: string;
  /** RTP clock rate (the stream rate for PCM, 48000 for Opus). */
  clockRate: number;
  /** USB channel ids in send order. */
  channels: readonly number[];
  ptimeMs: number;
  sessionId: number;
  sessionVersion: number;
  /** The server's RTCP port (its RTP port + 1), announced as `a=rtcp:`. */
  rtcpPort?: number;
}

export function buildSdp(p: SdpParams): string {
  const n = p.channels.length;
  const lines = [
    "v=0",
    `o=- ${p.sessionId} ${p.sessionVersion} IN IP4 ${p.serverIp}`,
    "s=m32-server",
    `c=IN IP4 ${p.serverIp}`,
    "t=0 0",
    `m=audio ${p.udpPort} RTP/AVP ${p.payloadType}`,
  ];
  if (p.encoding === "opus" && n === 1) {
    lines.push(`a=rtpmap:${p.payloadType} opus/${p.clockRate}/2`);
    lines.push(`a=fmtp:${p.payloadType} sprop-stereo=0`);
  } else if (p.encoding === "opus") {
    lines.push(`a=rtpmap:${p.payloadType} multiopus/${p.clockRate}/${n}`);
    lines.push(
      `a=fmtp:${p.payloadType} channel_mapping=${[...Array(n).keys()].join(",")};` +
        `num_streams=${n};coupled_streams=0`,
    );
  } else {
    lines.push(`a=rtpmap:${p.payloadType} ${p.encoding}/${p.clockRate}/${n}`);
  }
  lines.push(`a=ptime:${p.ptimeMs}`);
  if (p.rtcpPort !== undefined) lines.push(`a=rtcp:${p.rtcpPort}`);
  lines.push(
    "a=recvonly",
    `a=extmap:${EXT_ID_CAPTURE_TIME} ${EXT_URI_CAPTURE_TIME}`,
    `a=extmap:${EXT_ID_EVENT_FLAGS} ${EXT_URI_EVENT_FLAGS}`,
    `a=x-m32-channels:${p.channels.join(",")}`,
  );
  return lines.join("\r\n") + "\r\n";
}
