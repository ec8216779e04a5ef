/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * The page's receive path: one RTP packet (a WebSocket binary frame or a
 * DataChannel message, exactly the UDP datagram) → parse → decode → the
 * shared jitter buffer, with the shared RFC 3550 statistics and latency.
 *
 *   RTP (src/rtp/packet.ts parseRtpInto)
 *   +-----------------+----------------------+-------------------------------+
 *   | 12-byte header  | 0xBEDE ext (16 B, on | payload                       |
 *   | PT 96 / 97      | some packets)        | L16/L24 BE interleaved (96)   |
 *   |                 |                      | Opus multistream, family 255  |
 *   |                 |                      | one mono stream per channel   |
 *   +-----------------+----------------------+-------------------------------+
 *
 * Opus: when a packet time's channels do not fit one datagram the ack's
 * `channel_groups` splits them; each group is its own packet with the same
 * RTP timestamp and consecutive sequence numbers (docs/protocol.md §12). A
 * packet's group is its sequence distance from the last group-0 packet,
 * modulo the group count; a packet time goes to the jitter buffer when all
 * its groups arrived (a missing group plays silent when the next time starts).
 */
import { OpusDecoder } from "opus-decoder";
import { emptyRtpPacketInfo, parseRtpInto } from "../../src/rtp/packet.ts";
import { PcmDecoder, type PcmEncoding, pcmFullScale } from "../../src/client/pcm.ts";
import type { PacketSink } from "../../src/client/playout.ts";
import {
  BandwidthMeter,
  JitterEstimator,
  SeqStatus,
  SequenceTracker,
} from "../../src/client/stats.ts";
import { LatencyMeter } from "../../src/client/latency.ts";
import type { ListenerAck } from "./connection.ts";

/** Opus decodes to float; the jitter buffer takes integers at this full scale (L24's). */
const FLOAT_FULL_SCALE = 0x80_0000;
const OPUS_CLOCK_RATE = 48000;
const SEQ_MOD = 0x1_0000;
const TWO_32 = 0x1_0000_0000;

interface Group {
  decoder: OpusDecoder<8000 | 12000 | 16000 | 24000 | 48000>;
  /** Offset of the group's first channel in the packet time's channel list. */
  first: number;
  count: number;
}

export class StreamReceiver {
  readonly seq = new SequenceTracker();
  readonly jitter = new JitterEstimator(OPUS_CLOCK_RATE);
  readonly latency = new LatencyMeter(OPUS_CLOCK_RATE);
  readonly bandwidth: BandwidthMeter;
  /** Capture time (server clock, ms) of the end of the newest packet, for playout latency. */
  newestCaptureEndMs = NaN;
  decodeErrors = 0;

  private readonly info = emptyRtpPacketInfo();
  private readonly pcm = new PcmDecoder();
  private ack: ListenerAck | null = null;
  private clockRate = OPUS_CLOCK_RATE;
  private groups: Group[] = [];
  private ready = false;
  private samples = new Int32Array(0);
  // Opus packet-time assembly
  private group0Seq = -1;
  private lastSeq = -1;
  private lastTs = -1;
  private pendingTs = -1;
  private pendingFrames = 0;
  private pendingMask = 0;
  private pendingArrival = 0;
  private pendingIndex = 0;
  private ssrc = -1;
  private current: Uint8Array = new Uint8Array(0);
  private offsetMs = 0;
  private tsRaw = -1;
  private tsExt = 0;

  constructor(private readonly sink: PacketSink, nowMs: number) {
    this.bandwidth = new BandwidthMeter(nowMs);
  }

  get channels(): number {
    return this.ack?.channels.length ?? 0;
  }

  /** A new stream (a `client_config_ack`): decoders for its encoding; totals stay. */
  async configure(ack: ListenerAck): Promise<void> {
    this.close();
    this.ack = ack;
    this.ready = false;
    const opus = ack.encoding === "opus";
    this.clockRate = opus ? OPUS_CLOCK_RATE : ack.sample_rate;
    this.seq.restart();
    this.jitter.restart(this.clockRate);
    this.latency.restart(this.clockRate);
    this.sink.reset();
    this.group0Seq =
      this.lastSeq =
      this.lastTs =
      this.pendingTs =
      this.tsRaw =
        -1;
    this.ssrc = ack.ssrc >>> 0;
    this.newestCaptureEndMs = NaN;
    const n = ack.channels.length;
    this.samples = new Int32Array(n * 48 * 120);
    if (opus) {
      const groups = ack.channel_groups ?? [ack.channels];
      let first = 0;
      this.groups = groups.map((g) => {
        const count = g.length;
        const decoder = new OpusDecoder({
          channels: count,
          streamCount: count,
          coupledStreamCount: 0,
          channelMappingTable: Array.from({ length: count }, (_, i) => i),
          sampleRate: ack.sample_rate as 24000 | 48000,
          preSkip: 0,
        });
        const grp = { decoder, first, count };
        first += count;
        return grp;
      });
      await Promise.all(this.groups.map((g) => g.decoder.ready));
      if (this.ack !== ack) return;
    }
    this.ready = true;
  }

  close(): void {
    for (const g of this.groups) g.decoder.free();
    this.groups = [];
    this.ready = false;
  }

  /** One RTP packet as received; `offsetMs` is server − client clock (ClockSync). */
  onPacket(bytes: Uint8Array, arrivalMs: number, offsetMs: number): void {
    const ack = this.ack;
    if (!ack) return;
    this.current = bytes;
    this.offsetMs = offsetMs;
    let p;
    try {
      p = parseRtpInto(bytes, bytes.length, this.info);
    } catch {
      this.decodeErrors++;
      return;
    }
    if (p.ssrc >>> 0 !== this.ssrc || p.payloadType !== ack.payload_type) return;
    const status = this.seq.update(p.sequence);
    if (status === SeqStatus.Duplicate || status === SeqStatus.Invalid) return;
    this.bandwidth.add(bytes.length);
    this.jitter.update(p.timestamp, arrivalMs);
    const lat = this.latency.measure(p.timestamp, p.captureTimeMs, arrivalMs, offsetMs);
    if (!this.ready) return; // the Opus decoders are still compiling: statistics only
    const ext = this.seq.lastExtended;
    if (ack.encoding === "opus") this.onOpus(ext, arrivalMs, lat);
    else this.onPcm(ext, arrivalMs, lat, ack.encoding);
  }

  /** capture = receive + offset − latency; the packet's last frame was captured `frames` later. */
  private noteCapture(latencyMs: number, arrivalMs: number, frames: number, rate: number) {
    if (Number.isNaN(latencyMs)) return;
    const end = arrivalMs + this.offsetMs - latencyMs + (frames * 1000) / rate;
    if (!(end <= this.newestCaptureEndMs)) this.newestCaptureEndMs = end;
  }

  private onPcm(ext: number, arrivalMs: number, lat: number, encoding: PcmEncoding): void {
    const p = this.info;
    const n = this.channels;
    let frames;
    try {
      frames = this.pcm.decode(this.current, p.payloadOffset, p.payloadLength, encoding, n);
    } catch {
      this.decodeErrors++;
      return;
    }
    this.noteCapture(lat, arrivalMs, frames, this.clockRate);
    this.sink.push({
      sequence: ext,
      timestamp: p.timestamp,
      clockRate: this.clockRate,
      arrivalMs,
      channels: n,
      frames,
      samples: this.pcm.samples,
      fullScale: pcmFullScale(encoding),
    });
  }

  private onOpus(ext: number, arrivalMs: number, lat: number): void {
    const p = this.info;
    const G = this.groups.length;
    // Group of this packet: 0 after a timestamp change in sequence, else counted from there.
    const seq16 = p.sequence;
    if (
      p.marker || (this.lastSeq >= 0 && seq16 === ((this.lastSeq + 1) % SEQ_MOD) &&
        p.timestamp !== this.lastTs)
    ) {
      this.group0Seq = seq16;
    }
    this.lastSeq = seq16;
    this.lastTs = p.timestamp;
    if (this.group0Seq < 0) return;
    const g = ((seq16 - this.group0Seq) % SEQ_MOD + SEQ_MOD) % SEQ_MOD % G;
    const index = Math.floor((ext - g) / G); // packet-time index, for the jitter buffer's sequence
    const ts = this.scaledTimestamp(p.timestamp >>> 0);
    if (this.pendingTs >= 0 && ts !== this.pendingTs) this.emitPending();
    const group = this.groups[g];
    let out;
    try {
      out = group.decoder.decodeFrame(this.payload());
    } catch {
      this.decodeErrors++;
      return;
    }
    const frames = out.samplesDecoded;
    if (frames === 0 || out.channelData.length !== group.count) {
      this.decodeErrors++;
      return;
    }
    const n = this.channels;
    if (this.pendingTs !== ts) {
      this.pendingTs = ts;
      this.pendingFrames = frames;
      this.pendingMask = 0;
      this.pendingArrival = arrivalMs;
      this.pendingIndex = index;
      if (this.samples.length < frames * n) this.samples = new Int32Array(frames * n);
      this.samples.fill(0, 0, frames * n);
      this.noteCapture(lat, arrivalMs, frames, this.ack!.sample_rate);
    }
    const s = this.samples;
    for (let c = 0; c < group.count; c++) {
      const data = out.channelData[c];
      const col = group.first + c;
      for (let f = 0; f < frames; f++) s[f * n + col] = Math.round(data[f] * FLOAT_FULL_SCALE);
    }
    this.pendingArrival = arrivalMs;
    this.pendingMask |= 1 << g;
    if (this.pendingMask === (1 << G) - 1) this.emitPending();
  }

  private emitPending(): void {
    if (this.pendingTs < 0) return;
    this.sink.push({
      sequence: this.pendingIndex,
      timestamp: this.pendingTs,
      clockRate: this.ack!.sample_rate,
      arrivalMs: this.pendingArrival,
      channels: this.channels,
      frames: this.pendingFrames,
      samples: this.samples,
      fullScale: FLOAT_FULL_SCALE,
    });
    this.pendingTs = -1;
  }

  /** The current packet's payload. */
  private payload(): Uint8Array {
    const p = this.info;
    return this.current.subarray(p.payloadOffset, p.payloadOffset + p.payloadLength);
  }

  /**
   * The 48 kHz RTP timestamp on the decode rate's timeline, wrapping at 2^32
   * like a timestamp (the jitter buffer unwraps it).
   */
  private scaledTimestamp(ts: number): number {
    const rate = this.ack!.sample_rate;
    if (rate === OPUS_CLOCK_RATE) return ts;
    if (this.tsRaw < 0) {
      this.tsRaw = ts;
      this.tsExt = 0;
    } else {
      this.tsExt += (ts - this.tsRaw) | 0;
      this.tsRaw = ts;
    }
    return Math.round((this.tsExt * rate) / OPUS_CLOCK_RATE) % TWO_32;
  }
}
