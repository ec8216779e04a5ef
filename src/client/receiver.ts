/**
 * The per-packet receive path, runtime-neutral: RTP datagram → parse (one
 * reused RtpPacketInfo) → SSRC / payload-type check → loss, jitter, bandwidth,
 * latency → PCM decode (one reused buffer) or Opus decode → PacketSink.
 * Nothing is allocated per PCM packet (an Opus packet costs a payload view).
 *
 * Opus is decoded by an injected `OpusDecoderFactory` (this file stays free of
 * runtime APIs): the group packets of one RTP timestamp are assembled into one
 * frame of all channels by OpusGroupAssembler (./opus.ts) and reach the sink
 * as one packet per packet time, on the decode rate's timeline, full scale
 * 2^23. Without a factory Opus packets are only counted (`undecoded`).
 *
 * Packets that arrive before `client_config_ack` names the stream (the RTP can
 * overtake the WebSocket answer) are held in a PacketQueue and replayed, with
 * their arrival times, when `setStream` is called.
 *
 * One receive path for every client: the Deno reference client (UDP, libopus
 * over FFI: ./opus_ffi.ts) and the listener page (WebSocket, DataChannel or
 * WebTransport, opus-decoder's wasm: web/listener/opus_wasm.ts). Nothing here
 * may use a runtime API (tests/architecture_test.ts checks the page's imports).
 */

import { emptyRtpPacketInfo, parseRtpInto, PT_OPUS, PT_PCM } from "../rtp/packet.ts";
import { LatencyMeter } from "./latency.ts";
import type { ClientConfigAck, StreamEncoding } from "./messages.ts";
import {
  emptyOpusCounters,
  groupCounts,
  OPUS_CLOCK_RATE,
  OPUS_FULL_SCALE,
  type OpusDecoderFactory,
  type OpusFrame,
  OpusGroupAssembler,
} from "./opus.ts";
import { PacketQueue } from "./packet_queue.ts";
import { PcmDecoder, pcmFullScale } from "./pcm.ts";
import type { PacketSink } from "./playout.ts";
import { BandwidthMeter, JitterEstimator, SeqStatus, SequenceTracker } from "./stats.ts";

/** The stream as `client_config_ack` describes it. */
export interface StreamParams {
  ssrc: number;
  payloadType: number;
  encoding: StreamEncoding;
  /** RTP timestamp clock: the sample rate for PCM, 48000 for Opus. */
  clockRate: number;
  /** USB channel ids in payload order. */
  channels: readonly number[];
  /** Opus: the rate to decode at (the ack's `sample_rate`); default `clockRate`. */
  sampleRate?: number;
  /** Opus: the ack's `channel_groups` (ids); absent = one packet of all channels. */
  channelGroups?: readonly (readonly number[])[];
  /** Packet time (ms); default 5. */
  ptimeMs?: number;
}

/** A PCM payload is split into datagrams of at most about this many bytes (contract §5). */
const PCM_BYTES_PER_DATAGRAM_GUESS = 1200;
const DEFAULT_PTIME_MS = 5;

/** Datagrams per second of a stream (an estimate on the high side: it sizes the reorder window). */
export function packetsPerSecond(p: StreamParams): number {
  const ptime = p.ptimeMs ?? DEFAULT_PTIME_MS;
  const perTime = p.encoding === "opus" ? Math.max(1, p.channelGroups?.length ?? 1) : Math.max(
    1,
    Math.ceil(
      (p.channels.length * (p.sampleRate ?? p.clockRate) * ptime / 1000 *
        (p.encoding === "L16" ? 2 : 3)) / PCM_BYTES_PER_DATAGRAM_GUESS,
    ),
  );
  return perTime * (1000 / ptime);
}

/** The stream a `client_config_ack` describes. */
export function streamParamsFromAck(a: ClientConfigAck): StreamParams {
  const opus = a.encoding === "opus";
  return {
    ssrc: a.ssrc >>> 0,
    payloadType: a.payload_type ?? (opus ? PT_OPUS : PT_PCM),
    encoding: a.encoding,
    clockRate: opus ? OPUS_CLOCK_RATE : a.sample_rate,
    channels: a.channels,
    sampleRate: a.sample_rate,
    channelGroups: a.channel_groups,
    ptimeMs: a.ptime_ms,
  };
}

export interface ExtensionSeen {
  captureTimeMs: number;
  receiveMs: number;
  latencyMs: number;
  eventFlags: number;
}

export interface ReceiverOptions {
  sink: PacketSink;
  /** Server clock minus client clock, ms (from ClockSync). */
  offsetMs: () => number;
  /** Called for every packet that carries the header extension. */
  onExtension?: (e: ExtensionSeen) => void;
  nowMs: number;
  /** Most packets held while waiting for the ack. */
  maxPending?: number;
  /** Makes Opus decoders; absent = Opus packets are counted but not decoded. */
  opusDecoder?: OpusDecoderFactory;
}

export class RtpReceiver {
  readonly seq = new SequenceTracker();
  readonly jitter = new JitterEstimator(OPUS_CLOCK_RATE);
  readonly latency = new LatencyMeter(OPUS_CLOCK_RATE);
  readonly bandwidth: BandwidthMeter;
  /** Counters of packets not used. */
  foreignSsrc = 0;
  wrongPayloadType = 0;
  malformed = 0;
  decodeErrors = 0;
  /** Accepted but not decoded (Opus without a decoder). */
  undecoded = 0;
  /** PCM packets decoded (Opus: see `opus.decodedPackets`). */
  decodedPcm = 0;
  /** Opus group packets decoded, concealed, late (all streams). */
  readonly opus = emptyOpusCounters();
  lastError = "";
  /** SSRCs streamed so far. */
  streams = 0;
  stream: StreamParams | null = null;
  /** The most recent stream, kept after the session ends (for reports). */
  lastStream: StreamParams | null = null;
  /** Last decoded sample per payload channel (index = position in `stream.channels`). */
  lastValues = new Int32Array(32);
  /**
   * Capture time (server clock, ms) of the end of the newest audio handed to
   * the sink: its last frame plays `jitter buffer delay` after it arrives, so
   * playout latency = play time + clock offset − this. NaN before a capture-time
   * extension of this stream was seen.
   */
  newestCaptureEndMs = NaN;

  private readonly info = emptyRtpPacketInfo();
  private readonly decoder = new PcmDecoder();
  private readonly pending: PacketQueue;
  private assembler: OpusGroupAssembler | null = null;
  private assemblerKey = "";
  private readonly packet = {
    sequence: 0,
    timestamp: 0,
    clockRate: OPUS_CLOCK_RATE,
    arrivalMs: 0,
    channels: 0,
    frames: 0,
    samples: new Int32Array(0) as Int32Array<ArrayBufferLike>,
    fullScale: 0x80_0000,
  };

  constructor(private readonly opts: ReceiverOptions) {
    this.bandwidth = new BandwidthMeter(opts.nowMs);
    this.pending = new PacketQueue(64, opts.maxPending ?? 4096);
  }

  get pendingPackets(): number {
    return this.pending.length;
  }

  /** Packets lost because too many arrived before the ack. */
  get pendingOverflow(): number {
    return this.pending.overflowed;
  }

  /** The ack arrived: start (or keep) counting this stream, then replay held packets. */
  setStream(params: StreamParams): void {
    const prev = this.lastStream;
    const same = prev !== null && prev.ssrc === params.ssrc && prev.clockRate === params.clockRate;
    if (!same) {
      if (this.streams > 0) this.seq.restart();
      this.streams++;
      this.jitter.restart(params.clockRate);
      this.latency.restart(params.clockRate);
      this.opts.sink.reset();
      if (this.lastValues.length < params.channels.length) {
        this.lastValues = new Int32Array(params.channels.length);
      }
      this.lastValues.fill(0);
      this.newestCaptureEndMs = NaN;
    }
    this.stream = { ...params, channels: [...params.channels] };
    this.seq.setPacketRate(packetsPerSecond(this.stream));
    this.lastStream = this.stream;
    this.setupOpus(this.stream, !same);
    this.pending.drain(Infinity, (buf, len, t) => this.receive(buf, len, t));
  }

  /** The session ended: hold packets again until the next ack. */
  clearStream(): void {
    this.stream = null;
    this.pending.clear();
    this.assembler?.flush();
  }

  /**
   * The client stops: frees the Opus decoders, and packets still arriving are
   * held like packets before an ack, not counted as undecoded.
   */
  close(): void {
    this.stream = null;
    this.pending.clear();
    this.freeDecoders();
  }

  private freeDecoders(): void {
    this.assembler?.close();
    this.assembler = null;
    this.assemblerKey = "";
  }

  /** Group packets decoded (Opus) plus packets decoded (PCM). */
  get decodedPackets(): number {
    return this.decodedPcm + this.opus.decodedPackets;
  }

  /** The Opus assembler for this stream: kept while stream, rate and groups stay. */
  private setupOpus(s: StreamParams, newStream: boolean): void {
    const factory = this.opts.opusDecoder;
    if (s.encoding !== "opus" || !factory) {
      this.freeDecoders();
      return;
    }
    const rate = s.sampleRate ?? s.clockRate;
    const counts = groupCounts(s.channels, s.channelGroups);
    const key = `${s.ssrc}|${rate}|${counts.join(",")}`;
    if (this.assembler !== null && key === this.assemblerKey && !newStream) return;
    this.freeDecoders();
    try {
      this.assembler = new OpusGroupAssembler(
        factory,
        counts,
        rate,
        (f) => this.pushOpus(f),
        this.opus,
        (m) => {
          this.decodeErrors++;
          this.lastError = m;
        },
      );
      const sink = this.opts.sink;
      if (sink.readTimeOf) this.assembler.deadline = (ts) => sink.readTimeOf!(ts);
      if (sink.noteTiming) this.assembler.onLate = (ts, at) => sink.noteTiming!(ts, at);
      this.assemblerKey = key;
    } catch (e) {
      this.decodeErrors++;
      this.lastError = `cannot create the Opus decoder: ${(e as Error).message}`;
    }
  }

  private pushOpus(f: OpusFrame): void {
    const p = this.packet;
    const a = this.assembler!;
    this.noteCapture(f.rtpTimestamp, (f.frames * 1000) / a.sampleRate);
    p.sequence = f.index;
    p.timestamp = f.timestamp;
    p.clockRate = a.sampleRate;
    p.arrivalMs = f.arrivalMs;
    p.channels = a.channels;
    p.frames = f.frames;
    p.samples = f.samples;
    p.fullScale = OPUS_FULL_SCALE;
    this.opts.sink.push(p);
  }

  /** Keeps the capture time of the end of audio that starts at RTP timestamp `ts`. */
  private noteCapture(ts: number, durationMs: number): void {
    const end = this.latency.captureTimeOf(ts) + durationMs;
    if (end > this.newestCaptureEndMs || Number.isNaN(this.newestCaptureEndMs)) {
      this.newestCaptureEndMs = end;
    }
  }

  /** Last decoded value per channel id, e.g. {"1":1,"5":5,"32":32}. */
  valuesById(): Record<string, number> {
    const out: Record<string, number> = {};
    const s = this.lastStream;
    if (!s || s.encoding === "opus") return out;
    s.channels.forEach((id, i) => out[String(id)] = this.lastValues[i]);
    return out;
  }

  /** Handles one datagram `buf[0..length]` processed at `arrivalMs`. Never throws. */
  receive(buf: Uint8Array, length: number, arrivalMs: number): void {
    const s = this.stream;
    if (s === null) {
      this.pending.push(buf, length, arrivalMs);
      return;
    }
    const info = this.info;
    try {
      parseRtpInto(buf, length, info);
    } catch (e) {
      this.malformed++;
      this.lastError = (e as Error).message;
      return;
    }
    if (info.ssrc !== s.ssrc) {
      this.foreignSsrc++;
      return;
    }
    if (info.payloadType !== s.payloadType) {
      this.wrongPayloadType++;
      return;
    }
    const status = this.seq.update(info.sequence);
    if (status === SeqStatus.Duplicate || status === SeqStatus.Invalid) return;
    if (status === SeqStatus.Resync) this.assembler?.reset();
    this.jitter.update(info.timestamp, arrivalMs);
    this.bandwidth.add(length);
    const latency = this.latency.measure(
      info.timestamp,
      info.captureTimeMs,
      arrivalMs,
      this.opts.offsetMs(),
    );
    if (info.captureTimeMs >= 0 && this.opts.onExtension) {
      this.opts.onExtension({
        captureTimeMs: info.captureTimeMs,
        receiveMs: arrivalMs,
        latencyMs: latency,
        eventFlags: info.eventFlags,
      });
    }
    const p = this.packet;
    p.sequence = this.seq.lastExtended;
    p.timestamp = info.timestamp;
    p.clockRate = s.clockRate;
    p.arrivalMs = arrivalMs;
    p.channels = s.channels.length;
    p.frames = 0;
    if (s.encoding === "opus") {
      const a = this.assembler;
      if (a !== null) {
        a.push(
          p.sequence,
          info.timestamp,
          info.marker,
          buf.subarray(info.payloadOffset, info.payloadOffset + info.payloadLength),
          arrivalMs,
        );
        return; // the assembler pushes whole packet times to the sink
      }
      this.undecoded++;
    } else {
      try {
        const frames = this.decoder.decode(
          buf,
          info.payloadOffset,
          info.payloadLength,
          s.encoding,
          s.channels.length,
        );
        p.frames = frames;
        p.samples = this.decoder.samples;
        p.fullScale = pcmFullScale(s.encoding);
        this.decodedPcm++;
        this.noteCapture(info.timestamp, (frames * 1000) / s.clockRate);
        if (frames > 0) {
          const last = (frames - 1) * p.channels;
          for (let c = 0; c < p.channels; c++) this.lastValues[c] = p.samples[last + c];
        }
      } catch (e) {
        this.decodeErrors++;
        this.lastError = (e as Error).message;
      }
    }
    this.opts.sink.push(p);
  }
}
