/**
 * A PacketSender for one browser listener (src/net/sender.ts): the engine
 * writes each RTP datagram into `slot()`, `commit()` queues it, and
 * `flush()` (once per period) hands the queue to the browser's channel — a
 * binary WebSocket (one RTP packet per binary frame) or an unreliable,
 * unordered DataChannel (one RTP packet per message). The bytes are exactly
 * what the UDP path would send:
 *
 *   WebSocket binary frame / DataChannel message
 *   +----------------------------------------------------------+
 *   | RTP header (12 B) | [0xBEDE ext, 16 B] | payload (PT 96/97) |
 *   +----------------------------------------------------------+
 *
 * The channel keeps what it is given until the packet is on the wire (an SCTP
 * chunk until it is acknowledged or abandoned), so no packet's bytes may be
 * written twice. Slots are carved one after another out of a slab (SLAB_BYTES)
 * that is never rewound: a committed packet is a view of the slab, and a full
 * slab is left to the garbage collector once the channel lets go of its
 * packets. A copy per packet (`slice`, a new ArrayBuffer each) was 2.8 % of a
 * core at 20 DataChannel listeners, profiled.
 *
 * A channel that cannot keep up (its `bufferedAmount` is over the limit) loses
 * whole packets rather than growing memory or latency: the jitter buffer on
 * the page conceals them like UDP loss, and `stats.dropped` counts them. The
 * limit is the stream's own MAX_BACKLOG_MS (its byte rate measured over each
 * second, at least MIN_BUFFERED_BYTES), never above `maxBufferedBytes`: a
 * DataChannel whose SCTP falls behind (werift retransmits even with
 * maxRetransmits 0, and holds what its congestion window does not let out)
 * would otherwise hold seconds of a low-rate Opus stream before the byte
 * limit is reached, and the phone would play that far behind.
 */
import type { PacketSender, SenderStats, UdpDestination } from "../net/sender.ts";

/** What a browser transport offers the sender. */
export interface PacketChannel {
  /** Sends one message; the sender never reuses `bytes` after the call. */
  send(bytes: Uint8Array): void;
  /** Bytes queued in the transport and not yet on the wire. */
  readonly bufferedAmount: number;
  /** False once the transport is closing or closed (packets are dropped). */
  readonly open: boolean;
}

export interface ChannelSenderStats extends SenderStats {
  /** Packets dropped because the channel was backed up or closed. */
  dropped: number;
}

/** 100 ms of 32 PCM channels at L24/48 kHz is ~460 KiB; a phone falling that far behind loses packets. */
export const DEFAULT_MAX_BUFFERED_BYTES = 256 * 1024;
/** Packets queued between flushes before the oldest are dropped (a period rarely has more than 40). */
export const MAX_QUEUED_PACKETS = 256;
/**
 * The most of its stream a channel may hold back: later than this the page's
 * jitter buffer (200 ms drop threshold by default) would mostly drop it as late.
 */
export const MAX_BACKLOG_MS = 250;
/** The limit's floor: a low-rate stream's backlog limit still holds a burst of packets. */
export const MIN_BUFFERED_BYTES = 16 * 1024;
/** The slab the slots are carved from (a period of a 32-channel PCM stream is ~5 KiB). */
export const SLAB_BYTES = 64 * 1024;
/** How often the stream's byte rate is measured. */
const RATE_WINDOW_MS = 1000;

const NO_DESTINATION: UdpDestination = { hostname: "", port: 0 };

export class ChannelSender implements PacketSender {
  readonly localPort = 0;
  readonly stats: ChannelSenderStats = {
    packets: 0,
    bytes: 0,
    errors: 0,
    lastError: "",
    dropped: 0,
  };
  private slab: Uint8Array;
  /** Where the next slot starts in the slab. */
  private slabUsed = 0;
  /** The current slot: `slab[slabUsed, slabUsed + maxDatagramBytes)`. */
  private buf: Uint8Array;
  private readonly queue: Uint8Array[] = [];
  /** The backlog limit now (bytes): `maxBufferedBytes` until the stream's rate is known. */
  private limit: number;
  private rateStartMs = NaN;
  private rateBytes = 0;

  constructor(
    /** "websocket" or "datachannel". */
    readonly kind: string,
    private readonly channel: PacketChannel,
    readonly maxDatagramBytes: number,
    private readonly maxBufferedBytes = DEFAULT_MAX_BUFFERED_BYTES,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.slab = new Uint8Array(Math.max(SLAB_BYTES, maxDatagramBytes));
    this.buf = this.slab.subarray(0, maxDatagramBytes);
    this.limit = maxBufferedBytes;
  }

  /** The most bytes the channel may hold before packets are dropped (see the header). */
  get backlogLimit(): number {
    return this.limit;
  }

  destination(_hostname: string, _port: number): UdpDestination {
    return NO_DESTINATION; // the channel is the destination
  }

  slot(): Uint8Array {
    return this.buf;
  }

  commit(length: number, _dest: UdpDestination): void {
    if (length > this.buf.length) {
      throw new RangeError(`datagram of ${length} bytes exceeds the ${this.buf.length}-byte slot`);
    }
    if (this.queue.length >= MAX_QUEUED_PACKETS) {
      this.queue.shift();
      this.stats.dropped++;
    }
    // The transport keeps the bytes until they are on the wire: the packet is
    // the slot's first `length` bytes, and the next slot starts after them.
    const at = this.slabUsed;
    this.queue.push(this.slab.subarray(at, at + length));
    this.rateBytes += length;
    this.nextSlot(at + length);
  }

  /** Moves the slot to `from`, or to a new slab when a whole slot no longer fits. */
  private nextSlot(from: number): void {
    if (from + this.maxDatagramBytes > this.slab.length) {
      this.slab = new Uint8Array(this.slab.length);
      from = 0;
    }
    this.slabUsed = from;
    this.buf = this.slab.subarray(from, from + this.maxDatagramBytes);
  }

  flush(): void {
    const q = this.queue;
    if (q.length === 0) return;
    const now = this.now();
    if (Number.isNaN(this.rateStartMs)) {
      this.rateStartMs = now;
      this.rateBytes = 0; // what came before is the backlog of no known span
    } else if (now - this.rateStartMs >= RATE_WINDOW_MS) {
      const perMs = this.rateBytes / (now - this.rateStartMs);
      this.limit = Math.min(
        this.maxBufferedBytes,
        Math.max(MIN_BUFFERED_BYTES, Math.round(perMs * MAX_BACKLOG_MS)),
      );
      this.rateStartMs = now;
      this.rateBytes = 0;
    }
    for (let i = 0; i < q.length; i++) {
      const p = q[i];
      if (!this.channel.open || this.channel.bufferedAmount > this.limit) {
        this.stats.dropped++;
        continue;
      }
      try {
        this.channel.send(p);
        this.stats.packets++;
        this.stats.bytes += p.length;
      } catch (e) {
        this.stats.errors++;
        this.stats.lastError = (e as Error).message;
      }
    }
    q.length = 0;
  }

  setDscp(_dscp: number): void {
    // TCP/SCTP transports: DSCP marking is the UDP path's (the browser's socket is not ours).
  }

  close(): void {
    this.queue.length = 0;
  }
}
