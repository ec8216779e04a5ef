/**
 * The relay's held datagrams: a fixed pool of buffers (allocated once) and a
 * binary min-heap of slot numbers ordered by due time, ties in arrival order.
 * A datagram is copied into a free slot on `push`; `peekDue`/`pop` give the
 * earliest one; the caller sends it from `data(slot)` and calls `release(slot)`
 * once the send no longer reads the buffer. Nothing is allocated per datagram
 * but the `data(slot)` view.
 *
 *   slots   [buf 0][buf 1][buf 2] … [buf capacity−1]   each maxBytes long
 *   free    stack of slot numbers not in use
 *   heap    slot numbers, heap[0] = the earliest (due, arrival)
 */

/** ≥ 1000 datagrams/s held up to ~330 ms (crowded: a 250 ms spike over 60 ms of jitter). */
export const DEFAULT_QUEUE_CAPACITY = 1024;
/**
 * A slot's size: RTP datagrams stay under 1400 bytes (the server's MTU split),
 * QUIC and DTLS under the path MTU; 1024 slots of 2 KiB are 2 MiB per relay.
 */
export const DEFAULT_SLOT_BYTES = 2048;

export class DelayQueue {
  private readonly buffers: Uint8Array[];
  private readonly lengths: Uint32Array;
  private readonly due: Float64Array;
  private readonly arrival: Float64Array;
  private readonly free: Int32Array;
  private freeCount: number;
  private readonly heap: Int32Array;
  private heapSize = 0;
  private arrivals = 0;

  constructor(readonly capacity = DEFAULT_QUEUE_CAPACITY, readonly maxBytes = DEFAULT_SLOT_BYTES) {
    if (!(capacity >= 1)) throw new RangeError(`queue capacity must be ≥ 1, got ${capacity}`);
    // One backing store, sliced into slots.
    const store = new ArrayBuffer(capacity * maxBytes);
    this.buffers = Array.from(
      { length: capacity },
      (_, i) => new Uint8Array(store, i * maxBytes, maxBytes),
    );
    this.lengths = new Uint32Array(capacity);
    this.due = new Float64Array(capacity);
    this.arrival = new Float64Array(capacity);
    this.free = new Int32Array(capacity);
    for (let i = 0; i < capacity; i++) this.free[i] = capacity - 1 - i;
    this.freeCount = capacity;
    this.heap = new Int32Array(capacity);
  }

  /** Datagrams waiting (not yet popped). */
  get size(): number {
    return this.heapSize;
  }

  /** Slots in use: waiting, or popped and not yet released. */
  get inUse(): number {
    return this.capacity - this.freeCount;
  }

  /** Copies `bytes` in to be due at `dueMs`; false when every slot is in use. */
  push(bytes: Uint8Array, dueMs: number): boolean {
    if (bytes.length > this.maxBytes) {
      throw new RangeError(`datagram of ${bytes.length} bytes, slots hold ${this.maxBytes}`);
    }
    if (this.freeCount === 0) return false;
    const slot = this.free[--this.freeCount];
    this.buffers[slot].set(bytes);
    this.lengths[slot] = bytes.length;
    this.due[slot] = dueMs;
    this.arrival[slot] = this.arrivals++;
    let i = this.heapSize++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(slot, this.heap[parent])) break;
      this.heap[i] = this.heap[parent];
      i = parent;
    }
    this.heap[i] = slot;
    return true;
  }

  /** The earliest due time, or Infinity when empty. */
  peekDue(): number {
    return this.heapSize > 0 ? this.due[this.heap[0]] : Infinity;
  }

  /** Takes the earliest datagram's slot (the caller releases it), or −1 when empty. */
  pop(): number {
    if (this.heapSize === 0) return -1;
    const top = this.heap[0];
    const last = this.heap[--this.heapSize];
    let i = 0;
    while (true) {
      let child = 2 * i + 1;
      if (child >= this.heapSize) break;
      if (child + 1 < this.heapSize && this.before(this.heap[child + 1], this.heap[child])) child++;
      if (!this.before(this.heap[child], last)) break;
      this.heap[i] = this.heap[child];
      i = child;
    }
    if (this.heapSize > 0) this.heap[i] = last;
    return top;
  }

  /** The datagram in `slot` (a view into the pool: valid until `release`). */
  data(slot: number): Uint8Array {
    return this.buffers[slot].subarray(0, this.lengths[slot]);
  }

  dueOf(slot: number): number {
    return this.due[slot];
  }

  release(slot: number): void {
    this.free[this.freeCount++] = slot;
  }

  private before(a: number, b: number): boolean {
    return this.due[a] < this.due[b] ||
      (this.due[a] === this.due[b] && this.arrival[a] < this.arrival[b]);
  }
}
