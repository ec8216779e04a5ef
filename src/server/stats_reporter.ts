/**
 * The periodic `RTP stats` line per streaming client and the `engine stats`
 * line (one structured log line each, every `intervalMs`). `report()` is the
 * whole job; `start()` only runs it on a timer.
 */
import type { Logger } from "../util/log.ts";

/** What the reporter reads of a session. */
export interface StatsSession {
  id: string;
  ip: string;
  udpPort: number | null;
  /** "udp" for RTP over UDP; a browser transport's name (websocket, datachannel, webtransport). */
  kind: string;
  ssrc: number;
  stream: { packetsSent: number; bytesSent: number } | null;
  qos: { metrics: { packet_loss_rate: number; jitter_ms: number; latency_ms: number } } | null;
}

export interface StatsDeps {
  sessions: {
    list(): readonly StatsSession[];
    get(id: string): unknown;
    readonly streamingCount: number;
  };
  engine: { readonly active: boolean; captureToWire: { percentile(p: number): number } };
  sendErrors(): number;
  cpuPercent(): number;
  log: Logger;
  intervalMs: number;
}

export class StatsReporter {
  /** packets_sent at the last report, per client (for packets per second). */
  private readonly lastPackets = new Map<string, number>();
  private timer: ReturnType<typeof setInterval> | null = null;

  constructor(private readonly deps: StatsDeps) {}

  start(): void {
    this.stop();
    this.timer = setInterval(() => this.report(), this.deps.intervalMs);
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  report(): void {
    const { sessions, engine, log, intervalMs } = this.deps;
    for (const s of sessions.list()) {
      if (!s.stream) continue;
      const prev = this.lastPackets.get(s.id) ?? 0;
      this.lastPackets.set(s.id, s.stream.packetsSent);
      const m = s.qos?.metrics;
      log.info("RTP stats", {
        client: s.id,
        // A browser listener has no UDP port of its own: its datagrams ride its transport.
        dest: s.udpPort !== null ? `${s.ip}:${s.udpPort}` : `${s.ip}/${s.kind}`,
        ssrc: s.ssrc >>> 0,
        packets_sent: s.stream.packetsSent,
        pps: Math.round(((s.stream.packetsSent - prev) * 1000) / intervalMs),
        kbytes_sent: Math.round(s.stream.bytesSent / 1024),
        loss_pct: m ? m.packet_loss_rate * 100 : undefined,
        jitter_ms: m?.jitter_ms,
        latency_ms: m?.latency_ms,
      });
    }
    for (const id of this.lastPackets.keys()) if (!sessions.get(id)) this.lastPackets.delete(id);
    if (engine.active) {
      log.info("engine stats", {
        clients: sessions.streamingCount,
        capture_to_wire_p50_ms: engine.captureToWire.percentile(50),
        capture_to_wire_p99_ms: engine.captureToWire.percentile(99),
        send_errors: this.deps.sendErrors(),
        cpu_pct: this.deps.cpuPercent(),
      });
    }
  }
}
