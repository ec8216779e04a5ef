/**
 * The audio plane: source → reblocker → engine → sender, all on one thread
 * that does nothing else (the worker in ./audio_worker.ts). The control plane
 * talks to it only by the messages of ./protocol.ts; this class is that
 * worker's logic, apart from the `postMessage` plumbing, so it can be driven
 * in-process as well.
 */
import { Aes67Output } from "../aes67/output.ts";
import { realtimeMs } from "../aes67/multicast.ts";
import { AlsaSource } from "../audio/alsa_source.ts";
import { ContinuousTimeline } from "../audio/continuous_timeline.ts";
import { Reblocker } from "../audio/reblocker.ts";
import { ResamplingConverter } from "../audio/rate_converter.ts";
import { createSource } from "../audio/source_factory.ts";
import type { Period, Source } from "../audio/source.ts";
import { createSender } from "../net/create_sender.ts";
import { closeSpareWorkers, replenishSpareWorkers } from "../system/spare_workers.ts";
import type { PacketSender } from "../net/sender.ts";
import { DenoRtcpSocket, openPortPair, rtcpCname } from "../net/rtcp_socket.ts";
import { RtcpAgent } from "../session/rtcp_agent.ts";
import { cryptoRandom } from "../util/clock.ts";
import type { ClientStream } from "../session/client_stream.ts";
import { StreamingEngine } from "../session/engine.ts";
import { OpusLayouts } from "../session/opus_layout.ts";
import type { Clock } from "../util/clock.ts";
import type { Logger } from "../util/log.ts";
import {
  C_CLIENTS,
  C_PERIODS,
  C_SENDER_BYTES,
  C_SENDER_ERRORS,
  C_SENDER_PACKETS,
  C_SOURCE_PERIODS,
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
  type FromWorker,
  type InitMessage,
  type ToWorker,
} from "./protocol.ts";
import { RelaySender, RelayWriter } from "./relay.ts";
import { GateWorker } from "./slot_gate.ts";

/** The resampler's largest input (as on the main-thread plane): 20 ms at 48 kHz and more. */
export const MAX_NATIVE_PERIOD_FRAMES = 4096;

/** Paced sending: how early a held packet may leave (timers fire on whole milliseconds). */
export const PHASE_EARLY_MS = 1;

export type Post = (msg: FromWorker, transfer?: Transferable[]) => void;

export class AudioPlaneCore {
  private sender: PacketSender | null = null;
  private rtcpSocket: DenoRtcpSocket | null = null;
  private engine: StreamingEngine | null = null;
  private readonly counters: Float64Array;
  private readonly sources = new Map<number, Source>();
  private readonly slots = new Map<string, number>();
  /** The engine's clients with their slots, rebuilt on add / remove (iterated every period). */
  private active: { stream: ClientStream; slot: number }[] = [];
  private readonly relay: RelayWriter;
  private readonly gate: GateWorker;
  private ptimeMs = 5;
  private readonly reblocker = Reblocker.packetTimes(() => this.ptimeMs, (p) => this.period(p));
  private lastErrors = 0;
  private phaseTimer: ReturnType<typeof setTimeout> | undefined;
  private sinkErrors = 0;
  /**
   * One frame timeline across the sources opened while clients stream (a
   * reopened device continues forward, as on the main plane: the capture
   * controller's own timeline only sees this plane's flow notices).
   */
  private readonly timeline = new ContinuousTimeline();
  /** The source whose first period was announced (`flowing`). */
  private flowingGen = 0;
  /** The AES67 multicast output: every source period, whether or not a client streams. */
  private readonly aes67: Aes67Output;

  constructor(
    private readonly init: InitMessage,
    private readonly post: Post,
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {
    this.counters = new Float64Array(init.counters);
    this.relay = new RelayWriter(init.relay);
    this.gate = new GateWorker(init.gates);
    this.aes67 = new Aes67Output(
      clock,
      log,
      realtimeMs,
      (status) => this.post({ type: "aes67_status", status }),
    );
  }

  /** Opens the UDP socket (in this thread: its sender is this thread's) and the engine. */
  async open(): Promise<{ localPort: number; kind: string }> {
    const i = this.init;
    const { rtp: sender, rtcp } = await openPortPair(
      i.sender.hostname,
      i.sender.port,
      (port) =>
        createSender(
          i.sender.kind,
          { ...i.sender, port },
          (reason) => this.log.warn("udp sender fallback", { reason }),
        ),
      i.sender.dscp,
      (msg, fields) => this.log.warn(msg, fields),
    );
    const opus = new OpusLayouts();
    this.sender = sender;
    this.rtcpSocket = rtcp;
    const agent = new RtcpAgent(rtcp, this.clock, cryptoRandom, rtcpCname(i.sender.hostname));
    rtcp.run((data, from) => agent.receive(data, from));
    this.engine = new StreamingEngine({
      sender,
      clock: this.clock,
      extIntervalMs: i.extIntervalMs,
      maxDatagramBytes: i.maxDatagramBytes,
      rateConverter: i.resample
        ? (from, to) => new ResamplingConverter(from, to, MAX_NATIVE_PERIOD_FRAMES)
        : undefined,
      opusLayout: i.opus ? opus.create.bind(opus) : undefined,
      latenessBuffer: i.lateness,
      captureToWireBuffer: i.captureToWire,
      rtcp: agent,
      pace: true,
      onClientError: (clientId, e) =>
        this.post({
          type: "client_error",
          clientId,
          message: e instanceof Error ? e.message : String(e),
        }),
    });
    return { localPort: sender.localPort, kind: sender.kind };
  }

  /** One control message; returns once it is done (`close` after everything is released). */
  async handle(m: ToWorker): Promise<void> {
    const engine = this.engine!;
    switch (m.type) {
      case "add": {
        const sender = m.relayMaxDatagramBytes === null
          ? undefined
          : new RelaySender(this.relay, m.slot, m.relayMaxDatagramBytes);
        this.counters.fill(0, C_CLIENTS + C_STRIDE * m.slot, C_CLIENTS + C_STRIDE * (m.slot + 1));
        try {
          const stream = engine.addClient({ ...m, sender });
          this.slots.set(m.clientId, m.slot);
          this.active = [
            ...this.active.filter((a) => a.stream.clientId !== m.clientId),
            { stream, slot: m.slot },
          ];
          this.gate.open(m.slot);
        } catch (e) {
          this.log.error("audio plane could not add a client", {
            client: m.clientId,
            error: (e as Error).message,
          });
        }
        return;
      }
      case "remove":
        engine.removeClient(m.clientId);
        this.slots.delete(m.clientId);
        this.active = this.active.filter((a) => a.stream.clientId !== m.clientId);
        return;
      case "configure":
        engine.configure(m.extIntervalMs, m.maxDatagramBytes);
        return;
      case "dscp":
        this.sender!.setDscp(m.dscp);
        try {
          this.rtcpSocket?.setDscp(m.dscp);
        } catch (e) {
          this.log.warn("rtcp socket left unmarked", { reason: (e as Error).message });
        }
        return;
      case "aes67":
        this.aes67.configure(m.plan);
        this.post({ type: "aes67_status", status: this.aes67.status });
        return;
      case "start":
        return await this.start(m.gen, m.spec, m.ptimeMs);
      case "stop": {
        const src = this.sources.get(m.gen);
        this.sources.delete(m.gen);
        await src?.stop().catch(() => {});
        // Nobody streams: the next source starts its own timeline.
        if (engine.clients.size === 0) this.timeline.restart();
        // No audio flows now: the next source's threads are started ahead of it.
        if (this.sources.size === 0) replenishSpareWorkers();
        this.post({ type: "stopped", gen: m.gen });
        return;
      }
      case "close": {
        const all = [...this.sources.values()];
        this.sources.clear();
        await Promise.all(all.map((s) => s.stop().catch(() => {})));
        closeSpareWorkers();
        this.aes67.close();
        if (this.phaseTimer !== undefined) clearTimeout(this.phaseTimer);
        this.phaseTimer = undefined;
        this.sender?.close();
        this.rtcpSocket?.close();
        this.post({ type: "closed" });
        return;
      }
      case "init":
        return;
    }
  }

  private async start(gen: number, spec: Parameters<typeof createSource>[0], ptimeMs: number) {
    this.reblocker.reset();
    this.ptimeMs = ptimeMs;
    let src: Source;
    try {
      src = createSource(spec, this.clock, (req) =>
        new AlsaSource({
          device: req.device,
          sampleRate: req.sampleRate === 44100 ? 44100 : 48000,
          framesPerPeriod: req.framesPerPeriod,
          clock: this.clock,
          logger: (level, msg, fields) => this.log[level](msg, fields),
        }), (level, msg, fields) => this.log[level](msg, fields));
      this.sources.set(gen, src);
      const format = await src.start((p) => this.sink(gen, p), {
        onFault: (e) => {
          if (this.sources.get(gen) !== src) return;
          this.sources.delete(gen);
          this.post({ type: "fault", gen, message: e.message });
        },
      });
      this.post({ type: "started", gen, format });
    } catch (e) {
      this.sources.delete(gen);
      this.post({ type: "start_failed", gen, message: (e as Error).message });
    }
  }

  /**
   * The sources' sink: periods of open `gen` are placed on the continuous
   * timeline; a throwing period is logged (once per burst) and never stops the plane.
   */
  private sink(gen: number, p: Period): void {
    this.counters[C_SOURCE_PERIODS]++;
    if (gen !== this.flowingGen) {
      this.flowingGen = gen;
      this.post({ type: "flowing", gen });
    }
    try {
      const placed = this.timeline.place(gen, p);
      if (this.aes67.active) this.aes67.push(placed);
      this.reblocker.push(placed);
    } catch (e) {
      if (this.sinkErrors++ === 0) {
        this.log.error("audio plane period failed", { error: (e as Error).message });
      }
    }
  }

  /** One packet time through the engine, then the counters and the browser transports' batch. */
  private period(p: Period): void {
    const engine = this.engine!;
    const gate = this.gate;
    const active = this.active;
    for (let i = 0; i < active.length; i++) {
      active[i].stream.gated = !gate.acquire(active[i].slot);
    }
    try {
      engine.onPeriod(p);
      this.publish(engine);
    } finally {
      // Counters written and this period's packets handed over: a waiting stop may return.
      for (let i = 0; i < active.length; i++) {
        if (!active[i].stream.gated) gate.release(active[i].slot);
      }
    }
    this.armPhase();
  }

  /** Paced sending: a timer for the period's held packets (engine `pace`). */
  private armPhase(): void {
    const due = this.engine!.nextDueMs;
    if (this.phaseTimer !== undefined || !Number.isFinite(due)) return;
    // Whole milliseconds (the runtime's timers), rounded down: a packet goes at most
    // PHASE_EARLY_MS early, never held past its time by the rounding.
    this.phaseTimer = setTimeout(this.phase, Math.max(0, Math.floor(due - this.clock.now())));
  }

  private readonly phase = (): void => {
    this.phaseTimer = undefined;
    const engine = this.engine!;
    const gate = this.gate;
    const active = this.active;
    for (let i = 0; i < active.length; i++) {
      active[i].stream.gated = !gate.acquire(active[i].slot);
    }
    try {
      engine.runDue(this.clock.now() + PHASE_EARLY_MS);
      this.publish(engine);
    } catch (e) {
      if (this.sinkErrors++ === 0) {
        this.log.error("audio plane paced send failed", { error: (e as Error).message });
      }
    } finally {
      for (let i = 0; i < active.length; i++) {
        if (!active[i].stream.gated) gate.release(active[i].slot);
      }
    }
    this.armPhase();
  };

  private publish(engine: StreamingEngine): void {
    const c = this.counters;
    c[C_PERIODS] = engine.periods;
    c[C_TOTAL_PACKETS] = engine.totalPackets;
    const st = this.sender!.stats;
    c[C_SENDER_PACKETS] = st.packets;
    c[C_SENDER_BYTES] = st.bytes;
    c[C_SENDER_ERRORS] = st.errors;
    const active = this.active;
    for (let i = 0; i < active.length; i++) {
      const { stream, slot } = active[i];
      const at = C_CLIENTS + C_STRIDE * slot;
      c[at + CS_PACKETS] = stream.packetsSent;
      c[at + CS_BYTES] = stream.bytesSent;
      const rr = stream.receiverReport;
      if (rr !== null && c[at + CS_RR_REPORTS] !== rr.reports) {
        c[at + CS_RR_FRACTION_LOST] = rr.fractionLost;
        c[at + CS_RR_CUMULATIVE_LOST] = rr.cumulativeLost;
        c[at + CS_RR_JITTER_MS] = rr.jitterMs;
        c[at + CS_RR_RTT_MS] = rr.rttMs ?? NaN;
        c[at + CS_RR_AT_MS] = rr.atMs;
        // Last: a reader that sees the new count sees the figures it counts.
        c[at + CS_RR_REPORTS] = rr.reports;
      }
    }
    this.relay.publish();
    if (st.errors !== this.lastErrors) {
      this.lastErrors = st.errors;
      this.post({ type: "sender_error", lastError: st.lastError });
    }
  }
}
