/**
 * The AES67 output's hot path, on the audio plane (src/plane/): every source
 * period (1 ms while the output is on: src/audio/source_factory.ts) is cut
 * into packets of `ptimeUs`, and each packet time sends one datagram per
 * stream — RTP L24 big-endian, payload type 96, one SSRC per stream — to
 * the stream's group, port 5004, through one sendmmsg socket bound to the
 * chosen interface (./multicast.ts: IP_MULTICAST_IF, TTL, DF, TOS = dscp << 2).
 *
 * Pacing: a packet time of 1 ms or more leaves as its own source period
 * arrives (the source delivers 1 ms periods), so packets are spaced by the
 * packet time, not burst per engine period. Below 1 ms (125, 250, 333 µs)
 * the packets of one 1 ms period leave back to back (no sub-ms timer).
 *
 * RTP timestamps follow the media clock (RFC 7273 `mediaclk:direct=0`):
 * a frame captured at realtime T (CLOCK_REALTIME, which ptp4l or phc2sys
 * keeps on PTP time) has timestamp (T + utcOffset) × rate mod 2^32, where
 * utcOffset is PTP's TAI − UTC when the clock is PTP and 0 otherwise. The
 * anchor is taken at the first packet and advances with the source's frames
 * (the console's own sample clock); the drift between the two is measured,
 * and beyond DRIFT_REANCHOR_SAMPLES the anchor is taken again (a timestamp
 * jump a receiver sees as a discontinuity).
 *
 * RTCP (RFC 3550 §6, issue #14 item 5): every RTCP_INTERVAL_MS each stream
 * sends a sender report (the NTP ↔ RTP mapping of now, its packet and
 * payload octet counts) with SDES CNAME `m32-server@<interface address>` to
 * its group's port 5005 (RTP port + 1, announced as `a=rtcp:` in the SDP);
 * a stream that stops (off, or a new plan) says BYE.
 *
 * Nothing is allocated per packet: buffers, destinations and channel index
 * tables are built in `configure`.
 */
import type { Period } from "../audio/source.ts";
import { SendmmsgSender } from "../net/sendmmsg_sender.ts";
import type { PacketSender, UdpDestination } from "../net/sender.ts";
import { writeRtpHeader } from "../rtp/packet.ts";
import { writeBye, writeSdesCname, writeSenderReport } from "../rtp/rtcp.ts";
import type { Clock } from "../util/clock.ts";
import type { Logger } from "../util/log.ts";
import { setMulticastSending } from "./multicast.ts";
import { aes67FramesPerPacket, L24_BYTES } from "./plan.ts";
import { AES67_PAYLOAD_TYPE, AES67_RTCP_PORT, AES67_RTP_PORT } from "./sdp_build.ts";

/** What the control plane hands the audio plane (plain data: it crosses to the worker). */
export interface Aes67SendPlan {
  ifindex: number;
  /** The interface's IPv4 address (the packets' source; SAP names it as the origin). */
  address: string;
  ttl: number;
  dscp: number;
  ptimeUs: number;
  streams: { group: string; channels: number[]; ssrc: number; sequence: number }[];
  /** PTP's TAI − UTC in seconds when the clock is PTP, else 0. */
  utcOffsetS: number;
}

/** What the output reports back (once a second from the worker). */
export interface Aes67SendStatus {
  running: boolean;
  packets: number;
  bytes: number;
  errors: number;
  lastError: string;
  /** Media clock − RTP timestamps, samples (the console's clock against the reference). */
  driftSamples: number;
  reanchors: number;
  /** Why the socket could not be opened, or "". */
  error: string;
}

export function idleAes67Status(): Aes67SendStatus {
  return {
    running: false,
    packets: 0,
    bytes: 0,
    errors: 0,
    lastError: "",
    driftSamples: 0,
    reanchors: 0,
    error: "",
  };
}

/** 10 ms at 48 kHz: beyond this the timestamps are anchored again. */
export const DRIFT_REANCHOR_SAMPLES = 480;
/** Sender reports per stream: RFC 3550's minimum interval for a small session. */
export const RTCP_INTERVAL_MS = 5000;
/** The SDES CNAME of every stream: this box on the sending interface. */
export const aes67Cname = (address: string) => `m32-server@${address}`;
const RTP_HEADER = 12;
const MAX_DATAGRAM = RTP_HEADER + 1440;
const TWO_32 = 2 ** 32;

interface StreamState {
  dest: UdpDestination;
  rtcpDest: UdpDestination;
  packets: number;
  /** Payload octets sent (RFC 3550 §6.4.1). */
  octets: number;
  /** Source channel index (id − 1) of each stream channel. */
  indexes: Int32Array;
  ssrc: number;
  sequence: number;
}

export class Aes67Output {
  private sender: PacketSender | null = null;
  private streams: StreamState[] = [];
  private plan: Aes67SendPlan | null = null;
  private block: Int32Array = new Int32Array(0);
  private blockFrames = 0;
  private blockChannels = 0;
  private blockRate = 48000;
  private fill = 0;
  private blockFrameIndex = 0;
  private blockCaptureMs = 0;
  private expected = -1;
  /** RTP timestamp − source frame index (mod 2^32), once anchored. */
  private anchor = 0;
  private anchored = false;
  /** CLOCK_REALTIME − the plane clock, ms (refreshed every second). */
  private realtimeOffsetMs = 0;
  private lastStatusMs = 0;
  private first = true;
  /** The last packet time's RTP timestamp and its capture instant on CLOCK_REALTIME (ms). */
  private lastTs = 0;
  private lastRealtimeMs = 0;
  private nextRtcpMs = 0;
  private cname: Uint8Array = new Uint8Array(0);
  readonly status: Aes67SendStatus = idleAes67Status();

  constructor(
    private readonly clock: Clock,
    private readonly log: Logger,
    /** CLOCK_REALTIME in epoch ms (./multicast.ts realtimeMs; tests inject). */
    private readonly realtime: () => number,
    private readonly onStatus: (s: Aes67SendStatus) => void = () => {},
    /** Opens the socket (tests may inject another sender). */
    private readonly openSender: (plan: Aes67SendPlan) => PacketSender = openMulticastSender,
  ) {}

  get active(): boolean {
    return this.plan !== null && this.sender !== null;
  }

  /** A new plan (null: off). Between periods; the socket is reopened. */
  configure(plan: Aes67SendPlan | null): void {
    this.bye();
    this.sender?.close();
    this.sender = null;
    this.plan = plan;
    this.streams = [];
    this.fill = 0;
    this.expected = -1;
    this.anchored = false;
    this.first = true;
    this.status.running = false;
    this.status.error = "";
    if (!plan || plan.streams.length === 0) return;
    try {
      const sender = this.openSender(plan);
      this.sender = sender;
      this.cname = new TextEncoder().encode(aes67Cname(plan.address)).subarray(0, 255);
      this.nextRtcpMs = 0;
      this.streams = plan.streams.map((s) => ({
        dest: sender.destination(s.group, AES67_RTP_PORT),
        rtcpDest: sender.destination(s.group, AES67_RTCP_PORT),
        packets: 0,
        octets: 0,
        indexes: Int32Array.from(s.channels, (id) => id - 1),
        ssrc: s.ssrc >>> 0,
        sequence: s.sequence & 0xffff,
      }));
      this.status.running = true;
      this.realtimeOffsetMs = this.realtime() - this.clock.now();
    } catch (e) {
      this.status.error = (e as Error).message;
      this.log.error("aes67 output could not open its socket", { error: e as Error });
    }
  }

  /** One source period (any size): cut into packet times, each sent at once. */
  readonly push = (p: Period): void => {
    const plan = this.plan;
    if (!plan || !this.sender) return;
    const size = aes67FramesPerPacket(plan.ptimeUs, p.sampleRate);
    if (size !== this.blockFrames || p.channels !== this.blockChannels) {
      this.blockFrames = size;
      this.blockChannels = p.channels;
      this.blockRate = p.sampleRate;
      this.block = new Int32Array(size * p.channels);
      this.fill = 0;
    }
    if (p.frameIndex !== this.expected) {
      // A jump on the source's timeline: drop the partial packet, anchor again.
      this.fill = 0;
      this.anchored = false;
    }
    this.expected = p.frameIndex + p.frames;
    const ch = p.channels;
    const msPerFrame = 1000 / p.sampleRate;
    let taken = 0;
    while (taken < p.frames) {
      if (this.fill === 0) {
        this.blockFrameIndex = p.frameIndex + taken;
        this.blockCaptureMs = p.captureTimeMs + taken * msPerFrame;
      }
      const n = Math.min(size - this.fill, p.frames - taken);
      const src = p.data;
      const dst = this.block;
      for (let i = taken * ch, o = this.fill * ch, end = (taken + n) * ch; i < end; i++, o++) {
        dst[o] = src[i];
      }
      this.fill += n;
      taken += n;
      if (this.fill === size) {
        this.fill = 0;
        this.send(p.sampleRate, ch);
      }
    }
    const now = this.clock.now();
    if (now >= this.nextRtcpMs && this.streams.length > 0 && this.streams[0].packets > 0) {
      this.nextRtcpMs = now + RTCP_INTERVAL_MS;
      this.reports(now);
    }
    if (now - this.lastStatusMs >= 1000) {
      this.lastStatusMs = now;
      this.realtimeOffsetMs = this.realtime() - now;
      this.publish();
    }
  };

  private send(rate: number, channels: number): void {
    const sender = this.sender!;
    const plan = this.plan!;
    const frames = this.blockFrames;
    const mediaSamples = (this.blockCaptureMs + this.realtimeOffsetMs + plan.utcOffsetS * 1000) *
      rate / 1000;
    if (!this.anchored) {
      this.anchor = Math.round(mediaSamples) - this.blockFrameIndex;
      this.anchored = true;
    }
    let drift = mediaSamples - (this.blockFrameIndex + this.anchor);
    if (drift > DRIFT_REANCHOR_SAMPLES || drift < -DRIFT_REANCHOR_SAMPLES) {
      this.anchor = Math.round(mediaSamples) - this.blockFrameIndex;
      this.status.reanchors++;
      drift = 0;
    }
    this.status.driftSamples = drift;
    const ts = ((this.blockFrameIndex + this.anchor) % TWO_32 + TWO_32) % TWO_32;
    this.lastTs = ts;
    this.lastRealtimeMs = this.blockCaptureMs + this.realtimeOffsetMs;
    const data = this.block;
    const streams = this.streams;
    const marker = this.first;
    this.first = false;
    for (let s = 0; s < streams.length; s++) {
      const st = streams[s];
      const buf = sender.slot();
      writeRtpHeader(buf, marker, AES67_PAYLOAD_TYPE, st.sequence, ts, st.ssrc, -1, 0);
      st.sequence = (st.sequence + 1) & 0xffff;
      const idx = st.indexes;
      const nch = idx.length;
      let o = RTP_HEADER;
      for (let f = 0; f < frames; f++) {
        const base = f * channels;
        for (let c = 0; c < nch; c++) {
          const i = idx[c];
          const v = i < channels ? data[base + i] : 0;
          buf[o] = v >>> 24;
          buf[o + 1] = (v >>> 16) & 0xff;
          buf[o + 2] = (v >>> 8) & 0xff;
          o += L24_BYTES;
        }
      }
      sender.commit(o, st.dest);
      st.packets++;
      st.octets += o - RTP_HEADER;
    }
    sender.flush();
  }

  /**
   * SR + SDES CNAME per stream (+ BYE when `bye`): the NTP time is now on
   * CLOCK_REALTIME, the RTP timestamp the last packet time's advanced by the
   * frames since its capture instant.
   */
  private reports(now: number, bye = false): void {
    const sender = this.sender!;
    const nowRealtime = now + this.realtimeOffsetMs;
    const rate = this.blockRate;
    const ts = (this.lastTs + Math.round(((nowRealtime - this.lastRealtimeMs) * rate) / 1000)) >>>
      0;
    for (const st of this.streams) {
      const buf = sender.slot();
      let off = writeSenderReport(buf, 0, st.ssrc, nowRealtime, ts, st.packets, st.octets);
      off = writeSdesCname(buf, off, st.ssrc, this.cname);
      if (bye) off = writeBye(buf, off, st.ssrc);
      sender.commit(off, st.rtcpDest);
    }
    sender.flush();
  }

  /** A stream that stops says so (RFC 3550 §6.6), if it sent anything. */
  private bye(): void {
    if (!this.sender || this.streams.length === 0 || this.streams[0].packets === 0) return;
    try {
      this.reports(this.clock.now(), true);
    } catch (e) {
      this.log.warn("aes67 output could not send its RTCP BYE", { error: e as Error });
    }
  }

  private publish(): void {
    const st = this.sender?.stats;
    if (st) {
      this.status.packets = st.packets;
      this.status.bytes = st.bytes;
      this.status.errors = st.errors;
      this.status.lastError = st.lastError;
    }
    this.onStatus(this.status);
  }

  close(): void {
    this.configure(null);
  }
}

/** The output's socket: bound to the interface's address, multicast out of it, DF, DSCP. */
export function openMulticastSender(plan: Aes67SendPlan): SendmmsgSender {
  const sender = SendmmsgSender.open({
    hostname: "0.0.0.0",
    port: 0,
    maxDatagramBytes: MAX_DATAGRAM,
    dscp: plan.dscp,
    gso: false,
    batchSize: Math.max(1, plan.streams.length),
  });
  try {
    setMulticastSending(sender.fd, { ifindex: plan.ifindex, ttl: plan.ttl });
  } catch (e) {
    sender.close();
    throw e;
  }
  return sender;
}
