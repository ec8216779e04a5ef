/** SAP packets built by hand (RFC 2974 §3), for tests of the listener and the source. */

export interface SapPacketOptions {
  deletion?: boolean;
  source?: [number, number, number, number];
  msgIdHash?: number;
  /** Include the optional "application/sdp" payload type. */
  payloadType?: boolean;
  authWords?: number;
}

export function sapPacket(sdp: string, o: SapPacketOptions = {}): Uint8Array {
  const body = new TextEncoder().encode(
    (o.payloadType ? "application/sdp\0" : "") + sdp,
  );
  const auth = (o.authWords ?? 0) * 4;
  const p = new Uint8Array(8 + auth + body.length);
  p[0] = 0x20 | (o.deletion ? 0x04 : 0);
  p[1] = o.authWords ?? 0;
  const h = o.msgIdHash ?? 0x1234;
  p[2] = h >> 8;
  p[3] = h & 0xff;
  p.set(o.source ?? [10, 0, 0, 2], 4);
  p.set(body, 8 + auth);
  return p;
}

/** One AES67 stream's SDP as §13 describes the box's own (`s=<name> <k>`). */
export function streamSdp(o: {
  name: string;
  origin?: string;
  sessionId?: number;
  group: string;
  port?: number;
  channels: number;
  labels?: string[];
  ptime?: string;
  mediaclk?: number;
  encoding?: "L24" | "L16";
}): string {
  const lines = [
    "v=0",
    `o=- ${o.sessionId ?? 1} 1 IN IP4 ${o.origin ?? "10.0.0.2"}`,
    `s=${o.name}`,
    `c=IN IP4 ${o.group}/15`,
    "t=0 0",
    `m=audio ${o.port ?? 5004} RTP/AVP 96`,
    `a=rtpmap:96 ${o.encoding ?? "L24"}/48000/${o.channels}`,
    `a=ptime:${o.ptime ?? "1"}`,
    "a=ts-refclk:localmac=02-00-00-00-00-01",
    `a=mediaclk:direct=${o.mediaclk ?? 0}`,
    "a=recvonly",
  ];
  if (o.labels) lines.push(`a=label:${o.labels.join(",")}`);
  return lines.join("\r\n") + "\r\n";
}
