/**
 * The reference client's control loop (contract §2): `/audio-meta` → `/ws`
 * (welcome) → `/request-audio` → `client_config` → ack → RTP, with heartbeats,
 * clock sync, QoS reports and events; on `config_changed` / `reconnect` /
 * `server_shutdown` or a lost socket it starts again with back-off.
 *
 * Uses only web APIs (fetch, WebSocket, timers); the UDP socket is injected
 * as a `DatagramSource` (./udp_source.ts opens one with Deno).
 */

import { type Clock, systemClock } from "../util/clock.ts";
import {
  type AudioMeta,
  errorMessageOf,
  type JitterThresholds,
  parseAudioMeta,
  parseJitterThresholds,
  parseRequestAudio,
  type QosMetrics,
  qosReport,
  resolveJitterThresholds,
} from "./api.ts";
import { ClockSync } from "./clock_sync.ts";
import {
  type ClientConfigAck,
  clientConfigMessage,
  type Compression,
  heartbeatMessage,
  isSessionEndingEvent,
  ntpRequestMessage,
  type ServerMessage,
} from "./messages.ts";
import type { AudioOutput } from "./audio_output.ts";
import { JitterBuffer } from "./jitter_buffer.ts";
import { type MasterSettings, mixChannels, type MixerChannel } from "./mixer.ts";
import { PacketQueue } from "./packet_queue.ts";
import { PlayoutDriver } from "./playout_driver.ts";
import type { OpusDecoderFactory } from "./opus.ts";
import { RtpReceiver, streamParamsFromAck } from "./receiver.ts";
import { type ChannelSettings, defaultChannelSettings, type GroupSettings } from "./settings.ts";
import { type ClientSummary, summarize } from "./summary.ts";
import { WsLink } from "./ws_link.ts";
import { ClientRtcp, RR_INTERVAL_MS, type RtcpChannel, rtcpPortFromSdp } from "./rtcp_receiver.ts";

/** A bound UDP socket: `receive` fills `buf` and returns the datagram length. */
export interface DatagramSource {
  readonly port: number;
  receive(buf: Uint8Array): Promise<number>;
  close(): void;
}

export interface ClientOptions {
  /** Base URL, e.g. http://127.0.0.1:8080. */
  server: string;
  udp: DatagramSource;
  /**
   * The socket on `udp_port + 1` (docs/protocol.md §5): the server's sender
   * reports and BYE arrive there and receiver reports leave from it. Absent:
   * no RTCP (the server's reports to that port are then refused by the host).
   */
  rtcp?: RtcpChannel;
  /** USB channel ids to receive; absent = all mapped channels. */
  channels?: number[];
  /** The client's own settings for those channels, sent along in client_config. */
  channelSettings?: ChannelSettings[];
  compression?: Compression;
  /** Asked sample rate; absent = the server's current rate. */
  sampleRate?: number;
  /** FORCE_DELAY_MS: hold each datagram this long before processing it. */
  forceDelayMs?: number;
  /** JITTER_INTERPOLATE_MS / JITTER_DROP_MS from the environment. */
  jitterEnv?: Partial<JitterThresholds>;
  clock?: Clock;
  log?: (line: string) => void;
  heartbeatIntervalMs?: number;
  qosIntervalMs?: number;
  /** Clock sync: this many requests `ntpFastIntervalMs` apart, then every `ntpIntervalMs`. */
  ntpFastCount?: number;
  ntpFastIntervalMs?: number;
  ntpIntervalMs?: number;
  backoffInitialMs?: number;
  backoffMaxMs?: number;
  /** Uniform [0, 1) for the back-off jitter (default Math.random). */
  random?: () => number;
  /** Opens where the mix goes, at the first stream's rate; absent = nothing is played. */
  openOutput?: (sampleRate: number) => AudioOutput;
  /** Master volume and limiter of the mix (and "more me", `more_me_db`). */
  master?: MasterSettings & { more_me_db?: number };
  /** The musician's groups (contract §11 settings' `groups`), applied with the links and more me. */
  groups?: GroupSettings[];
  /** Limit for each HTTP request and each awaited WebSocket answer. */
  requestTimeoutMs?: number;
  /**
   * Makes Opus decoders (./opus_ffi.ts has one on libopus); absent = Opus
   * packets are counted for QoS but not decoded (the mix is silent).
   */
  opusDecoder?: OpusDecoderFactory;
}

const EXT_LOG_INTERVAL_MS = 1000;
const MAX_DATAGRAM = 65536;
const SHUTDOWN_BACKOFF_MS = 1000;

export class ReferenceClient {
  readonly receiver: RtpReceiver;
  /** RTCP with the server (present with `opts.rtcp`). */
  readonly rtcp: ClientRtcp | null;
  private rtcpDone: Promise<void> = Promise.resolve();
  private rrTimer: ReturnType<typeof setTimeout> | undefined;
  /** Where receiver reports go: the server's host and its `a=rtcp:` port. */
  private rtcpDest: { hostname: string; port: number } | null = null;
  readonly clockSync = new ClockSync();
  readonly playout: JitterBuffer;
  readonly driver: PlayoutDriver;
  /** Sessions re-established after the first one. */
  reconnects = 0;
  /** Connection attempts after the first (failed ones included). */
  reconnectAttempts = 0;
  /** `server_metrics` of the latest `/qos-metrics` answer. */
  serverMetrics: Record<string, unknown> | null = null;
  private sessionsStarted = 0;
  /** The mixer's view of the settings (groups, more me and stereo links resolved). */
  private channelSettingsById = new Map<number, MixerChannel>();
  clientId = "";
  meta: AudioMeta | null = null;
  /** The current session's ack (null between sessions). */
  ack: ClientConfigAck | null = null;
  /** The most recent ack, kept for the summary. */
  lastAck: ClientConfigAck | null = null;
  thresholds: JitterThresholds & { source: string };
  /** Set when the client gave up (a configuration the server will never accept). */
  fatalError: string | null = null;
  qosReportsSent = 0;
  qosErrors = 0;

  private readonly clock: Clock;
  private readonly log: (line: string) => void;
  private readonly startedMs: number;
  private stopped = false;
  private link: WsLink | null = null;
  private readonly delayQueue = new PacketQueue(256, 1 << 16);
  private delayTimer: ReturnType<typeof setTimeout> | undefined;
  private wake: (() => void) | null = null;
  private readonly aborter = new AbortController();
  private lastExtLogMs = -Infinity;
  private runDone: Promise<void> = Promise.resolve();
  private recvDone: Promise<void> = Promise.resolve();
  private backoffMs: number;
  private stopListeners: (() => void)[] = [];

  constructor(private readonly opts: ClientOptions) {
    this.clock = opts.clock ?? systemClock;
    this.log = opts.log ?? ((line) => console.error(line));
    this.startedMs = this.clock.now();
    this.backoffMs = opts.backoffInitialMs ?? 250;
    this.thresholds = resolveJitterThresholds(opts.jitterEnv ?? {}, null);
    this.playout = new JitterBuffer({
      thresholds: this.thresholds,
      storeSamples: opts.openOutput !== undefined,
    });
    this.setChannelSettings(opts.channelSettings ?? []);
    this.driver = new PlayoutDriver({
      jitter: this.playout,
      clock: this.clock,
      openOutput: opts.openOutput ?? null,
      settingsOf: (id) => this.channelSettingsById.get(id),
      master: () => this.opts.master ?? { volume: 1, limit: true },
      log: this.log,
    });
    this.rtcp = opts.rtcp
      ? new ClientRtcp(crypto.getRandomValues(new Uint32Array(1))[0], "m32-client")
      : null;
    this.receiver = new RtpReceiver({
      sink: this.playout,
      offsetMs: () => this.clockSync.offsetMs,
      nowMs: this.startedMs,
      opusDecoder: opts.opusDecoder,
      onExtension: (e) => {
        if (e.receiveMs - this.lastExtLogMs < EXT_LOG_INTERVAL_MS) return;
        this.lastExtLogMs = e.receiveMs;
        this.log(
          `[RTP] Extension sync: server=${e.captureTimeMs}, client=${Math.round(e.receiveMs)}, ` +
            `offset=${this.clockSync.offsetMs.toFixed(1)}ms, latency=${e.latencyMs.toFixed(1)}ms`,
        );
      },
    });
  }

  get udpPort(): number {
    return this.opts.udp.port;
  }

  // ---- RTCP ------------------------------------------------------------

  private async rtcpLoop(channel: RtcpChannel, rtcp: ClientRtcp): Promise<void> {
    const buf = new Uint8Array(1500);
    while (!this.stopped) {
      let n: number;
      try {
        n = await channel.receive(buf);
      } catch {
        if (this.stopped) break;
        continue; // an ICMP error reported on receive: keep listening
      }
      rtcp.onDatagram(buf.subarray(0, n), this.clock.now(), this.ack?.ssrc ?? null);
    }
  }

  /** The next receiver report in [0.5, 1.5] × RR_INTERVAL_MS (RFC 3550 §6.3.1). */
  private armReport(): void {
    if (this.stopped || !this.rtcp || !this.opts.rtcp) return;
    const random = this.opts.random ?? Math.random;
    this.rrTimer = setTimeout(() => {
      this.rrTimer = undefined;
      this.sendReport();
      this.armReport();
    }, RR_INTERVAL_MS * (0.5 + random()));
  }

  private sendReport(): void {
    const dest = this.rtcpDest;
    if (!this.rtcp || !this.opts.rtcp || !dest || !this.ack) return;
    const rr = this.rtcp.report(this.clock.now(), this.receiver);
    if (rr) this.opts.rtcp.send(rr, dest.hostname, dest.port).catch(() => {});
  }

  get stopping(): boolean {
    return this.stopped;
  }

  /** The client's channel settings changed (mix only; the stream is unchanged). */
  setChannelSettings(channels: readonly ChannelSettings[]): void {
    this.channelSettingsById = mixChannels({
      channels: [...channels],
      groups: this.opts.groups,
      master: this.opts.master ?? {},
    });
    this.driver?.remix();
  }

  /** Starts receiving and the control loop; returns at once. */
  start(): this {
    this.driver.start();
    if (this.opts.rtcp && this.rtcp) {
      this.rtcpDone = this.rtcpLoop(this.opts.rtcp, this.rtcp);
      this.armReport();
    }
    this.recvDone = this.receiveLoop();
    this.runDone = this.run();
    return this;
  }

  summary(): ClientSummary {
    return summarize(this, this.clock.now() - this.startedMs, this.opts);
  }

  /** Resolves when the client stops (by `stop()` or a fatal error). */
  whenStopped(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return new Promise((resolve) => this.stopListeners.push(resolve));
  }

  async stop(): Promise<ClientSummary> {
    this.halt();
    await Promise.all([this.runDone, this.recvDone, this.rtcpDone]);
    return this.summary();
  }

  /** Stops everything without waiting (safe from inside the loops). */
  private halt(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.aborter.abort();
    this.wake?.();
    void this.link?.close(1000, "client stopping");
    this.opts.udp.close();
    this.opts.rtcp?.close();
    if (this.rrTimer !== undefined) clearTimeout(this.rrTimer);
    this.rrTimer = undefined;
    this.driver.stop();
    this.receiver.close();
    if (this.delayTimer !== undefined) clearTimeout(this.delayTimer);
    this.delayTimer = undefined;
    for (const fn of this.stopListeners.splice(0)) fn();
  }

  // ---- UDP -------------------------------------------------------------

  private async receiveLoop(): Promise<void> {
    const buf = new Uint8Array(MAX_DATAGRAM);
    const delay = this.opts.forceDelayMs ?? 0;
    while (!this.stopped) {
      let n: number;
      try {
        n = await this.opts.udp.receive(buf);
      } catch (e) {
        if (!this.stopped) this.log(`[RTP] receive failed: ${(e as Error).message}`);
        break;
      }
      const now = this.clock.now();
      if (delay > 0) {
        this.delayQueue.push(buf, n, now + delay);
        this.armDelay();
      } else {
        this.receiver.receive(buf, n, now);
      }
    }
  }

  /** FORCE_DELAY_MS: packets are processed (and timestamped) when they fall due. */
  private armDelay(): void {
    if (this.delayTimer !== undefined || this.stopped) return;
    const due = this.delayQueue.peekTime();
    if (Number.isNaN(due)) return;
    this.delayTimer = setTimeout(() => {
      this.delayTimer = undefined;
      this.delayQueue.drain(this.clock.now(), (b, len) => {
        this.receiver.receive(b, len, this.clock.now());
      });
      this.armDelay();
    }, Math.max(0, due - this.clock.now()));
  }

  // ---- control loop ----------------------------------------------------

  private async run(): Promise<void> {
    let first = true;
    while (!this.stopped) {
      if (!first) {
        this.reconnectAttempts++;
        // Jittered: 50–100 % of the back-off, so clients of one server do not retry in step.
        const wait = Math.round(this.backoffMs * (0.5 + 0.5 * (this.opts.random ?? Math.random)()));
        this.log(`[WS] reconnecting in ${wait} ms (attempt #${this.reconnectAttempts})`);
        await this.sleep(wait);
        this.backoffMs = Math.min(this.backoffMs * 2, this.opts.backoffMaxMs ?? 5000);
        if (this.stopped) break;
      }
      first = false;
      try {
        await this.session();
      } catch (e) {
        if (!this.stopped) this.log(`[WS] session failed: ${(e as Error).message}`);
      } finally {
        this.receiver.clearStream();
        this.ack = null;
      }
      if (this.fatalError !== null && !this.stopped) {
        this.log(`[WS] giving up: ${this.fatalError}`);
        this.halt();
      }
    }
  }

  /** One session, from `/audio-meta` to the socket's close. */
  private async session(): Promise<void> {
    const meta = parseAudioMeta(await this.http("GET", "/audio-meta"));
    this.meta = meta;
    if (this.reconnects === 0 && this.thresholds.source === "default") await this.loadThresholds();
    const channels = this.chooseChannels(meta);
    const timeout = this.opts.requestTimeoutMs ?? 5000;
    const wsUrl = new URL("/ws", this.opts.server);
    wsUrl.protocol = wsUrl.protocol === "https:" ? "wss:" : "ws:";
    const link = new WsLink(
      wsUrl.href,
      (m) => this.onMessage(m, link),
      (e) => this.log(`[WS] bad frame: ${e.message}`),
    );
    this.link = link;
    const timers: ReturnType<typeof setInterval>[] = [];
    try {
      const welcome = await link.next("welcome", timeout);
      this.clientId = welcome.client_id;
      const hbMs = Math.min(
        this.opts.heartbeatIntervalMs ?? 5000,
        (welcome.heartbeat_timeout_s * 1000) / 3,
      );
      timers.push(setInterval(() => link.send(heartbeatMessage(this.clock.now())), hbMs));
      this.startClockSync(link, timers);
      const ra = parseRequestAudio(
        await this.http(
          "GET",
          `/request-audio?udp_port=${this.udpPort}&client_id=${encodeURIComponent(this.clientId)}`,
        ),
      );
      this.log(`[HTTP] request-audio ok: client_id=${ra.client_id} udp_port=${ra.udp_port}`);
      const sampleRate = Math.min(this.opts.sampleRate ?? meta.sample_rate, meta.sample_rate);
      link.send(clientConfigMessage({
        channels,
        sample_rate: sampleRate,
        compression: this.opts.compression ?? "none",
      }));
      const ack = await link.next("client_config_ack", timeout);
      this.applyAck(ack.payload);
      if (this.sessionsStarted++ > 0) this.reconnects++;
      this.backoffMs = this.opts.backoffInitialMs ?? 250;
      timers.push(setInterval(() => this.reportQos(), this.opts.qosIntervalMs ?? 5000));
      await link.closed;
      if (!this.stopped) {
        this.log(
          `[WS] session ended (code ${link.closeCode}${
            link.closeReason ? `: ${link.closeReason}` : ""
          })`,
        );
      }
    } finally {
      for (const t of timers) clearInterval(t);
      await link.close();
      this.link = null;
    }
  }

  private chooseChannels(meta: AudioMeta): ({ id: number } & Record<string, unknown>)[] {
    const mapped = new Map(meta.channels.map((c) => [c.id, c]));
    const ids = this.opts.channels ?? meta.channels.map((c) => c.id);
    const missing = ids.filter((id) => !mapped.has(id));
    if (missing.length > 0) {
      this.fatalError = `channel ${missing.join(", ")} is not mapped by the server (mapped: ${
        [...mapped.keys()].join(",")
      })`;
      throw new Error(this.fatalError);
    }
    const own = new Map((this.opts.channelSettings ?? []).map((c) => [c.id, c]));
    return ids.map((id) => {
      const m = mapped.get(id)!;
      return { ...(own.get(id) ?? defaultChannelSettings(id, m.name, m.order)) };
    });
  }

  private applyAck(a: ClientConfigAck): void {
    if (this.rtcp && this.lastAck?.ssrc !== a.ssrc) this.rtcp.restart();
    const rtcpPort = rtcpPortFromSdp(a.sdp) ??
      (this.meta ? this.meta.rtp.server_port + 1 : null);
    this.rtcpDest = rtcpPort === null
      ? null
      : { hostname: new URL(this.opts.server).hostname, port: rtcpPort };
    this.ack = a;
    this.lastAck = a;
    const opus = a.encoding === "opus";
    const clockRate = opus ? 48000 : a.sample_rate;
    const decoding = !opus || this.opts.opusDecoder !== undefined;
    // The mix runs at the rate the samples come in: Opus is decoded at the ack's sample_rate.
    this.driver.setStream(a.channels, decoding ? a.sample_rate : clockRate);
    this.receiver.setStream(streamParamsFromAck(a));
    this.log(
      `[RTP] stream ssrc=${a.ssrc} pt=${a.payload_type} ${a.encoding} ${a.channels.length} ch ` +
        `(${
          a.channels.join(",")
        }) @ ${a.sample_rate} Hz, ptime ${a.ptime_ms} ms, udp port ${this.udpPort}`,
    );
    if (opus) {
      const groups = a.channel_groups ?? [a.channels];
      this.log(
        decoding
          ? `[RTP] Opus decoded at ${a.sample_rate} Hz, ${groups.length} packet(s) per packet time ` +
            `(channel groups ${groups.map((g) => g.length).join("+")})`
          : "[RTP] no Opus decoder given: packets are counted for QoS but not decoded",
      );
    }
  }

  private onMessage(m: ServerMessage, link: WsLink): void {
    switch (m.type) {
      case "ntp_response": {
        const s = this.clockSync.add(m.t1, m.t2, m.t3, this.clock.now());
        if (s === null) this.log(`[NTP] sample discarded: round trip over 100 ms`);
        return;
      }
      case "client_config_ack":
        if (this.ack !== null) this.applyAck(m.payload); // a later ack replaces the stream
        return;
      case "error":
        this.log(`[WS] server error ${m.code}: ${m.message}`);
        if (this.ack === null && m.code === "invalid_payload") {
          this.fatalError = `server refused client_config: ${m.message}`;
          link.fail("client_config_ack", new Error(this.fatalError));
        }
        return;
      case "event": {
        const e = m.payload;
        const { type: _t, ...rest } = e;
        this.log(
          `[WS] event ${e.type}${Object.keys(rest).length ? ` ${JSON.stringify(rest)}` : ""}`,
        );
        if (isSessionEndingEvent(e.type)) {
          if (e.type === "server_shutdown") {
            this.backoffMs = Math.max(this.backoffMs, SHUTDOWN_BACKOFF_MS);
          }
          link.close(1000, `event ${e.type}`);
        }
        return;
      }
      default:
        return;
    }
  }

  private startClockSync(link: WsLink, timers: ReturnType<typeof setInterval>[]): void {
    let fast = this.opts.ntpFastCount ?? 5;
    const send = () => link.send(ntpRequestMessage(this.clock.now()));
    send();
    const fastTimer = setInterval(() => {
      send();
      if (--fast <= 1) {
        clearInterval(fastTimer);
        timers.push(setInterval(send, this.opts.ntpIntervalMs ?? 5000));
      }
    }, this.opts.ntpFastIntervalMs ?? 1000);
    timers.push(fastTimer);
  }

  /** The metrics as `/qos-metrics` wants them: counts so far, jitter now, latency and rate of the interval. */
  qosMetrics(): QosMetrics {
    const r = this.receiver;
    const interval = r.latency.takeInterval();
    return {
      packets_received: r.seq.received,
      packets_expected: r.seq.expected,
      packet_loss_rate: r.seq.lossRate,
      jitter_ms: r.jitter.jitterMs,
      latency_ms: Number.isNaN(interval) ? r.latency.meanMs : interval,
      bandwidth_mbps: r.bandwidth.take(this.clock.now()),
    };
  }

  private async reportQos(): Promise<void> {
    const m = this.qosMetrics();
    this.log(
      `[QoS] packets=${m.packets_received}/${m.packets_expected} loss=${
        (m.packet_loss_rate * 100).toFixed(2)
      }% jitter=${m.jitter_ms.toFixed(2)}ms latency=${m.latency_ms.toFixed(1)}ms bandwidth=${
        m.bandwidth_mbps.toFixed(2)
      }Mbps concealed=${this.playout.concealedPackets} dropped=${this.playout.droppedPackets} ` +
        `buffer=${this.playout.delayMs.toFixed(0)}ms`,
    );
    try {
      const ans = await this.http(
        "POST",
        "/qos-metrics",
        qosReport(this.clientId, this.clock.now(), m),
      ) as { server_metrics?: Record<string, unknown> } | null;
      if (ans && typeof ans.server_metrics === "object") this.serverMetrics = ans.server_metrics;
      this.qosReportsSent++;
    } catch (e) {
      if (this.qosErrors++ === 0 || this.qosErrors % 10 === 0) {
        this.log(`[HTTP] qos-metrics failed ${this.qosErrors}x: ${(e as Error).message}`);
      }
    }
  }

  private async loadThresholds(): Promise<void> {
    let server: JitterThresholds | null = null;
    try {
      server = parseJitterThresholds(await this.http("GET", "/jitter-thresholds"));
    } catch (e) {
      this.log(`[HTTP] jitter-thresholds unavailable (${(e as Error).message}), using defaults`);
    }
    this.thresholds = resolveJitterThresholds(this.opts.jitterEnv ?? {}, server);
    this.playout.thresholds = this.thresholds;
    this.log(
      `[RTP] jitter thresholds interpolate=${this.thresholds.interpolate}ms drop=${this.thresholds.drop}ms (${this.thresholds.source})`,
    );
  }

  /** JSON request; throws with the contract's error message on a non-2xx answer. */
  private async http(method: string, path: string, body?: unknown): Promise<unknown> {
    const ctl = new AbortController();
    const onStop = () => ctl.abort();
    this.aborter.signal.addEventListener("abort", onStop);
    const ms = this.opts.requestTimeoutMs ?? 5000;
    const timer = setTimeout(() => ctl.abort(), ms);
    try {
      const res = await fetch(new URL(path, this.opts.server), {
        method,
        signal: ctl.signal,
        headers: body === undefined ? undefined : { "content-type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      let json: unknown = null;
      try {
        json = JSON.parse(text);
      } catch {
        json = null;
      }
      if (!res.ok) {
        throw new Error(
          `${method} ${path.split("?")[0]} → ${res.status} ${
            errorMessageOf(json) ?? text.slice(0, 120)
          }`,
        );
      }
      return json;
    } catch (e) {
      if (ctl.signal.aborted && !this.stopped) {
        throw new Error(`${method} ${path.split("?")[0]} got no answer within ${ms} ms`);
      }
      throw e;
    } finally {
      clearTimeout(timer);
      this.aborter.signal.removeEventListener("abort", onStop);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.wake = null;
        resolve();
      }, ms);
      this.wake = () => {
        clearTimeout(t);
        this.wake = null;
        resolve();
      };
    });
  }
}
