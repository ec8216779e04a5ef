/**
 * Browser transports' packets from the audio plane's worker to the main
 * thread, where their WebSocket / DataChannel / WebTransport live, through a
 * ring in shared memory: the worker never waits for the main thread and
 * allocates nothing per packet; a main thread held for longer than the ring
 * holds (4096 datagrams, ≈ 90 ms of 25 browser listeners of 16 channels)
 * loses the oldest undelivered datagrams of browser listeners only, counted
 * (UDP clients are sent from the worker and never wait here).
 *
 *   control (Int32Array)  [0] write seq  [1] read seq  [2] dropped  [3] closed
 *   slot i = seq & (SLOTS-1), SLOT_BYTES each:
 *   0       2       4                                   4 + length
 *   +-------+-------+-----------------------------------+
 *   | client|length |  datagram (RTP), ≤ 1472 bytes      |
 *   | u16 LE| u16 LE|                                   |
 *   +-------+-------+-----------------------------------+
 *
 * Sequence numbers are int32 counters that wrap; `(write - read) | 0` is the
 * fill either way. The worker publishes its write seq once per period and
 * notifies; the main thread waits for it with `Atomics.waitAsync`, hands
 * each datagram to its client's own PacketSender (a ChannelSender:
 * backpressure, drops and stats stay as they were) and flushes them. A
 * sender that throws (its channel closed under it) costs only its own
 * client: it is reported once (the session layer ends that session) and
 * skipped from then on; the others get every datagram.
 */
import type { PacketSender, SenderStats, UdpDestination } from "../net/sender.ts";

export const RELAY_SLOTS = 4096;
/** The largest datagram the configuration allows (max_datagram_bytes ≤ 1472). */
export const RELAY_MAX_DATAGRAM_BYTES = 1472;
const HEADER_BYTES = 4;
const SLOT_BYTES = HEADER_BYTES + RELAY_MAX_DATAGRAM_BYTES;
const MASK = RELAY_SLOTS - 1;
const WRITE = 0;
const READ = 1;
const DROPPED = 2;
const CLOSED = 3;
const CONTROL_BYTES = 16;
export const RELAY_BYTES = CONTROL_BYTES + RELAY_SLOTS * SLOT_BYTES;
const NO_DESTINATION: UdpDestination = { hostname: "", port: 0 };

class RingView {
  readonly control: Int32Array;
  readonly slots: Uint8Array;
  readonly view: DataView;
  constructor(sab: SharedArrayBuffer) {
    this.control = new Int32Array(sab, 0, CONTROL_BYTES / 4);
    this.slots = new Uint8Array(sab, CONTROL_BYTES, RELAY_SLOTS * SLOT_BYTES);
    this.view = new DataView(sab, CONTROL_BYTES, RELAY_SLOTS * SLOT_BYTES);
  }
}

/** The worker's end: senders write into it, `publish` once per period. */
export class RelayWriter {
  private readonly ring: RingView;
  /** Each slot's datagram area, made once: a sender writes its packet straight into the ring. */
  private readonly payloads: Uint8Array[];
  private readonly spare = new Uint8Array(RELAY_MAX_DATAGRAM_BYTES);
  private write = 0;
  /** The last `slot()` was the spare: its datagram is dropped even if room appeared since. */
  private spareOut = false;

  constructor(sab: SharedArrayBuffer) {
    this.ring = new RingView(sab);
    this.payloads = Array.from(
      { length: RELAY_SLOTS },
      (_, i) => this.ring.slots.subarray(i * SLOT_BYTES + HEADER_BYTES, (i + 1) * SLOT_BYTES),
    );
  }

  private full(): boolean {
    return ((this.write - Atomics.load(this.ring.control, READ)) | 0) >= RELAY_SLOTS;
  }

  /** Where the next datagram goes (a spare buffer when the ring is full: it is dropped). */
  slot(): Uint8Array {
    this.spareOut = this.full();
    return this.spareOut ? this.spare : this.payloads[this.write & MASK];
  }

  commit(client: number, length: number): boolean {
    if (this.spareOut) {
      Atomics.add(this.ring.control, DROPPED, 1);
      return false;
    }
    const at = (this.write & MASK) * SLOT_BYTES;
    this.ring.view.setUint16(at, client, true);
    this.ring.view.setUint16(at + 2, length, true);
    this.write = (this.write + 1) | 0;
    return true;
  }

  /** Makes this period's datagrams visible to the main thread and wakes it. */
  publish(): void {
    if (Atomics.load(this.ring.control, WRITE) === this.write) return;
    Atomics.store(this.ring.control, WRITE, this.write);
    Atomics.notify(this.ring.control, WRITE);
  }
}

/** A browser client's sender inside the worker: its datagrams go into the ring. */
export class RelaySender implements PacketSender {
  readonly kind = "relay";
  readonly localPort = 0;
  readonly stats: SenderStats = { packets: 0, bytes: 0, errors: 0, lastError: "ring full" };

  constructor(
    private readonly ring: RelayWriter,
    private readonly client: number,
    readonly maxDatagramBytes: number,
  ) {
    if (maxDatagramBytes > RELAY_MAX_DATAGRAM_BYTES) {
      throw new RangeError(
        `relayed datagrams are at most ${RELAY_MAX_DATAGRAM_BYTES} bytes, got ${maxDatagramBytes}`,
      );
    }
  }

  destination(_hostname: string, _port: number): UdpDestination {
    return NO_DESTINATION;
  }

  slot(): Uint8Array {
    return this.ring.slot();
  }

  commit(length: number, _dest: UdpDestination): void {
    if (this.ring.commit(this.client, length)) {
      this.stats.packets++;
      this.stats.bytes += length;
    } else {
      this.stats.errors++;
    }
  }

  flush(): void {
    // The worker publishes the ring once the period is done.
  }

  setDscp(_dscp: number): void {}

  close(): void {}
}

/** The main thread's end: waits for published datagrams and hands them to their senders. */
export class RelayReader {
  private readonly ring: RingView;
  private readonly touched = new Set<PacketSender>();
  /** Senders that threw: skipped (their client's session is being ended). */
  private readonly failed = new WeakSet<PacketSender>();

  constructor(
    sab: SharedArrayBuffer,
    private readonly senders: ReadonlyMap<number, PacketSender>,
    /** A client's sender threw (once per sender). */
    private readonly onSenderError: (slot: number, error: unknown) => void = () => {},
  ) {
    this.ring = new RingView(sab);
  }

  /** Datagrams the worker dropped because this side fell a whole ring behind. */
  get dropped(): number {
    return Atomics.load(this.ring.control, DROPPED);
  }

  /** Delivers until `close()`. */
  async run(): Promise<void> {
    const c = this.ring.control;
    while (Atomics.load(c, CLOSED) === 0) {
      const seen = Atomics.load(c, READ);
      const w = Atomics.waitAsync(c, WRITE, seen);
      if (w.async) await w.value;
      if (Atomics.load(c, CLOSED) !== 0) return;
      this.drain();
    }
  }

  /** Delivers everything published so far. */
  drain(): void {
    const c = this.ring.control;
    const write = Atomics.load(c, WRITE);
    let read = Atomics.load(c, READ);
    const { slots, view } = this.ring;
    while (read !== write) {
      const at = (read & MASK) * SLOT_BYTES;
      const client = view.getUint16(at, true);
      const sender = this.senders.get(client);
      const len = view.getUint16(at + 2, true);
      if (sender && len <= sender.maxDatagramBytes && !this.failed.has(sender)) {
        try {
          sender.slot().set(slots.subarray(at + HEADER_BYTES, at + HEADER_BYTES + len));
          sender.commit(len, NO_DESTINATION);
          this.touched.add(sender);
        } catch (e) {
          this.fail(client, sender, e);
        }
      }
      read = (read + 1) | 0;
    }
    Atomics.store(c, READ, read);
    for (const s of this.touched) {
      try {
        s.flush();
      } catch (e) {
        for (const [client, sender] of this.senders) if (sender === s) this.fail(client, s, e);
      }
    }
    this.touched.clear();
  }

  private fail(client: number, sender: PacketSender, e: unknown): void {
    this.failed.add(sender);
    this.touched.delete(sender);
    try {
      this.onSenderError(client, e);
    } catch { /* a report that throws must not stop delivery to the others */ }
  }

  close(): void {
    Atomics.store(this.ring.control, CLOSED, 1);
    Atomics.notify(this.ring.control, WRITE);
  }
}
