/**
 * One client's RTP stream (RFC 3550): its SSRC, sequence and timestamp
 * counters, and the header it writes in front of the shared layout payloads.
 */
import type { Period } from "../audio/source.ts";
import type { PacketSender, UdpDestination } from "../net/sender.ts";
import { EVENT_TIME_SYNC, NO_EXTENSION, writeRtpHeader } from "../rtp/packet.ts";
import type { StreamLayout } from "./layout.ts";
import type { ReceiverReportStats, StreamRtcp } from "./rtcp_agent.ts";

/** Where a client's periods come from: the rate stream it listens to, updated every period. */
export interface PeriodSlot {
  current: Period | null;
}

export class ClientStream {
  packetsSent = 0;
  bytesSent = 0;
  /** RTP payload bytes sent (the SR's octet count, RFC 3550 §6.4.1: no headers). */
  payloadBytesSent = 0;
  /** RTP timestamp and capture time (epoch ms) of the last packet sent: the SR's mapping. */
  lastRtpTimestamp = 0;
  lastCaptureMs = 0;
  /** RTCP state of a UDP client (src/session/rtcp_agent.ts); null for a browser transport. */
  rtcp: StreamRtcp | null = null;

  get receiverReport(): ReceiverReportStats | null {
    return this.rtcp?.lastReport ?? null;
  }
  /** Periods in which this client's stream failed (the engine counts; see engine.ts). */
  errors = 0;
  /**
   * Sits this period out: set by the audio worker when the control plane has
   * already stopped this client and its `remove` is not read yet (../plane/slot_gate.ts).
   */
  gated = false;
  /** Capture time of the last packet that carried the extension (-1: none yet). */
  private lastExtMs = -1;
  private marker = true;

  constructor(
    readonly clientId: string,
    readonly dest: UdpDestination,
    /** Where this client's datagrams go: the shared UDP sender, or a browser transport. */
    readonly sender: PacketSender,
    readonly layout: StreamLayout,
    readonly input: PeriodSlot,
    readonly ssrc: number,
    private sequence: number,
    private readonly timestampBase: number,
    private readonly extIntervalMs: number,
  ) {}

  /** The next of this period's packets to send (paced sending: ./engine.ts `pace`). */
  nextPacket = 0;

  /**
   * Writes and queues this period's packets `nextPacket … upTo − 1` (all by
   * default); returns how many.
   */
  emit(upTo = this.layout.packetCount): number {
    const sender = this.sender;
    const layout = this.layout;
    const from = this.nextPacket;
    const n = Math.min(upTo, layout.packetCount);
    this.nextPacket = n;
    const msPerTick = 1000 / layout.rtpClockRate;
    for (let k = from; k < n; k++) {
      const offset = layout.packetRtpOffsets[k];
      const captureMs = layout.blockCaptureMs + offset * msPerTick;
      let ext = NO_EXTENSION;
      if (k === 0 && (this.lastExtMs < 0 || captureMs - this.lastExtMs >= this.extIntervalMs)) {
        ext = captureMs;
        this.lastExtMs = captureMs;
      }
      const slot = sender.slot();
      const payload = layout.packetPayloads[k];
      const timestamp = (this.timestampBase + layout.blockRtpTime + offset) >>> 0;
      const headerLen = writeRtpHeader(
        slot,
        this.marker,
        layout.payloadType,
        this.sequence,
        timestamp,
        this.ssrc,
        ext,
        ext === NO_EXTENSION ? 0 : EVENT_TIME_SYNC,
      );
      slot.set(payload, headerLen);
      const len = headerLen + payload.length;
      sender.commit(len, this.dest);
      this.marker = false;
      this.sequence = (this.sequence + 1) & 0xffff;
      this.packetsSent++;
      this.bytesSent += len;
      this.payloadBytesSent += payload.length;
      this.lastRtpTimestamp = timestamp;
      this.lastCaptureMs = captureMs;
    }
    return n > from ? n - from : 0;
  }
}
