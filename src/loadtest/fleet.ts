/**
 * Many reference clients in one process, each on its own UDP port, optionally
 * behind its own impairment relay (src/net/impairment_relay.ts: the server
 * sends to the relay, the relay to the client), with per-client
 * FORCE_DELAY_MS. Snapshots of their counters make per-window figures.
 */

import { ReferenceClient } from "../client/session.ts";
import { openUdpSource } from "../client/udp_source.ts";
import type { DatagramSource } from "../client/session.ts";
import type { ImpairmentModel } from "../net/impairment.ts";
import { UdpImpairmentRelay } from "../net/impairment_relay.ts";

export interface LoadClientOptions {
  server: string;
  channels?: number[];
  forceDelayMs?: number;
  /** This client's own impairment (a model per client: models hold state). */
  impairment?: ImpairmentModel;
  qosIntervalMs?: number;
  log?: (line: string) => void;
}

export interface Snapshot {
  received: number;
  expected: number;
  concealed: number;
  dropped: number;
  latCount: number;
  latSum: number;
  jitterMs: number;
  reconnects: number;
  streaming: boolean;
  sampleRate: number | null;
  relayReceived: number;
  relayDropped: number;
  relayInSpike: number;
  relayForwarded: number;
  /** Datagrams the relay lost itself (no slot, oversize, send error), not the model's. */
  relayOwnLoss: number;
}

export class LoadClient {
  readonly client: ReferenceClient;
  relay: UdpImpairmentRelay | null = null;

  constructor(readonly opts: LoadClientOptions) {
    const real = openUdpSource(0, "127.0.0.1");
    let udp: DatagramSource = real;
    if (opts.impairment) {
      const relay = new UdpImpairmentRelay({
        target: { transport: "udp", hostname: "127.0.0.1", port: real.port },
        model: opts.impairment,
        impaired: "to-target",
      });
      this.relay = relay;
      udp = { port: relay.port, receive: (b) => real.receive(b), close: () => real.close() };
    }
    this.client = new ReferenceClient({
      server: opts.server,
      udp,
      channels: opts.channels,
      forceDelayMs: opts.forceDelayMs,
      // The reference client's own interval: the whole fleet shares one address, and the
      // server takes at most 10 reports a second from an address (contract §3).
      qosIntervalMs: opts.qosIntervalMs ?? 5000,
      log: opts.log ?? (() => {}),
      backoffInitialMs: 250,
      backoffMaxMs: 5000,
    }).start();
  }

  snapshot(): Snapshot {
    const r = this.client.receiver;
    const lat = r.latency;
    return {
      received: r.seq.received,
      expected: r.seq.expected,
      concealed: this.client.playout.concealedPackets,
      dropped: this.client.playout.droppedPackets,
      latCount: lat.count,
      latSum: lat.count > 0 ? lat.meanMs * lat.count : 0,
      jitterMs: r.jitter.jitterMs,
      reconnects: this.client.reconnects,
      streaming: this.client.ack !== null,
      sampleRate: this.client.lastAck?.sample_rate ?? null,
      relayReceived: this.relay?.link.stats.received ?? 0,
      relayDropped: this.relay?.link.stats.dropped ?? 0,
      relayInSpike: this.relay?.link.stats.inSpike ?? 0,
      relayForwarded: this.relay?.link.stats.forwarded ?? 0,
      relayOwnLoss: this.relay
        ? this.relay.link.stats.overflow + this.relay.link.stats.oversize +
          this.relay.link.stats.sendErrors
        : 0,
    };
  }

  async stop(): Promise<void> {
    await this.client.stop();
    await this.relay?.close();
  }
}

export interface WindowFigures {
  clients: number;
  streaming: number;
  packets_expected: number;
  packets_received: number;
  loss_pct: number;
  jitter_ms_mean: number;
  jitter_ms_max: number;
  latency_ms_mean: number | null;
  latency_ms_max: number | null;
  concealed_packets: number;
  dropped_packets: number;
  reconnects: number;
  /** Sample rates the clients streamed at the window's end (the server may adapt, contract §7). */
  sample_rates: number[];
  /**
   * The clients' impairment relays in the window (0 without relays): datagrams in, dropped by
   * the model, in a spike, sent on, lost by the relay itself. Expected − relay_received is lost
   * before the relays (server, relay sockets); relay_forwarded − received after them (client
   * sockets).
   */
  relay_received: number;
  relay_dropped: number;
  relay_in_spike: number;
  relay_forwarded: number;
  relay_own_loss: number;
}

const r3 = (x: number) => Math.round(x * 1000) / 1000;

/** Figures of the window between two snapshots of the same clients. */
export function windowFigures(before: Snapshot[], after: Snapshot[]): WindowFigures {
  let exp = 0, rec = 0, conc = 0, drop = 0, rc = 0, rr = 0, rd = 0, rs = 0, rf = 0, ro = 0;
  const jit: number[] = [], lat: number[] = [];
  for (let i = 0; i < after.length; i++) {
    const a = before[i], b = after[i];
    exp += b.expected - a.expected;
    rec += b.received - a.received;
    conc += b.concealed - a.concealed;
    drop += b.dropped - a.dropped;
    rc += b.reconnects - a.reconnects;
    rr += b.relayReceived - a.relayReceived;
    rd += b.relayDropped - a.relayDropped;
    rs += b.relayInSpike - a.relayInSpike;
    rf += b.relayForwarded - a.relayForwarded;
    ro += b.relayOwnLoss - a.relayOwnLoss;
    jit.push(b.jitterMs);
    if (b.latCount > a.latCount) lat.push((b.latSum - a.latSum) / (b.latCount - a.latCount));
  }
  const mean = (v: number[]) => v.reduce((s, x) => s + x, 0) / v.length;
  return {
    clients: after.length,
    streaming: after.filter((s) => s.streaming).length,
    packets_expected: exp,
    packets_received: rec,
    loss_pct: exp > 0 ? r3((Math.max(0, exp - rec) / exp) * 100) : (after.length > 0 ? 100 : 0),
    jitter_ms_mean: jit.length ? r3(mean(jit)) : 0,
    jitter_ms_max: jit.length ? r3(Math.max(...jit)) : 0,
    latency_ms_mean: lat.length ? r3(mean(lat)) : null,
    latency_ms_max: lat.length ? r3(Math.max(...lat)) : null,
    concealed_packets: conc,
    dropped_packets: drop,
    reconnects: rc,
    sample_rates: [
      ...new Set(after.map((s) => s.sampleRate).filter((r) => r !== null)),
    ] as number[],
    relay_received: rr,
    relay_dropped: rd,
    relay_in_spike: rs,
    relay_forwarded: rf,
    relay_own_loss: ro,
  };
}
