/**
 * A protocol-level listener: the listener page's own connection and receive
 * code run headless in Deno, without a browser or audio output.
 *
 *   ListenerConnection (web/listener/connection.ts: /audio-meta, /listen,
 *     welcome, client_config, heartbeats, clock sync, liveness, reconnects)
 *     ├─ websocket     Deno's WebSocket (binary frames)
 *     ├─ datachannel   werift as the RTCPeerConnection (the page's own offer)
 *     └─ webtransport  Deno's WebTransport (needs --unstable-net)
 *   → PageReceiver (web/listener/page_receiver.ts: the shared RTP receiver,
 *     the wasm Opus decoders) → JitterBuffer → PlayoutDriver without an output
 *     (it reads the buffer on the listener's clock, so concealments count as on
 *     the page; no samples are mixed)
 *
 * Each listener asks for its own mix (channels, rate, compression). Latency is
 * measured as the UDP reference client measures it: RTP capture time (header
 * extension, clock-synced) → receive, per packet, into a histogram.
 */
import { RTCPeerConnection as WeriftPeerConnection } from "werift";
import {
  ackEverySecondPacket,
  openRecordsDirectly,
  sealRecordsDirectly,
  type WeriftSctp,
} from "../listener/sctp_tuning.ts";

import {
  type ListenerAck,
  ListenerConnection,
  type ListenerPlatform,
  type TransportKind,
} from "../../web/listener/connection.ts";
import { PageReceiver } from "../../web/listener/page_receiver.ts";
import type { ClientConfigPayload, Compression } from "../client/messages.ts";
import {
  DEFAULT_JITTER_THRESHOLDS,
  type JitterThresholds,
  parseJitterThresholds,
  qosReport,
} from "../client/api.ts";
import { JitterBuffer } from "../client/jitter_buffer.ts";
import { PlayoutDriver } from "../client/playout_driver.ts";
import { LatenessHistogram } from "../session/lateness.ts";
import { systemClock } from "../util/clock.ts";

/** What one listener asks the server for. */
export interface ListenerMix {
  /** Channel ids (those the server does not map are left out); empty = all mapped. */
  channels: number[];
  compression: Compression;
  sampleRate: number;
}

/** Opus listeners' channel counts, in turn. */
const OPUS_SIZES = [8, 16, 6, 12, 4, 10, 16, 3];
/** PCM listeners' channel counts, in turn. */
const PCM_SIZES = [4, 2, 6, 3, 8];
const MIX_RATES = [48000, 48000, 44100, 48000, 24000, 48000, 32000, 48000];

/**
 * Listener `i`'s mix among the `mapped` channel ids, deterministic so a run
 * repeats: a run of channels starting at a different place for each
 * listener; Opus (the page's default on Wi-Fi) with 3–16 channels for three
 * listeners in four, PCM with 2–8 channels (a musician on a good network who
 * wants no codec delay and listens to a few channels) for every fourth; some
 * at a lower rate.
 */
export function listenerMix(i: number, mapped: readonly number[]): ListenerMix {
  const pcm = i % 4 === 1;
  const sizes = pcm ? PCM_SIZES : OPUS_SIZES;
  const n = Math.min(sizes[Math.floor(i / (pcm ? 4 : 1)) % sizes.length], mapped.length);
  const start = (i * 5 + Math.floor(i / mapped.length)) % mapped.length;
  const channels = Array.from({ length: n }, (_, k) => mapped[(start + k) % mapped.length]);
  return {
    channels: channels.sort((a, b) => a - b),
    compression: pcm ? "none" : "opus",
    sampleRate: MIX_RATES[(i + Math.floor(i / MIX_RATES.length)) % MIX_RATES.length],
  };
}

/** The packet time the server streams at (5 ms: 240 frames at 48 kHz). */
const PERIODS_PER_S = 200;
/** About the RTP payload of a DataChannel or WebSocket datagram (src/listener/webrtc_peer.ts). */
const PAYLOAD_BYTES = 1100;

/**
 * About the packets a second the server sends a listener with `mix`, to spread
 * listeners over the load test's threads by the work they bring: an Opus
 * listener gets one packet per packet time whatever its channel count, a
 * PCM one its 24-bit samples cut into datagrams (8 channels at 48 kHz: six
 * packets a packet time).
 */
export function mixPacketRate(mix: ListenerMix): number {
  if (mix.compression === "opus") return PERIODS_PER_S;
  const channels = mix.channels.length || 16;
  const bytes = channels * (mix.sampleRate / PERIODS_PER_S) * 3;
  return PERIODS_PER_S * Math.ceil(bytes / PAYLOAD_BYTES);
}

/** The runtime the page's connection gets here: werift for WebRTC, Deno's WebTransport. */
export const DENO_PLATFORM: ListenerPlatform = {
  peerConnection: () => {
    const pc = new WeriftPeerConnection({ iceServers: [], iceUseIpv6: false });
    // Acknowledge like the page's Chrome (every second packet), not every packet, open the
    // server's records off the socket and seal the SACKs with one long-lived cipher
    // (src/listener/sctp_tuning.ts): twenty listeners share two threads of a 2-core box with
    // the server, and a thread that falls behind loses datagrams at its sockets. (A larger socket receive buffer was tried:
    // a thread that falls behind then plays seconds-old packets instead of losing them.)
    pc.connectionStateChange.subscribe((state) => {
      const sctp = (pc.sctpTransport as unknown as { sctp?: WeriftSctp } | undefined)?.sctp;
      if (state !== "connected" || !sctp) return;
      ackEverySecondPacket(sctp);
      openRecordsDirectly(sctp);
      sealRecordsDirectly(sctp);
    });
    return pc as unknown as RTCPeerConnection;
  },
  webTransport: () => typeof WebTransport !== "undefined",
};

/** Counters of one listener at one moment (windows are differences of two). */
export interface ListenerSnapshot {
  received: number;
  expected: number;
  /** Missing packets the jitter buffer concealed. */
  concealedPackets: number;
  /** Opus group packets the decoder concealed (lost or late). */
  concealedGroups: number;
  /** Packets that came too late to be played. */
  droppedPackets: number;
  decodeErrors: number;
  reconnects: number;
  streaming: boolean;
  /** Latency samples so far and their sum (ms). */
  latCount: number;
  latSum: number;
}

const QOS_INTERVAL_MS = 5000;

export class HeadlessListener {
  readonly conn: ListenerConnection;
  readonly jb: JitterBuffer;
  readonly driver: PlayoutDriver;
  readonly receiver: PageReceiver;
  /** Capture → receive latency of every packet since the last `latency.reset()`, ms. */
  readonly latency = new LatenessHistogram();
  ack: ListenerAck | null = null;
  /** The connection's last state and why (for a listener that does not stream). */
  lastState = "idle";
  private latCount = 0;
  private latSum = 0;
  private qosTimer: ReturnType<typeof setInterval> | undefined;
  private thresholds: JitterThresholds = { ...DEFAULT_JITTER_THRESHOLDS };

  constructor(
    readonly base: string,
    readonly transport: TransportKind,
    readonly mix: ListenerMix,
  ) {
    const now = () => systemClock.now();
    this.jb = new JitterBuffer({ thresholds: this.thresholds, storeSamples: false });
    this.driver = new PlayoutDriver({ jitter: this.jb, clock: systemClock, openOutput: null });
    this.receiver = new PageReceiver(this.jb, now(), () => this.conn.clock.offsetMs);
    this.conn = new ListenerConnection(
      new URL(base),
      transport,
      {
        prepare: () => this.prepare(),
        onState: (st, detail) => (this.lastState = detail ? `${st}: ${detail}` : st),
        onWelcome: () => {},
        onAck: (ack) => {
          this.ack = ack;
          void this.receiver.configure(ack);
          this.driver.setStream(ack.channels, ack.sample_rate);
        },
        onPacket: (bytes, at) => this.onPacket(bytes, at),
        onEvent: () => {},
      },
      now,
      DENO_PLATFORM,
    );
  }

  start(): this {
    this.driver.start();
    this.conn.start();
    this.qosTimer = setInterval(() => void this.reportQos(), QOS_INTERVAL_MS);
    return this;
  }

  get streaming(): boolean {
    return this.conn.state === "streaming";
  }

  snapshot(): ListenerSnapshot {
    const st = this.receiver.stats();
    return {
      received: st.received,
      expected: st.expected,
      concealedPackets: this.jb.concealedPackets,
      concealedGroups: st.concealedGroups,
      droppedPackets: this.jb.droppedPackets,
      decodeErrors: st.decodeErrors,
      reconnects: this.conn.reconnects,
      streaming: this.streaming,
      latCount: this.latCount,
      latSum: this.latSum,
    };
  }

  stop(): void {
    clearInterval(this.qosTimer);
    this.conn.stop();
    this.driver.stop();
    this.receiver.close();
  }

  private onPacket(bytes: Uint8Array, arrivalMs: number): void {
    const lat = this.receiver.rtp.latency;
    const before = lat.count;
    this.receiver.onPacket(bytes, arrivalMs);
    if (lat.count > before && Number.isFinite(lat.lastMs)) {
      this.latency.add(lat.lastMs);
      this.latCount++;
      this.latSum += lat.lastMs;
    }
  }

  /** As the page does: the channel list, the thresholds, and this listener's mix. */
  private async prepare(): Promise<ClientConfigPayload> {
    const [meta, jitter] = await Promise.all([
      fetch(new URL("/audio-meta", this.base)).then(async (r) => {
        if (!r.ok) {
          await r.body?.cancel();
          throw new Error(`/audio-meta answered ${r.status}`);
        }
        return r.json();
      }),
      fetch(new URL("/jitter-thresholds", this.base)).then((r) => r.json()).catch(() => null),
    ]);
    if (jitter) {
      try {
        this.thresholds = parseJitterThresholds(jitter);
        this.jb.thresholds = this.thresholds;
      } catch { /* keep the defaults */ }
    }
    const mapped = new Set((meta.channels as { id: number }[]).map((c) => c.id));
    const ids = this.mix.channels.filter((id) => mapped.has(id));
    const compression = this.mix.compression === "opus" &&
        Array.isArray(meta.compressions) && meta.compressions.includes("opus")
      ? "opus"
      : "none";
    return {
      channels: ids.map((id) => ({ id })),
      sample_rate: Math.min(this.mix.sampleRate, Number(meta.sample_rate) || 48000),
      compression,
    };
  }

  private async reportQos(): Promise<void> {
    if (!this.conn.clientId || !this.streaming) return;
    const st = this.receiver.stats();
    const body = qosReport(this.conn.clientId, systemClock.now(), {
      packets_received: st.received,
      packets_expected: st.expected,
      packet_loss_rate: st.lossRate,
      jitter_ms: st.jitterMs,
      latency_ms: st.latencyMs,
      bandwidth_mbps: this.receiver.rtp.bandwidth.take(systemClock.now()),
    });
    try {
      const r = await fetch(new URL("/qos-metrics", this.base), {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
      await r.body?.cancel();
    } catch { /* the connection handles outages */ }
  }
}
