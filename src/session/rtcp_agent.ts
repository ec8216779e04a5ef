/**
 * RTCP for the UDP clients' streams (RFC 3550 §6, docs/protocol.md §5), run
 * by the engine in the audio plane's thread, where the streams' counters and
 * RTP clocks live:
 *
 * - after each period, every UDP stream whose report is due gets a compound
 *   SR + SDES CNAME to its `udp_port + 1`, at random intervals of 2.5–4.5 s
 *   (the first with its first period). The SR maps NTP ↔ RTP exactly: the
 *   RTP timestamp is the stream's clock at the SR's NTP (wall-clock) instant,
 *   extrapolated from the last packet's (timestamp, capture time) — the same
 *   capture time its header extension carries;
 * - a stream that ends gets SR + SDES + BYE;
 * - receiver reports arriving on the server's `rtp_port + 1` are matched to a
 *   stream by the report block's SSRC and accepted only from that session's own
 *   address; the latest (loss, jitter, round trip) is kept on the stream.
 *
 * Browser transports (WebSocket, DataChannel, WebTransport) get no RTCP: they
 * have no UDP port, and their page reports its reception over `/qos-metrics`.
 *
 * Per period this only compares each UDP stream's due time with the clock;
 * reports allocate their bytes (one small datagram per stream every few seconds).
 */
import {
  compoundBytes,
  type ReportBlock,
  roundTripMs,
  writeBye,
  writeSdesCname,
  writeSenderReport,
} from "../rtp/rtcp.ts";
import { parseRtcp } from "../rtp/rtcp.ts";
import type { Clock, Random } from "../util/clock.ts";
import type { ClientStream } from "./client_stream.ts";
import type { RtcpSocket } from "../net/rtcp_socket.ts";

/** Where RTCP datagrams go: the server's socket on `rtp_port + 1` (src/net/rtcp_socket.ts). */
/** The latest receiver report for a stream, as the admin client list shows it. */
export interface ReceiverReportStats {
  /** Reports accepted for this stream. */
  reports: number;
  /** Fraction lost since the previous report, 0–1. */
  fractionLost: number;
  /** Packets lost since reception began (may be negative with duplicates). */
  cumulativeLost: number;
  /** Interarrival jitter (RFC 3550 A.8), ms. */
  jitterMs: number;
  /** Round trip from LSR/DLSR, ms; null when the report echoes no SR yet. */
  rttMs: number | null;
  /** When the report arrived (epoch ms). */
  atMs: number;
}

/** A UDP stream's RTCP state. */
export class StreamRtcp {
  /** When the next SR is due (epoch ms); 0: with the next period that sent a packet. */
  dueMs = 0;
  srSent = 0;
  lastReport: ReceiverReportStats | null = null;
}

/** Upper bound of the SR interval: the contract's "at least every 5 s". */
export const SR_INTERVAL_MAX_MS = 4500;
export const SR_INTERVAL_MIN_MS = 2500;
export const RTCP_CNAME_PREFIX = "m32-server@";
/**
 * Datagrams parsed per second on the RTCP port; more are dropped unparsed (a
 * flood must not cost the audio thread): 20 clients reporting every few
 * seconds send a handful.
 */
export const RTCP_PARSE_PER_SECOND = 200;

const encoder = new TextEncoder();

function plainIp(address: string): string {
  return address.startsWith("::ffff:") ? address.slice(7) : address;
}

export class RtcpAgent {
  private readonly bySsrc = new Map<number, ClientStream>();
  private list: ClientStream[] = [];
  private readonly cname: Uint8Array;
  private readonly byeReason = encoder.encode("session ended");
  /** Reports taken, and datagrams refused (malformed, unknown SSRC, another address). */
  accepted = 0;
  refused = 0;
  srSent = 0;
  byeSent = 0;
  private windowStart = 0;
  private windowCount = 0;

  constructor(
    private readonly socket: RtcpSocket,
    private readonly clock: Clock,
    private readonly random: Random,
    /** SDES CNAME (RFC 3550 §6.5.1, `user@host`): one for every stream of this server. */
    cname: string,
  ) {
    this.cname = encoder.encode(cname).subarray(0, 255);
  }

  get localPort(): number {
    return this.socket.localPort;
  }

  /** A UDP client's stream starts: it gets reports from its first period on. */
  add(stream: ClientStream): void {
    stream.rtcp = new StreamRtcp();
    this.bySsrc.set(stream.ssrc >>> 0, stream);
    this.list = [...this.bySsrc.values()];
  }

  /** The stream ended: its last SR, SDES and BYE (RFC 3550 §6.3.7). */
  remove(stream: ClientStream): void {
    if (this.bySsrc.get(stream.ssrc >>> 0) !== stream) return;
    this.bySsrc.delete(stream.ssrc >>> 0);
    this.list = [...this.bySsrc.values()];
    this.report(stream, this.clock.now(), true);
  }

  /** After a period's flush: the SRs that are due. */
  afterPeriod(now: number): void {
    const list = this.list;
    for (let i = 0; i < list.length; i++) {
      const s = list[i];
      const r = s.rtcp!;
      if (now < r.dueMs || s.packetsSent === 0 || s.gated) continue;
      r.dueMs = now + SR_INTERVAL_MIN_MS +
        (this.random.u32() / 0x1_0000_0000) * (SR_INTERVAL_MAX_MS - SR_INTERVAL_MIN_MS);
      this.report(s, now, false);
    }
  }

  private report(s: ClientStream, now: number, bye: boolean): void {
    const buf = new Uint8Array(compoundBytes(this.cname.length, this.byeReason.length));
    let off = 0;
    if (s.packetsSent > 0) {
      // The stream's RTP clock at `now`, from the last packet's own capture instant.
      const rtp = s.lastRtpTimestamp +
        Math.round(((now - s.lastCaptureMs) * s.layout.rtpClockRate) / 1000);
      off = writeSenderReport(buf, off, s.ssrc, now, rtp >>> 0, s.packetsSent, s.payloadBytesSent);
    } else {
      // No packet yet: an empty RR opens the compound (§6.1).
      buf.set([0x80, 201, 0, 1], 0);
      buf[4] = (s.ssrc >>> 24) & 0xff;
      buf[5] = (s.ssrc >>> 16) & 0xff;
      buf[6] = (s.ssrc >>> 8) & 0xff;
      buf[7] = s.ssrc & 0xff;
      off = 8;
    }
    off = writeSdesCname(buf, off, s.ssrc, this.cname);
    if (bye) off = writeBye(buf, off, s.ssrc, this.byeReason);
    s.rtcp!.srSent++;
    if (bye) this.byeSent++;
    else this.srSent++;
    this.socket.send(buf.subarray(0, off), s.dest.hostname, s.dest.port + 1);
  }

  /** A datagram on the RTCP port from `fromIp`: its report blocks about our streams. */
  receive(data: Uint8Array, fromIp: string): void {
    const now = this.clock.now();
    if (now - this.windowStart >= 1000) {
      this.windowStart = now;
      this.windowCount = 0;
    }
    if (++this.windowCount > RTCP_PARSE_PER_SECOND) {
      this.refused++;
      return;
    }
    const packets = parseRtcp(data);
    if (!packets) {
      this.refused++;
      return;
    }
    let took = false;
    for (const p of packets) {
      if (p.type !== "rr" && p.type !== "sr") continue;
      for (const b of p.reports) took = this.take(b, fromIp, now) || took;
    }
    if (took) this.accepted++;
    else this.refused++;
  }

  private take(b: ReportBlock, fromIp: string, now: number): boolean {
    const s = this.bySsrc.get(b.ssrc);
    // Audio and its control go only to and from the address that asked (§2).
    if (!s || plainIp(fromIp) !== plainIp(s.dest.hostname)) return false;
    const r = s.rtcp!;
    r.lastReport = {
      reports: (r.lastReport?.reports ?? 0) + 1,
      fractionLost: b.fractionLost / 256,
      cumulativeLost: b.cumulativeLost,
      jitterMs: (b.jitter / s.layout.rtpClockRate) * 1000,
      rttMs: roundTripMs(now, b.lsr, b.dlsr),
      atMs: now,
    };
    return true;
  }
}
