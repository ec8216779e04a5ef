/**
 * The page's receive path: the shared receiver (src/client/receiver.ts, the
 * same RTP parse, statistics, PCM decode and Opus channel-group assembly as
 * the Deno client) with the wasm Opus decoder (./opus_wasm.ts). Used on the
 * main thread (WebSocket, DataChannel) and in the audio worker (WebTransport).
 *
 *   one RTP packet (a WebSocket binary frame, a DataChannel message or a
 *   WebTransport datagram: exactly the UDP datagram)
 *     → RtpReceiver.receive → PacketSink (the jitter buffer, or the worklet's port)
 *
 * An ack names the stream: the receiver holds packets (from then on) while the
 * stream's Opus decoders instantiate, then replays them with their arrival
 * times, so a new stream loses nothing to the wasm start-up.
 */
import type { ClientConfigAck } from "../../src/client/messages.ts";
import { groupCounts } from "../../src/client/opus.ts";
import type { PacketSink } from "../../src/client/playout.ts";
import { RtpReceiver, streamParamsFromAck } from "../../src/client/receiver.ts";
import { WasmOpusDecoders } from "./opus_wasm.ts";

/** The receive statistics as the page shows and reports them (also what the audio worker posts). */
export interface ReceiveStats {
  received: number;
  expected: number;
  lossRate: number;
  jitterMs: number;
  /** Network latency of the newest packet (contract §8), ms. */
  latencyMs: number;
  /** Packets that could not be parsed or decoded. */
  decodeErrors: number;
  totalBytes: number;
  /** Opus group packets concealed by their decoder (lost, or late). */
  concealedGroups: number;
  /** Opus group packets that came after their packet time was played (dropped). */
  lateGroups: number;
  /** Opus group packets held until the packet time before them came (decoded in order). */
  heldGroups: number;
}

export class PageReceiver {
  readonly rtp: RtpReceiver;
  private readonly decoders = new WasmOpusDecoders();
  private generation = 0;

  constructor(sink: PacketSink, nowMs: number, offsetMs: () => number) {
    this.rtp = new RtpReceiver({
      sink,
      offsetMs,
      nowMs,
      opusDecoder: this.decoders.factory,
    });
  }

  /** Capture time (server clock, ms) of the end of the newest audio handed on. */
  get newestCaptureEndMs(): number {
    return this.rtp.newestCaptureEndMs;
  }

  /** A new stream (a `client_config_ack`); totals stay. */
  async configure(ack: ClientConfigAck): Promise<void> {
    const gen = ++this.generation;
    const params = streamParamsFromAck(ack);
    if (params.encoding === "opus") {
      this.rtp.clearStream(); // hold packets until the decoders run
      const rate = params.sampleRate ?? params.clockRate;
      await this.decoders.prepare(groupCounts(params.channels, params.channelGroups), rate);
      if (gen !== this.generation) return;
    }
    this.rtp.setStream(params);
  }

  /** One RTP packet as received, at `arrivalMs` (wall clock). */
  onPacket(bytes: Uint8Array, arrivalMs: number): void {
    this.rtp.receive(bytes, bytes.length, arrivalMs);
  }

  stats(): ReceiveStats {
    const r = this.rtp;
    return {
      received: r.seq.received,
      expected: r.seq.expected,
      lossRate: r.seq.lossRate,
      jitterMs: r.jitter.jitterMs,
      latencyMs: r.latency.lastMs,
      decodeErrors: r.decodeErrors + r.malformed,
      totalBytes: r.bandwidth.totalBytes,
      concealedGroups: r.opus.concealedGroups,
      lateGroups: r.opus.lateGroups,
      heldGroups: r.opus.heldGroups,
    };
  }

  close(): void {
    this.generation++;
    this.rtp.close();
    this.decoders.close();
  }
}
