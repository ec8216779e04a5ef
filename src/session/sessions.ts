/**
 * Client sessions: one per WebSocket, from `welcome` to close. A session
 * streams once it has both a destination (`/request-audio`) and a
 * `client_config`; it ends on close, heartbeat timeout, admin action or a
 * configuration change. Audio goes only to the address that asked for it.
 */
import type { ChannelConfig, Compression, Config, Encoding } from "../config/types.ts";
import { mappedChannels, SAMPLE_RATES } from "../config/types.ts";
import type { Clock, Random } from "../util/clock.ts";
import type { Logger } from "../util/log.ts";
import type { ClientConfigPayload } from "./client_config.ts";
import { SessionError } from "./errors.ts";
import type { QosReport } from "../qos/report.ts";
import { PT_OPUS, PT_PCM } from "../rtp/packet.ts";
import { buildSdp } from "../rtp/sdp.ts";
import type { EngineControl, StreamCounters, StreamSpec } from "./engine.ts";
import { opusFrameMsFor, opusPlanFor } from "../codec/opus_plan.ts";
import { opusChannelGroups } from "./opus_layout.ts";
import type { PacketSender } from "../net/sender.ts";

/** How a session talks back to its client (a WebSocket, or a test double). */
export interface SessionTransport {
  send(text: string): void;
  close(code: number, reason: string): void;
}

export interface EffectiveStream extends StreamSpec {
  payloadType: number;
  /** Rate the client asked for (the ack reports what is really sent). */
  requestedRate: number;
  /** For Opus: the rule applied, in one sentence. */
  note?: string;
}

export class ClientSession {
  udpPort: number | null = null;
  /** A browser's own transport (src/listener/): its destination instead of a UDP port. */
  sender: PacketSender | null = null;
  /**
   * A transport's own datagram limit when below `max_datagram_bytes`
   * (WebTransport): this session's packets and Opus groups are sized for it.
   */
  maxDatagramBytes: number | null = null;
  requested: ClientConfigPayload | null = null;
  effective: EffectiveStream | null = null;
  stream: StreamCounters | null = null;
  qos: QosReport | null = null;
  qosAt = 0;
  /** When its current stream started (0: not streaming yet); adaptation ignores its first seconds. */
  streamingSince = 0;
  lastSeen: number;
  closed = false;
  constructor(
    readonly id: string,
    readonly ip: string,
    readonly transport: SessionTransport,
    readonly createdAt: number,
    public ssrc: number,
    /** "udp" for RTP over UDP; browser transports name themselves. */
    readonly kind = "udp",
    /** The User-Agent of the request that opened the session (the admin page labels phones by it). */
    readonly userAgent: string | null = null,
  ) {
    this.lastSeen = createdAt;
  }

  send(msg: unknown): void {
    if (this.closed) return;
    try {
      this.transport.send(JSON.stringify(msg));
    } catch {
      // The socket is already gone; the close handler ends the session.
    }
  }
}

/** What sessions need of the engine: add and remove a client's stream (a fake in unit tests). */
export type SessionEngine = Pick<EngineControl, "addClient" | "removeClient">;

export interface SessionEnv {
  clock: Clock;
  random: Random;
  log: Logger;
  engine: SessionEngine;
  /** The effective configuration (stored values with this run's overrides). */
  config(): Config;
  channels(): ChannelConfig[];
  /** Channels the audio device really has (32, or fewer in the console's smaller USB modes). */
  deviceChannels(): number;
  /** Rates the server can produce from the native rate (native always; others with a resampler). */
  canProduceRate(rate: number): boolean;
  opusAvailable(): boolean;
  /** The server's own address as seen from `clientIp` (for SDP `c=`). */
  serverIpFor(clientIp: string): string;
  /** The server's RTCP port (RTP port + 1), for SDP `a=rtcp:`. */
  rtcpPort?(): number;
  /** Streaming started or stopped somewhere: the server starts/stops capture. */
  onStreamingChange(): void;
}

export const CLOSE_NORMAL = 1000;
export const CLOSE_GOING_AWAY = 1001;
export const CLOSE_TOO_LARGE = 1009;
export const CLOSE_HEARTBEAT_TIMEOUT = 4000;
export const CLOSE_ENDED_BY_SERVER = 4001;

export class SessionManager {
  readonly sessions = new Map<string, ClientSession>();
  private counter = 0;
  /** Per-address rate ceilings set by the adaptation (a client stepped down on its own). */
  private readonly ceilings = new Map<string, number>();

  constructor(private readonly env: SessionEnv) {}

  /** From the next `client_config` on, sessions from `address` get at most `rate` (null: no limit). */
  setRateCeiling(address: string, rate: number | null): void {
    if (rate === null) this.ceilings.delete(address);
    else this.ceilings.set(address, rate);
  }

  /** The addresses with a rate ceiling. */
  rateCeilings(): { address: string; sample_rate: number }[] {
    return [...this.ceilings].map(([address, sample_rate]) => ({ address, sample_rate }));
  }

  /** Sessions oldest first. */
  list(): ClientSession[] {
    return [...this.sessions.values()];
  }

  get streamingCount(): number {
    let n = 0;
    for (const s of this.sessions.values()) if (s.stream) n++;
    return n;
  }

  /** Mapped channels that exist on the device, in send order. */
  available(): ChannelConfig[] {
    const max = this.env.deviceChannels();
    return mappedChannels(this.env.channels()).filter((c) => c.id <= max);
  }

  open(
    ip: string,
    transport: SessionTransport,
    kind = "udp",
    userAgent: string | null = null,
  ): ClientSession {
    const now = this.env.clock.now();
    const id = `c${(++this.counter).toString(36)}-${this.env.random.u32().toString(36)}`;
    const s = new ClientSession(id, ip, transport, now, this.env.random.u32(), kind, userAgent);
    this.sessions.set(id, s);
    const cfg = this.env.config();
    s.send({
      type: "welcome",
      client_id: id,
      server_time: Math.round(now),
      heartbeat_timeout_s: cfg.network.heartbeat_timeout_s,
      config_version: cfg.config_version,
    });
    this.env.log.info("client connected", { client: id, address: ip, transport: kind });
    return s;
  }

  get(id: string): ClientSession | undefined {
    return this.sessions.get(id);
  }

  touch(s: ClientSession): void {
    s.lastSeen = this.env.clock.now();
  }

  /** `/request-audio`: the destination is always (the request's source IP, udp_port). */
  requestAudio(ip: string, udpPort: number, clientId: string | undefined) {
    let s: ClientSession | undefined;
    if (clientId) {
      s = this.sessions.get(clientId);
      if (!s) {
        throw new SessionError("no_session", `no WebSocket session with client_id ${clientId}`);
      }
      if (s.ip !== ip) {
        throw new SessionError(
          "address_mismatch",
          `client_id ${clientId} belongs to another address; audio goes only to the address that asked`,
        );
      }
    } else {
      const candidates = this.list().filter((x) =>
        x.ip === ip && x.udpPort === null && x.sender === null
      );
      s = candidates[candidates.length - 1];
      if (!s) {
        throw new SessionError(
          "no_session",
          `no WebSocket session from ${ip} waiting for audio; open /ws first`,
        );
      }
    }
    const cfg = this.env.config();
    if (s.udpPort === null) this.checkCapacity(cfg);
    s.udpPort = udpPort;
    this.touch(s);
    this.env.log.info("audio requested", { client: s.id, address: ip, udp_port: udpPort });
    const channels = this.available().map((c) => c.id);
    const rate = this.producibleRate(cfg.audio.sample_rate, cfg, s.ip);
    const sdp = buildSdp({
      serverIp: this.env.serverIpFor(ip),
      udpPort,
      payloadType: PT_PCM,
      encoding: cfg.audio.encoding,
      clockRate: rate,
      channels,
      ptimeMs: cfg.audio.ptime_ms,
      sessionId: s.ssrc,
      sessionVersion: cfg.config_version,
      rtcpPort: this.env.rtcpPort?.(),
    });
    if (s.stream) this.restartStream(s);
    else if (s.requested) this.startStream(s);
    return { status: "ok", client_id: s.id, udp_port: udpPort, ssrc: s.ssrc >>> 0, sdp };
  }

  /** `server_full` when max_clients sessions already have a destination (UDP or their own). */
  private checkCapacity(cfg: Config): void {
    let withDest = 0;
    for (const x of this.sessions.values()) if (x.udpPort !== null || x.sender !== null) withDest++;
    if (withDest >= cfg.network.max_clients) {
      throw new SessionError(
        "server_full",
        `${withDest} of ${cfg.network.max_clients} clients are streaming; try again later`,
      );
    }
  }

  /**
   * A browser session brings its own transport (WebSocket or DataChannel,
   * src/listener/): it becomes the session's destination, counts toward
   * max_clients like a UDP port, and the stream starts once `client_config`
   * is known (at once if it already is). Throws `server_full`.
   */
  attachSender(s: ClientSession, sender: PacketSender): void {
    if (s.closed) return;
    if (s.sender === null && s.udpPort === null) this.checkCapacity(this.env.config());
    s.sender = sender;
    this.touch(s);
    if (s.stream) this.restartStream(s);
    else if (s.requested) this.startStream(s);
  }

  /** The highest rate ≤ `asked` that the server can produce and `ip` is allowed now. */
  private producibleRate(asked: number, cfg: Config, ip: string): number {
    const ceiling = this.ceilingFor(ip, cfg);
    for (const r of SAMPLE_RATES) {
      if (r <= asked && r <= ceiling && this.env.canProduceRate(r)) return r;
    }
    return cfg.audio.native_sample_rate;
  }

  private ceilingFor(ip: string, cfg: Config): number {
    const stored = Math.min(cfg.audio.sample_rate, cfg.audio.native_sample_rate);
    return Math.min(stored, this.ceilings.get(ip) ?? stored);
  }

  /** Validated `client_config` → stored, acknowledged, and streamed when the destination is known. */
  configure(s: ClientSession, payload: ClientConfigPayload): void {
    const cfg = this.env.config();
    const mapped = this.available();
    const mappedIds = new Set(mapped.map((c) => c.id));
    let channels: number[];
    if (!payload.channels || payload.channels.length === 0) {
      channels = mapped.map((c) => c.id);
    } else {
      const asked = new Set<number>();
      for (const c of payload.channels) {
        if (!mappedIds.has(c.id)) {
          throw new SessionError(
            "unmapped_channel",
            `channel ${c.id} is not mapped; mapped channels: ${[...mappedIds].join(",") || "none"}`,
          );
        }
        asked.add(c.id);
      }
      // Send order is the server's mapping order.
      channels = mapped.map((c) => c.id).filter((id) => asked.has(id));
    }
    if (channels.length === 0) {
      throw new SessionError("no_mapped_channel", "no channel is mapped on the server");
    }
    const compression: Compression = payload.compression ?? "none";
    if (compression === "opus" && !this.env.opusAvailable()) {
      throw new SessionError("opus_unavailable", "opus is not available on this server");
    }
    const requestedRate = payload.sample_rate ?? cfg.audio.sample_rate;
    const encoding: Encoding = cfg.audio.encoding;
    s.requested = payload;
    const cap = s.maxDatagramBytes !== null && s.maxDatagramBytes < cfg.audio.max_datagram_bytes
      ? { maxDatagramBytes: s.maxDatagramBytes }
      : {};
    if (compression === "opus") {
      const native = cfg.audio.native_sample_rate;
      const plan = opusPlanFor(Math.min(requestedRate, this.ceilingFor(s.ip, cfg)), native);
      s.effective = {
        channels,
        sampleRate: plan.sampleRate,
        compression,
        encoding,
        payloadType: PT_OPUS,
        requestedRate,
        opus: {
          bitrate: plan.bitrate,
          maxBandwidth: plan.maxBandwidth,
          frameMs: opusFrameMsFor(cfg.audio.ptime_ms),
        },
        note: plan.reason,
        ...cap,
      };
    } else {
      s.effective = {
        channels,
        sampleRate: this.producibleRate(requestedRate, cfg, s.ip),
        compression,
        encoding,
        payloadType: PT_PCM,
        requestedRate,
        ...cap,
      };
    }
    if (s.stream) {
      s.ssrc = this.env.random.u32();
      this.restartStream(s);
    }
    s.send({ type: "client_config_ack", payload: this.ackPayload(s, cfg) });
    if (!s.stream && (s.udpPort !== null || s.sender !== null)) this.startStream(s);
  }

  private ackPayload(s: ClientSession, cfg: Config) {
    const e = s.effective!;
    const opus = e.compression === "opus";
    const clockRate = opus ? 48000 : e.sampleRate;
    const ptime = opus ? e.opus!.frameMs : cfg.audio.ptime_ms;
    const extra: Record<string, unknown> = {};
    if (opus) {
      const o = e.opus!;
      const frameBytes = Math.round((o.bitrate * o.frameMs) / 8000);
      let first = 0;
      extra.channel_groups = opusChannelGroups(
        e.channels.length,
        frameBytes,
        e.maxDatagramBytes ?? cfg.audio.max_datagram_bytes,
      )
        .map((n) => e.channels.slice(first, first += n));
      extra.bitrate_per_channel = o.bitrate;
      extra.note = e.note;
    }
    return {
      channels: e.channels,
      sample_rate: e.sampleRate,
      compression: e.compression,
      encoding: opus ? "opus" : e.encoding,
      ptime_ms: ptime,
      ...extra,
      ssrc: s.ssrc >>> 0,
      payload_type: e.payloadType,
      sdp: buildSdp({
        serverIp: this.env.serverIpFor(s.ip),
        udpPort: s.udpPort ?? 0,
        payloadType: e.payloadType,
        encoding: opus ? "opus" : e.encoding,
        clockRate,
        channels: e.channels,
        ptimeMs: ptime,
        sessionId: s.ssrc >>> 0,
        sessionVersion: cfg.config_version,
        rtcpPort: this.env.rtcpPort?.(),
      }),
    };
  }

  private startStream(s: ClientSession): void {
    if (!s.effective || (s.udpPort === null && s.sender === null) || s.closed) return;
    s.streamingSince = this.env.clock.now();
    s.stream = this.env.engine.addClient({
      clientId: s.id,
      hostname: s.ip,
      port: s.udpPort ?? 0,
      sender: s.sender ?? undefined,
      spec: s.effective,
      ssrc: s.ssrc,
      sequence: this.env.random.u32() & 0xffff,
      timestampBase: this.env.random.u32(),
    });
    this.env.log.info("streaming started", {
      client: s.id,
      dest: s.sender ? `${s.ip} (${s.kind})` : `${s.ip}:${s.udpPort}`,
      channels: s.effective.channels.join(","),
      sample_rate: s.effective.sampleRate,
      compression: s.effective.compression,
      ssrc: s.ssrc >>> 0,
    });
    this.env.onStreamingChange();
  }

  private restartStream(s: ClientSession): void {
    this.env.engine.removeClient(s.id);
    s.stream = null;
    this.startStream(s);
  }

  /** Ends one session: stops its audio, optionally tells it why, closes the socket. */
  end(
    s: ClientSession,
    reason: string,
    event?: Record<string, unknown>,
    code = CLOSE_ENDED_BY_SERVER,
  ) {
    if (s.closed) return;
    if (event) s.send({ type: "event", payload: event });
    s.closed = true;
    this.sessions.delete(s.id);
    const stream = this.env.engine.removeClient(s.id);
    s.stream = null;
    try {
      s.transport.close(code, reason.slice(0, 120));
    } catch {
      // already closed
    }
    this.env.log.info("client session ended", {
      client: s.id,
      reason,
      packets_sent: stream?.packetsSent ?? 0,
    });
    if (stream) this.env.onStreamingChange();
  }

  /**
   * The engine could not produce or send this client's stream (its transport,
   * encoder or resampler threw): ends that session only, with a `reconnect`
   * event saying why (the client starts a fresh session), close 4001.
   */
  streamFailed(clientId: string, error: unknown): void {
    const s = this.sessions.get(clientId);
    if (!s) return;
    const why = error instanceof Error ? error.message : String(error);
    this.end(s, `stream failed: ${why}`, {
      type: "reconnect",
      reason: `the server failed sending your audio (${why}); reconnect`.slice(0, 200),
    });
  }

  /** The WebSocket closed from the client side. */
  closed(s: ClientSession): void {
    this.end(s, "client closed the connection", undefined, CLOSE_NORMAL);
  }

  endAll(reason: string, event: Record<string, unknown>): number {
    const all = this.list();
    for (const s of all) this.end(s, reason, event);
    return all.length;
  }

  broadcast(event: Record<string, unknown>, filter?: (s: ClientSession) => boolean): number {
    let n = 0;
    for (const s of this.sessions.values()) {
      if (filter && !filter(s)) continue;
      s.send({ type: "event", payload: event });
      n++;
    }
    return n;
  }

  /** Ends sessions silent for longer than the heartbeat timeout; returns how many. */
  sweep(): number {
    const timeoutMs = this.env.config().network.heartbeat_timeout_s * 1000;
    const now = this.env.clock.now();
    let n = 0;
    for (const s of this.list()) {
      if (now - s.lastSeen > timeoutMs) {
        this.end(
          s,
          `no heartbeat for ${Math.round((now - s.lastSeen) / 1000)} s`,
          undefined,
          CLOSE_HEARTBEAT_TIMEOUT,
        );
        n++;
      }
    }
    return n;
  }

  recordQos(report: QosReport): ClientSession | undefined {
    const s = this.sessions.get(report.client_id);
    if (s) {
      s.qos = report;
      s.qosAt = this.env.clock.now();
    }
    return s;
  }
}
