/**
 * The streaming engine: the fan-out at the heart of the server.
 *
 *   source period ──► rate stream (once per rate) ──► layout (encode once per
 *   distinct channel list/encoding) ──► client stream (RTP header per client)
 *   ──► sender (batched) ──► wire
 *
 * Everything here runs synchronously inside the source's period callback and
 * allocates nothing per packet in steady state. Control (adding/removing
 * clients) happens between periods.
 *
 * Faults stay with the clients they belong to: a rate converter that throws
 * costs only the clients at that rate, a layout (encoder) only the clients on
 * it, a client's transport (commit or flush) only that client. Every other
 * client still gets its packets that period and every sender is flushed. A
 * failing client is logged once and reported once through `onClientError`
 * (the session layer ends that session); later failures are only counted
 * (logged with the count when the client is removed).
 */
import type { RateConverter, RateConverterFactory } from "../audio/rate_converter.ts";
import type { Period } from "../audio/source.ts";
import type { Encoding } from "../config/types.ts";
import type { PacketSender } from "../net/sender.ts";
import type { Clock } from "../util/clock.ts";
import type { Logger } from "../util/log.ts";
import { ClientStream, type PeriodSlot } from "./client_stream.ts";
import type { StreamLayout } from "./layout.ts";
import { PcmLayout, pcmLayoutKey } from "./pcm_layout.ts";
import { LatencyWindow } from "./latency_window.ts";
import { LatenessHistogram } from "./lateness.ts";
import { type OpusTier, opusTierKey } from "./opus_layout.ts";
import type { ReceiverReportStats, RtcpAgent } from "./rtcp_agent.ts";

/** A factory for Opus layouts (src/session/opus_layout.ts), keyed like PCM ones. */
export type LayoutFactory = (
  key: string,
  tier: OpusTier,
  channels: readonly number[],
  maxDatagramBytes: number,
) => StreamLayout;

export interface StreamSpec {
  /** USB channel ids in send order. */
  channels: readonly number[];
  /** The rate the client receives (Opus: the rate it decodes at). */
  sampleRate: number;
  compression: "none" | "opus";
  encoding: Encoding;
  /** For Opus: the encoder tier (bitrate, bandwidth, frame). */
  opus?: OpusTier;
  /** A smaller datagram limit than the engine's (a WebTransport client): its own layout. */
  maxDatagramBytes?: number;
}

export function layoutKey(spec: StreamSpec): string {
  const key = spec.compression === "opus" && spec.opus
    ? `opus|${opusTierKey(spec.opus)}|${spec.channels.join(",")}`
    : pcmLayoutKey(spec.encoding, spec.sampleRate, spec.channels);
  return spec.maxDatagramBytes === undefined ? key : `${key}|max=${spec.maxDatagramBytes}`;
}

export interface ClientStreamParams {
  clientId: string;
  hostname: string;
  port: number;
  spec: StreamSpec;
  ssrc: number;
  sequence: number;
  timestampBase: number;
  /**
   * A transport of the client's own (a browser's DataChannel or WebSocket);
   * default: the server's UDP sender to (hostname, port).
   */
  sender?: PacketSender;
}

interface RateStream extends PeriodSlot {
  rate: number;
  refs: number;
  converter: RateConverter | null;
  /** Clients at this rate receiving each channel id: the converter converts only those. */
  channelRefs: Map<number, number>;
  /** The channel set changed since the converter was told. */
  channelsChanged: boolean;
  /** Engine period in which the converter last threw (its clients get no packets then). */
  failedPeriod: number;
  error: unknown;
}

/** A client's counters as the session layer reads them. */
export interface StreamCounters {
  readonly packetsSent: number;
  readonly bytesSent: number;
  /** The client's latest RTCP receiver report (UDP clients that send them), else null. */
  readonly receiverReport: ReceiverReportStats | null;
}

/** The recent capture → wire latencies the stats line and the adaptation read. */
export interface LatencyPercentiles {
  readonly count: number;
  percentile(p: number): number;
  reset(): void;
}

/**
 * What the session layer and the control plane use of the engine: the engine
 * itself on the main-thread audio plane, a proxy on the worker plane
 * (src/plane/worker_plane.ts). Control calls take effect between periods.
 */
export interface EngineControl {
  readonly active: boolean;
  readonly periods: number;
  readonly totalPackets: number;
  readonly captureToWire: LatencyPercentiles;
  readonly lateness: LatenessHistogram;
  configure(extIntervalMs: number, maxDatagramBytes: number): void;
  addClient(p: ClientStreamParams): StreamCounters;
  removeClient(clientId: string): StreamCounters | undefined;
}

export interface EngineOptions {
  sender: PacketSender;
  clock: Clock;
  extIntervalMs: number;
  maxDatagramBytes: number;
  /** Called when the first client is added and after the last one is removed. */
  onActiveChange?: (active: boolean) => void;
  rateConverter?: RateConverterFactory;
  opusLayout?: LayoutFactory;
  /** Where a failing client is logged (once each). */
  log?: Logger;
  /**
   * A client's stream failed (its converter, layout or transport threw); called once per
   * client, after the period's flush. The session layer ends that session.
   */
  onClientError?: (clientId: string, error: unknown) => void;
  /** Where the lateness histogram keeps its counts (a SharedArrayBuffer to read from another thread). */
  latenessBuffer?: ArrayBufferLike;
  /** Likewise for the capture → wire window (LatencyWindow.bytes(CAPTURE_TO_WIRE_WINDOW)). */
  captureToWireBuffer?: ArrayBufferLike;
  /** RTCP for the UDP clients (sender reports, BYE, receiver reports): ./rtcp_agent.ts. */
  rtcp?: RtcpAgent;
  /**
   * Paced sending: a packet time split over several packets sends only its
   * first at once; packet k is due `offset_k / clock rate` later (the audio
   * plane calls `runDue` from a timer at `nextDueMs`), so packets leave as far
   * apart as their timestamps and RFC 3550 jitter stays near 0. A receiver's
   * playout delay is set by each packet time's first packet, which is not held.
   */
  pace?: boolean;
}

/** Periods in the capture → wire window: 10 s of 5 ms periods. */
export const CAPTURE_TO_WIRE_WINDOW = 2000;

export class StreamingEngine implements EngineControl {
  readonly clients = new Map<string, ClientStream>();
  private clientList: ClientStream[] = [];
  /** Every sender a client uses (the UDP one first), flushed once per period. */
  private senderList: PacketSender[] = [];
  private readonly layouts = new Map<string, StreamLayout>();
  private readonly rates = new Map<number, RateStream>();
  private rateList: RateStream[] = [];
  /** Each client's channel ids, released from its rate stream when it leaves. */
  private readonly channelsOf = new Map<ClientStream, readonly number[]>();
  /** Capture timestamp → last datagram of the period handed to the kernel, ms. */
  readonly captureToWire: LatencyWindow;
  /** Period's scheduled time (its last frame captured) → its last datagram handed to the kernel (paced: its first batch). */
  readonly lateness: LatenessHistogram;
  periods = 0;
  totalPackets = 0;
  /** Every failure of a client's stream (one per client per period it failed in). */
  clientErrors = 0;
  /** Flushes of the shared UDP sender that threw (its own errors are counted, never thrown). */
  senderErrors = 0;
  /** Periods whose RTCP reports threw. */
  rtcpErrors = 0;
  /** Layouts that threw this period, so their other clients skip a half-rendered payload. */
  private readonly failedLayouts = new Map<StreamLayout, unknown>();
  /** Paced sending: clients with packets of this period still held, and when they were sent from. */
  private readonly pending: ClientStream[] = [];
  private pendingBaseMs = 0;
  /** When the next held packet is due (epoch ms; Infinity: none held). */
  nextDueMs = Infinity;
  /** Clients that failed for the first time this period, reported after the flush. */
  private readonly newlyFailed: ClientStream[] = [];
  private readonly newlyFailedErrors: unknown[] = [];

  constructor(private opts: EngineOptions) {
    this.lateness = new LatenessHistogram(opts.latenessBuffer);
    this.captureToWire = new LatencyWindow(CAPTURE_TO_WIRE_WINDOW, opts.captureToWireBuffer);
  }

  get active(): boolean {
    return this.clientList.length > 0;
  }

  /** Applies new limits to clients added from now on (existing sessions are ended by config changes). */
  configure(extIntervalMs: number, maxDatagramBytes: number): void {
    this.opts = { ...this.opts, extIntervalMs, maxDatagramBytes };
  }

  addClient(p: ClientStreamParams): ClientStream {
    this.removeClient(p.clientId);
    const layout = this.acquireLayout(p.spec);
    const rate = this.acquireRate(layout.inputRate, p.spec.channels);
    const sender = p.sender ?? this.opts.sender;
    const stream = new ClientStream(
      p.clientId,
      sender.destination(p.hostname, p.port),
      sender,
      layout,
      rate,
      p.ssrc,
      p.sequence,
      p.timestampBase,
      this.opts.extIntervalMs,
    );
    this.clients.set(p.clientId, stream);
    this.channelsOf.set(stream, p.spec.channels);
    this.refreshLists();
    // Only UDP clients have a `udp_port + 1`; browser transports get no RTCP.
    if (!p.sender) this.opts.rtcp?.add(stream);
    if (this.clientList.length === 1) this.opts.onActiveChange?.(true);
    return stream;
  }

  removeClient(clientId: string): ClientStream | undefined {
    const stream = this.clients.get(clientId);
    if (!stream) return undefined;
    this.clients.delete(clientId);
    this.refreshLists();
    if (stream.rtcp) {
      try {
        this.opts.rtcp?.remove(stream);
      } catch (e) {
        this.opts.log?.warn("rtcp bye failed", { client: clientId, error: e as Error });
      }
    }
    this.releaseLayout(stream.layout);
    this.releaseRate(stream.input as RateStream, this.channelsOf.get(stream) ?? []);
    this.channelsOf.delete(stream);
    if (stream.errors > 1) {
      this.opts.log?.warn("client stream errors", { client: clientId, errors: stream.errors });
    }
    if (this.clientList.length === 0) this.opts.onActiveChange?.(false);
    return stream;
  }

  private refreshLists(): void {
    this.clientList = [...this.clients.values()];
    this.senderList = [...new Set([this.opts.sender, ...this.clientList.map((c) => c.sender)])];
  }

  private acquireRate(rate: number, channels: readonly number[]): RateStream {
    let rs = this.rates.get(rate);
    if (!rs) {
      rs = {
        rate,
        refs: 0,
        converter: null,
        current: null,
        failedPeriod: 0,
        error: null,
        channelRefs: new Map(),
        channelsChanged: true,
      };
      this.rates.set(rate, rs);
      this.rateList = [...this.rates.values()];
    }
    rs.refs++;
    for (const id of channels) {
      const n = rs.channelRefs.get(id) ?? 0;
      rs.channelRefs.set(id, n + 1);
      if (n === 0) rs.channelsChanged = true;
    }
    return rs;
  }

  private releaseRate(rs: RateStream, channels: readonly number[]): void {
    for (const id of channels) {
      const n = (rs.channelRefs.get(id) ?? 1) - 1;
      if (n > 0) rs.channelRefs.set(id, n);
      else if (rs.channelRefs.delete(id)) rs.channelsChanged = true;
    }
    if (--rs.refs > 0) return;
    closeConverter(rs);
    this.rates.delete(rs.rate);
    this.rateList = [...this.rates.values()];
  }

  private acquireLayout(spec: StreamSpec): StreamLayout {
    const key = layoutKey(spec);
    let layout = this.layouts.get(key);
    const maxDatagramBytes = Math.min(
      spec.maxDatagramBytes ?? this.opts.maxDatagramBytes,
      this.opts.maxDatagramBytes,
    );
    if (!layout) {
      if (spec.compression === "opus") {
        if (!this.opts.opusLayout || !spec.opus) {
          throw new Error("Opus is not available on this server");
        }
        layout = this.opts.opusLayout(key, spec.opus, spec.channels, maxDatagramBytes);
      } else {
        layout = new PcmLayout(
          spec.encoding,
          spec.sampleRate,
          spec.channels,
          maxDatagramBytes,
        );
      }
      this.layouts.set(key, layout);
    }
    layout.refs++;
    return layout;
  }

  private releaseLayout(layout: StreamLayout): void {
    if (--layout.refs > 0) return;
    layout.close?.();
    // By identity: a layout sized for a smaller datagram limit is stored under a longer key.
    for (const [k, l] of this.layouts) if (l === layout) this.layouts.delete(k);
  }

  /** The source's period callback: the whole hot path. */
  readonly onPeriod = (period: Period): void => {
    // The previous period's held packets go first: rendering overwrites their payloads.
    if (this.pending.length > 0) this.runDue(Infinity);
    if (this.clientList.length === 0) return;
    const seq = ++this.periods;
    // 1. once per rate in use
    for (let i = 0; i < this.rateList.length; i++) {
      const rs = this.rateList[i];
      if (rs.rate === period.sampleRate) {
        rs.current = period;
        continue;
      }
      try {
        if (rs.converter?.inputRate !== period.sampleRate) {
          closeConverter(rs);
          if (!this.opts.rateConverter) {
            throw new Error(`no resampler for ${period.sampleRate} → ${rs.rate} Hz`);
          }
          rs.converter = this.opts.rateConverter(period.sampleRate, rs.rate);
          rs.channelsChanged = true;
        }
        if (rs.channelsChanged) {
          rs.channelsChanged = false;
          rs.converter.setChannels?.([...rs.channelRefs.keys()]);
        }
        rs.current = rs.converter.process(period);
      } catch (e) {
        // Its clients fail this period; the next one starts a fresh converter.
        rs.current = null;
        rs.failedPeriod = seq;
        rs.error = e;
        closeConverter(rs);
      }
    }
    // 2. once per layout, 3. once per client, 4. batched send
    const clients = this.clientList;
    for (let i = 0; i < clients.length; i++) {
      const c = clients[i];
      if (c.gated) continue;
      const p = c.input.current;
      if (!p) {
        const rs = c.input as RateStream;
        if (rs.failedPeriod === seq) this.clientFailed(c, rs.error);
        continue;
      }
      const layout = c.layout;
      if (this.failedLayouts.size > 0 && this.failedLayouts.has(layout)) {
        this.clientFailed(c, this.failedLayouts.get(layout));
        continue;
      }
      try {
        layout.render(p, seq);
      } catch (e) {
        this.failedLayouts.set(layout, e);
        this.clientFailed(c, e);
        continue;
      }
      c.nextPacket = 0;
      try {
        // Only RTP over UDP is paced: a browser transport (WebSocket, DataChannel, WebTransport)
        // has its own sending (TCP, SCTP, QUIC), and each paced batch would wake the control
        // plane's relay again (measured: +20 µs a packet at 20 WebSocket listeners).
        const paced = this.opts.pace && c.sender === this.opts.sender;
        this.totalPackets += c.emit(paced ? firstBatch(layout) : layout.packetCount);
      } catch (e) {
        this.clientFailed(c, e);
        continue;
      }
      if (c.nextPacket < layout.packetCount) this.pending.push(c);
    }
    for (let i = 0; i < this.senderList.length; i++) {
      const sender = this.senderList[i];
      try {
        sender.flush();
      } catch (e) {
        this.flushFailed(sender, e);
      }
    }
    const wire = this.opts.clock.now();
    this.pendingBaseMs = wire;
    this.nextDueMs = this.pending.length > 0 ? this.earliestDue() : Infinity;
    if (this.opts.rtcp) {
      try {
        this.opts.rtcp.afterPeriod(wire);
      } catch (e) {
        if (this.rtcpErrors++ === 0) {
          this.opts.log?.error("rtcp reports failed (counted from now on)", { error: e as Error });
        }
      }
    }
    this.captureToWire.add(wire - period.captureTimeMs);
    this.lateness.add(wire - period.captureTimeMs - (period.frames * 1000) / period.sampleRate);
    if (this.failedLayouts.size > 0) this.failedLayouts.clear();
    if (this.newlyFailed.length > 0) this.reportFailures();
  };

  /**
   * Paced sending: sends the held packets due by `limitMs` (epoch ms;
   * Infinity: all of them), flushes, and sets `nextDueMs` to the next one due.
   */
  runDue(limitMs: number): void {
    const pending = this.pending;
    if (pending.length === 0) return;
    let kept = 0;
    for (let i = 0; i < pending.length; i++) {
      const c = pending[i];
      const layout = c.layout;
      if (c.gated || this.clients.get(c.clientId) !== c) continue;
      const msPerTick = 1000 / layout.rtpClockRate;
      let upTo = c.nextPacket;
      while (
        upTo < layout.packetCount &&
        this.pendingBaseMs + layout.packetRtpOffsets[upTo] * msPerTick <= limitMs
      ) upTo++;
      try {
        this.totalPackets += c.emit(upTo);
      } catch (e) {
        this.clientFailed(c, e);
        continue;
      }
      if (c.nextPacket < layout.packetCount) pending[kept++] = c;
    }
    pending.length = kept;
    for (let i = 0; i < this.senderList.length; i++) {
      const sender = this.senderList[i];
      try {
        sender.flush();
      } catch (e) {
        this.flushFailed(sender, e);
      }
    }
    this.nextDueMs = kept > 0 ? this.earliestDue() : Infinity;
    if (this.newlyFailed.length > 0) this.reportFailures();
  }

  private earliestDue(): number {
    let due = Infinity;
    for (let i = 0; i < this.pending.length; i++) {
      const c = this.pending[i];
      const t = (c.layout.packetRtpOffsets[c.nextPacket] * 1000) / c.layout.rtpClockRate;
      if (t < due) due = t;
    }
    return this.pendingBaseMs + due;
  }

  private clientFailed(c: ClientStream, error: unknown): void {
    this.clientErrors++;
    if (c.errors++ > 0) return;
    this.newlyFailed.push(c);
    this.newlyFailedErrors.push(error);
  }

  /** The shared UDP sender is counted; a client's own transport fails its clients. */
  private flushFailed(sender: PacketSender, error: unknown): void {
    if (sender === this.opts.sender) {
      if (this.senderErrors++ === 0) {
        this.opts.log?.error("udp sender flush threw (counted from now on)", {
          error: error as Error,
        });
      }
      return;
    }
    for (const c of this.clientList) if (c.sender === sender) this.clientFailed(c, error);
  }

  /** Logs and reports each newly failed client once (after the flush: the session layer may remove it). */
  private reportFailures(): void {
    const failed = this.newlyFailed;
    const errors = this.newlyFailedErrors;
    for (let i = 0; i < failed.length; i++) {
      const c = failed[i];
      this.opts.log?.error("client stream failed; ending its session", {
        client: c.clientId,
        error: errors[i] as Error,
        clients_failed: this.clientErrors,
      });
      try {
        this.opts.onClientError?.(c.clientId, errors[i]);
      } catch (e) {
        this.opts.log?.error("ending a failed client's session threw", {
          client: c.clientId,
          error: e as Error,
        });
      }
    }
    failed.length = 0;
    errors.length = 0;
  }
}

/** Packets sent at once when pacing: those at the packet time's first instant (Opus groups: all). */
function firstBatch(layout: StreamLayout): number {
  let n = 1;
  while (n < layout.packetCount && layout.packetRtpOffsets[n] === 0) n++;
  return n;
}

function closeConverter(rs: RateStream): void {
  const converter = rs.converter;
  rs.converter = null;
  try {
    converter?.close();
  } catch {
    // A converter that failed may fail to close too; it is dropped either way.
  }
}
