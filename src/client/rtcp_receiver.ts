/**
 * The reference client's side of RTCP (RFC 3550 §6, docs/protocol.md §5),
 * runtime-neutral: it reads the server's sender reports and BYE arriving on
 * `udp_port + 1`, and builds receiver reports (RR + SDES CNAME) from the RTP
 * receiver's own statistics (loss per RFC 3550 A.3, interarrival jitter A.8),
 * echoing the last SR in LSR/DLSR so the server measures the round trip.
 */
import {
  ntpMiddle32,
  parseRtcp,
  unixMsFromNtp,
  writeReceiverReport,
  writeSdesCname,
} from "../rtp/rtcp.ts";
import type { RtpReceiver } from "./receiver.ts";

/** A bound UDP socket for RTCP (the Deno adapter is in ./udp_source.ts). */
export interface RtcpChannel {
  readonly port: number;
  /** Fills `buf`; resolves with the datagram length. */
  receive(buf: Uint8Array): Promise<number>;
  /** Fire and forget; failures are the caller's to ignore. */
  send(data: Uint8Array, hostname: string, port: number): Promise<void>;
  close(): void;
}

/** Receiver reports: RFC 3550's 5 s, randomised over [0.5, 1.5] × 5 s. */
export const RR_INTERVAL_MS = 5000;

const encoder = new TextEncoder();

export class ClientRtcp {
  /** Our own SSRC (we send no media; it only names the reporter). */
  readonly ssrc: number;
  srReceived = 0;
  byeReceived = 0;
  rrSent = 0;
  /** Datagrams that were not valid RTCP. */
  malformed = 0;
  /** The latest SR's NTP ↔ RTP mapping (server clock, epoch ms ↔ RTP timestamp), or null. */
  lastSr: { ntpMs: number; rtpTimestamp: number; packetCount: number; octetCount: number } | null =
    null;
  private lsr = 0;
  private lastSrArrivalMs = 0;
  private priorExpected = 0;
  private priorReceived = 0;
  private readonly cname: Uint8Array;

  constructor(ssrc: number, cname: string) {
    this.ssrc = ssrc >>> 0;
    this.cname = encoder.encode(cname).subarray(0, 255);
  }

  /** An RTCP datagram from the server; only packets about `mediaSsrc` count. */
  onDatagram(data: Uint8Array, arrivalMs: number, mediaSsrc: number | null): void {
    const packets = parseRtcp(data);
    if (!packets) {
      this.malformed++;
      return;
    }
    for (const p of packets) {
      if (p.type === "sr" && mediaSsrc !== null && p.ssrc === mediaSsrc >>> 0) {
        const ntpMs = unixMsFromNtp(p.ntpSeconds, p.ntpFraction);
        this.srReceived++;
        this.lsr = ntpMiddle32(ntpMs);
        this.lastSrArrivalMs = arrivalMs;
        this.lastSr = {
          ntpMs,
          rtpTimestamp: p.rtpTimestamp,
          packetCount: p.packetCount,
          octetCount: p.octetCount,
        };
      } else if (p.type === "bye" && mediaSsrc !== null && p.ssrcs.includes(mediaSsrc >>> 0)) {
        this.byeReceived++;
      }
    }
  }

  /** A new stream (new SSRC): its loss intervals and SR echo start over. */
  restart(): void {
    this.lsr = 0;
    this.lastSrArrivalMs = 0;
    this.lastSr = null;
    this.priorExpected = 0;
    this.priorReceived = 0;
  }

  /** RR + SDES for the receiver's current stream, or null before its first packet. */
  report(nowMs: number, receiver: RtpReceiver): Uint8Array | null {
    const stream = receiver.stream;
    const seq = receiver.seq;
    if (!stream || seq.extendedMax < 0) return null;
    const expected = seq.expected;
    const received = seq.received;
    const expectedInterval = expected - this.priorExpected;
    const lostInterval = expectedInterval - (received - this.priorReceived);
    this.priorExpected = expected;
    this.priorReceived = received;
    const fraction = expectedInterval <= 0 || lostInterval <= 0
      ? 0
      : Math.min(255, Math.floor((lostInterval * 256) / expectedInterval));
    const buf = new Uint8Array(8 + 24 + 12 + this.cname.length + 4);
    let off = writeReceiverReport(buf, 0, this.ssrc, [{
      ssrc: stream.ssrc >>> 0,
      fractionLost: fraction,
      cumulativeLost: expected - received,
      highestSeq: seq.extendedMax >>> 0,
      jitter: Math.round(receiver.jitter.jitter) >>> 0,
      lsr: this.lsr,
      dlsr: this.lsr === 0 ? 0 : Math.round(((nowMs - this.lastSrArrivalMs) / 1000) * 65536) >>> 0,
    }]);
    off = writeSdesCname(buf, off, this.ssrc, this.cname);
    this.rrSent++;
    return buf.subarray(0, off);
  }
}

/** The server's RTCP port from an SDP's `a=rtcp:` line, or null. */
export function rtcpPortFromSdp(sdp: string): number | null {
  const m = /^a=rtcp:(\d+)/m.exec(sdp);
  const port = m ? Number(m[1]) : NaN;
  return port > 0 && port < 65536 ? port : null;
}
