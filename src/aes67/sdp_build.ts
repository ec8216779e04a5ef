/**
 * The SDP of one AES67 output stream (docs/protocol.md §13, RFC 4566,
 * RFC 7273 for the clock lines, AES67-2018 §8):
 *
 *   v=0
 *   o=- <session id> <version> IN IP4 <interface address>
 *   s=<name> <k+1>
 *   i=<channel names, comma-separated>
 *   c=IN IP4 <group>/<ttl>
 *   t=0 0
 *   m=audio 5004 RTP/AVP 96
 *   a=rtpmap:96 L24/48000/<n>
 *   a=ptime:<ms>
 *   a=ts-refclk:ptp=IEEE1588-2008:<grandmaster>:<domain>   (or localmac=<MAC>)
 *   a=mediaclk:direct=<offset>
 *   a=rtcp:5005                      (sender reports and BYE go to the group's RTP port + 1)
 *   a=recvonly
 *
 * Pure: the caller supplies everything (the output plan, the clock).
 */

/** The RTP port every AES67 stream uses (§13). */
export const AES67_RTP_PORT = 5004;
/** Its RTCP port (RTP + 1, RFC 3550 §11), named in the SDP's `a=rtcp:` (RFC 3605). */
export const AES67_RTCP_PORT = 5005;
export const AES67_PAYLOAD_TYPE = 96;

/** What the SDP says about the media clock. */
export type RefClock =
  | { kind: "ptp"; grandmaster: string; domain: number }
  | { kind: "system"; mac: string };

export interface StreamSdpParams {
  /** Session id for the `o=` line (stable for the stream's life). */
  sessionId: number;
  /** Bumped whenever the description changes. */
  version: number;
  /** The sending interface's IPv4 address. */
  origin: string;
  /** The output's name (`aes67.output.name`). */
  name: string;
  /** Stream number k (0-based); the session is `<name> <k+1>`. */
  index: number;
  group: string;
  ttl: number;
  sampleRate: number;
  /** The channels' names, in stream order. */
  channelNames: readonly string[];
  ptimeUs: number;
  refclk: RefClock;
  /** RTP timestamp at media clock zero (RFC 7273 `direct=`). */
  mediaclkOffset: number;
}

/** `a=ptime` in ms: 1, 0.125, 0.25, 0.333, 4. */
export function ptimeText(ptimeUs: number): string {
  return ptimeUs === 333 ? "0.333" : String(ptimeUs / 1000);
}

/** `ts-refclk` value: `ptp=IEEE1588-2008:<id>:<domain>` or `localmac=<MAC>` (RFC 7273 §4.8). */
export function refclkText(c: RefClock): string {
  return c.kind === "ptp"
    ? `ptp=IEEE1588-2008:${c.grandmaster}:${c.domain}`
    : `localmac=${c.mac.toUpperCase().replaceAll(":", "-")}`;
}

/** One SDP line's text with nothing that could end or break the line. */
function clean(s: string): string {
  // deno-lint-ignore no-control-regex
  return s.replace(/[\x00-\x1f\x7f]/g, " ");
}

export function buildStreamSdp(p: StreamSdpParams): string {
  const lines = [
    "v=0",
    `o=- ${p.sessionId} ${p.version} IN IP4 ${p.origin}`,
    `s=${clean(p.name)} ${p.index + 1}`,
    `i=${clean(p.channelNames.join(", "))}`,
    `c=IN IP4 ${p.group}/${p.ttl}`,
    "t=0 0",
    `m=audio ${AES67_RTP_PORT} RTP/AVP ${AES67_PAYLOAD_TYPE}`,
    `a=rtpmap:${AES67_PAYLOAD_TYPE} L24/${p.sampleRate}/${p.channelNames.length}`,
    `a=ptime:${ptimeText(p.ptimeUs)}`,
    `a=ts-refclk:${refclkText(p.refclk)}`,
    `a=mediaclk:direct=${p.mediaclkOffset}`,
    `a=rtcp:${AES67_RTCP_PORT}`,
    "a=recvonly",
  ];
  return lines.join("\r\n") + "\r\n";
}

/** The `o=` line alone: what a SAP deletion carries (RFC 2974 §6). */
export function originLine(sdp: string): string {
  const line = sdp.split("\r\n").find((l) => l.startsWith("o="));
  if (!line) throw new Error("SDP without an o= line");
  return `${line}\r\n`;
}
