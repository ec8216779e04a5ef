/**
 * A FIFO of datagram copies with a time each, in preallocated slots, runtime-neutral.
 * Used for FORCE_DELAY_MS (time = when the packet is due) and to hold packets
 * that arrive before `client_config_ack` names their SSRC (time = arrival).
 * Allocates only when it grows (capacity doubles up to `maxPackets`, a slot
 * grows for a datagram larger than it); beyond `maxPackets` packets are dropped
 * and counted.
 */

export const DEFAULT_SLOT_BYTES = 1500;

export class PacketQueue {
  /** Packets refused because the queue held `maxPackets`. */
  overflowed = 0;
  private slots: Uint8Array[] = [];
  private lengths: Int32Array;
  private times: Float64Array;
  private head = 0;
  private count = 0;

  constructor(
    initialPackets = 64,
    private readonly maxPackets = 65536,
    private readonly slotBytes = DEFAULT_SLOT_BYTES,
  ) {
    if (!(initialPackets >= 1 && maxPackets >= initialPackets)) {
      throw new RangeError(
        `queue needs 1 <= initial (${initialPackets}) <= max (${maxPackets}) packets`,
      );
    }
    for (let i = 0; i < initialPackets; i++) this.slots.push(new Uint8Array(slotBytes));
    this.lengths = new Int32Array(initialPackets);
    this.times = new Float64Array(initialPackets);
  }

  get length(): number {
    return this.count;
  }

  /** Time of the oldest packet, NaN when empty. */
  peekTime(): number {
    return this.count === 0 ? NaN : this.times[this.head];
  }

  /** Copies `data[0..length]`; false (and counted) when full. */
  push(data: Uint8Array, length: number, timeMs: number): boolean {
    if (this.count === this.slots.length && !this.grow()) {
      this.overflowed++;
      return false;
    }
    const i = (this.head + this.count) % this.slots.length;
    if (this.slots[i].length < length) this.slots[i] = new Uint8Array(length);
    this.slots[i].set(data.subarray(0, length));
    this.lengths[i] = length;
    this.times[i] = timeMs;
    this.count++;
    return true;
  }

  /**
   * Hands every packet with time <= `untilMs` to `fn`, oldest first. The buffer
   * is only valid during the call. Returns how many were handed out.
   */
  drain(untilMs: number, fn: (buf: Uint8Array, length: number, timeMs: number) => void): number {
    let n = 0;
    while (this.count > 0 && this.times[this.head] <= untilMs) {
      const i = this.head;
      this.head = (this.head + 1) % this.slots.length;
      this.count--;
      n++;
      fn(this.slots[i], this.lengths[i], this.times[i]);
    }
    return n;
  }

  clear(): void {
    this.head = 0;
    this.count = 0;
  }

  private grow(): boolean {
    const old = this.slots.length;
    if (old >= this.maxPackets) return false;
    const size = Math.min(old * 2, this.maxPackets);
    const slots: Uint8Array[] = [];
    const lengths = new Int32Array(size);
    const times = new Float64Array(size);
    for (let k = 0; k < this.count; k++) {
      const i = (this.head + k) % old;
      slots.push(this.slots[i]);
      lengths[k] = this.lengths[i];
      times[k] = this.times[i];
    }
    for (let k = 0; k < old - this.count; k++) {
      slots.push(this.slots[(this.head + this.count + k) % old]);
    }
    for (let k = old; k < size; k++) slots.push(new Uint8Array(this.slotBytes));
    this.slots = slots;
    this.lengths = lengths;
    this.times = times;
    this.head = 0;
    return true;
  }
}
