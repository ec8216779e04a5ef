/**
 * Browser transports' packets from the audio plane's worker to the main
 * thread, where their WebSocket / DataChannel / WebTransport live. In the
 * worker each such client sends through a `RelaySender`, which appends its
 * datagrams to the period's `RelayBatch`; after the period the batch's buffer
 * is transferred to the main thread in one message, and `dispatchRelay`
 * hands each datagram to the client's real PacketSender there (its
 * ChannelSender: backpressure, drops and stats stay as they were).
 *
 *   batch buffer, records back to back:
 *   0       2       4                      4 + length
 *   +-------+-------+----------------------+
 *   | slot  |length |  datagram (RTP)      |  … next record
 *   | u16 BE| u16 BE|                      |
 *   +-------+-------+----------------------+
 */
import type { PacketSender, SenderStats, UdpDestination } from "../net/sender.ts";

const RECORD_HEADER_BYTES = 4;
const INITIAL_BATCH_BYTES = 64 * 1024;
const NO_DESTINATION: UdpDestination = { hostname: "", port: 0 };

/** One period's relayed datagrams (worker side). */
export class RelayBatch {
  private buf = new Uint8Array(INITIAL_BATCH_BYTES);
  private view = new DataView(this.buf.buffer);
  length = 0;

  append(slot: number, bytes: Uint8Array, length: number): void {
    const need = this.length + RECORD_HEADER_BYTES + length;
    if (need > this.buf.length) this.grow(need);
    this.view.setUint16(this.length, slot);
    this.view.setUint16(this.length + 2, length);
    this.buf.set(bytes.subarray(0, length), this.length + RECORD_HEADER_BYTES);
    this.length = need;
  }

  /** The filled buffer (to transfer) and its length; a fresh buffer takes its place. */
  take(): { buffer: ArrayBuffer; length: number } | null {
    if (this.length === 0) return null;
    const out = { buffer: this.buf.buffer as ArrayBuffer, length: this.length };
    this.buf = new Uint8Array(this.buf.length);
    this.view = new DataView(this.buf.buffer);
    this.length = 0;
    return out;
  }

  private grow(need: number): void {
    const next = new Uint8Array(Math.max(need, this.buf.length * 2));
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }
}

/** A browser client's sender inside the worker: its datagrams go into the period's batch. */
export class RelaySender implements PacketSender {
  readonly kind = "relay";
  readonly localPort = 0;
  readonly stats: SenderStats = { packets: 0, bytes: 0, errors: 0, lastError: "" };
  private readonly scratch: Uint8Array;

  constructor(
    private readonly batch: RelayBatch,
    private readonly clientSlot: number,
    readonly maxDatagramBytes: number,
  ) {
    this.scratch = new Uint8Array(maxDatagramBytes);
  }

  destination(_hostname: string, _port: number): UdpDestination {
    return NO_DESTINATION;
  }

  slot(): Uint8Array {
    return this.scratch;
  }

  commit(length: number, _dest: UdpDestination): void {
    this.batch.append(this.clientSlot, this.scratch, length);
    this.stats.packets++;
    this.stats.bytes += length;
  }

  flush(): void {
    // The worker posts the whole batch once the period is done.
  }

  setDscp(_dscp: number): void {}

  close(): void {}
}

/** Main side: hands each relayed datagram to its client's sender, then flushes those senders. */
export function dispatchRelay(
  buffer: ArrayBuffer,
  length: number,
  senders: ReadonlyMap<number, PacketSender>,
): void {
  const bytes = new Uint8Array(buffer, 0, length);
  const view = new DataView(buffer, 0, length);
  const touched = new Set<PacketSender>();
  for (let at = 0; at + RECORD_HEADER_BYTES <= length;) {
    const slot = view.getUint16(at);
    const len = view.getUint16(at + 2);
    at += RECORD_HEADER_BYTES;
    const sender = senders.get(slot);
    if (sender && len <= sender.maxDatagramBytes) {
      sender.slot().set(bytes.subarray(at, at + len));
      sender.commit(len, NO_DESTINATION);
      touched.add(sender);
    }
    at += len;
  }
  for (const s of touched) s.flush();
}
