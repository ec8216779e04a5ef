/**
 * The control plane's view of the worker's engine and UDP sender
 * (./worker_plane.ts): control calls become messages; counters, the capture →
 * wire window and the lateness histogram are read from shared memory the
 * worker writes every period (./protocol.ts).
 */
import type { PacketSender, SenderStats } from "../net/sender.ts";
import {
  CAPTURE_TO_WIRE_WINDOW,
  type ClientStreamParams,
  type EngineControl,
  type StreamCounters,
} from "../session/engine.ts";
import { LatencyWindow } from "../session/latency_window.ts";
import { LatenessHistogram } from "../session/lateness.ts";
import type { PlaneSender } from "./audio_plane.ts";
import type { ReceiverReportStats } from "../session/rtcp_agent.ts";
import { GateControl } from "./slot_gate.ts";
import {
  C_CLIENTS,
  C_PERIODS,
  C_SENDER_BYTES,
  C_SENDER_ERRORS,
  C_SENDER_PACKETS,
  C_STRIDE,
  C_TOTAL_PACKETS,
  CS_BYTES,
  CS_PACKETS,
  CS_RR_AT_MS,
  CS_RR_CUMULATIVE_LOST,
  CS_RR_FRACTION_LOST,
  CS_RR_JITTER_MS,
  CS_RR_REPORTS,
  CS_RR_RTT_MS,
  MAX_CLIENT_SLOTS,
  type ToWorker,
} from "./protocol.ts";

class RemoteStream implements StreamCounters {
  private frozen: [number, number, ReceiverReportStats | null] | null = null;
  private readonly at: number;
  constructor(private readonly counters: Float64Array, readonly slot: number) {
    this.at = C_CLIENTS + C_STRIDE * slot;
  }
  get packetsSent(): number {
    return this.frozen?.[0] ?? this.counters[this.at + CS_PACKETS];
  }
  get bytesSent(): number {
    return this.frozen?.[1] ?? this.counters[this.at + CS_BYTES];
  }
  get receiverReport(): ReceiverReportStats | null {
    if (this.frozen) return this.frozen[2];
    const c = this.counters;
    const at = this.at;
    const reports = c[at + CS_RR_REPORTS];
    if (!(reports > 0)) return null;
    const rtt = c[at + CS_RR_RTT_MS];
    return {
      reports,
      fractionLost: c[at + CS_RR_FRACTION_LOST],
      cumulativeLost: c[at + CS_RR_CUMULATIVE_LOST],
      jitterMs: c[at + CS_RR_JITTER_MS],
      rttMs: Number.isNaN(rtt) ? null : rtt,
      atMs: c[at + CS_RR_AT_MS],
    };
  }
  /** Keeps the last counts once the slot is released (another client may reuse it). */
  freeze(): void {
    this.frozen = [this.packetsSent, this.bytesSent, this.receiverReport];
  }
}

export class RemoteEngine implements EngineControl {
  readonly captureToWire: LatencyWindow;
  readonly lateness: LatenessHistogram;
  /** Browser clients' senders by slot: where relayed packets go. */
  readonly relaySenders = new Map<number, PacketSender>();
  /** Browser datagrams the worker dropped because this thread fell a whole relay ring behind. */
  relayDropped: () => number = () => 0;
  private readonly clients = new Map<string, RemoteStream>();
  private readonly freeSlots = Array.from({ length: MAX_CLIENT_SLOTS }, (_, i) => i);
  private readonly gate: GateControl;
  /** Slots whose worker did not let go within the stop timeout: never reused. */
  stuckSlots = 0;

  constructor(
    private readonly counters: Float64Array,
    c2w: SharedArrayBuffer,
    lateness: SharedArrayBuffer,
    private readonly post: (m: ToWorker) => void,
    private readonly opus: boolean,
    gates: SharedArrayBuffer,
  ) {
    this.gate = new GateControl(gates);
    this.captureToWire = new LatencyWindow(CAPTURE_TO_WIRE_WINDOW, c2w);
    this.lateness = new LatenessHistogram(lateness);
  }

  get active(): boolean {
    return this.clients.size > 0;
  }
  get periods(): number {
    return this.counters[C_PERIODS];
  }
  get totalPackets(): number {
    return this.counters[C_TOTAL_PACKETS];
  }

  configure(extIntervalMs: number, maxDatagramBytes: number): void {
    this.post({ type: "configure", extIntervalMs, maxDatagramBytes });
  }

  addClient(p: ClientStreamParams): StreamCounters {
    this.removeClient(p.clientId);
    // What the engine would refuse, refused here, synchronously, as it would.
    if (p.spec.compression === "opus" && (!this.opus || !p.spec.opus)) {
      throw new Error("Opus is not available on this server");
    }
    const slot = this.freeSlots.shift();
    if (slot === undefined) throw new Error("the audio plane has no free client slot");
    if (p.sender) this.relaySenders.set(slot, p.sender);
    this.gate.pending(slot);
    this.post({
      type: "add",
      slot,
      clientId: p.clientId,
      hostname: p.hostname,
      port: p.port,
      spec: p.spec,
      ssrc: p.ssrc,
      sequence: p.sequence,
      timestampBase: p.timestampBase,
      relayMaxDatagramBytes: p.sender ? p.sender.maxDatagramBytes : null,
    });
    const stream = new RemoteStream(this.counters, slot);
    this.clients.set(p.clientId, stream);
    return stream;
  }

  /** The client streaming in `slot` now, if any. */
  clientAt(slot: number): string | undefined {
    for (const [id, stream] of this.clients) if (stream.slot === slot) return id;
    return undefined;
  }

  removeClient(clientId: string): StreamCounters | undefined {
    const stream = this.clients.get(clientId);
    if (!stream) return undefined;
    this.clients.delete(clientId);
    // Synchronous: no packet for this client after this line, and its counters are final.
    const stopped = this.gate.stop(stream.slot);
    this.post({ type: "remove", clientId });
    stream.freeze();
    this.relaySenders.delete(stream.slot);
    // Reused last: its counters are rewritten on add anyway. A slot the worker
    // still holds (stalled past the timeout) is not reused at all.
    if (stopped) this.freeSlots.push(stream.slot);
    else this.stuckSlots++;
    return stream;
  }
}

/** The worker's UDP sender as the control plane sees it: its port, and counters from shared memory. */
export class SenderView implements PlaneSender {
  localPort = 0;
  constructor(
    public kind: string,
    private readonly counters: Float64Array,
    private readonly lastError: () => string,
    readonly setDscp: (dscp: number) => void,
  ) {}

  bound(r: { localPort: number; kind: string }): void {
    this.localPort = r.localPort;
    this.kind = r.kind;
  }

  get stats(): SenderStats {
    const c = this.counters;
    return {
      packets: c[C_SENDER_PACKETS],
      bytes: c[C_SENDER_BYTES],
      errors: c[C_SENDER_ERRORS],
      lastError: this.lastError(),
    };
  }
}
