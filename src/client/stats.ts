/**
 * Receiver statistics for one RTP stream (RFC 3550 appendix A), runtime-neutral.
 *
 * - `SequenceTracker`: extended highest sequence number, expected vs received
 *   packets and loss (RFC 3550 §A.1, §A.3), with sequence wrap at 65535,
 *   reordering (fewer than MAX_MISORDER behind, or half a second of packets at the
 *   stream's rate: `setPacketRate`), duplicates (a bitmap of the last
 *   DUP_WINDOW sequence numbers) and resynchronisation after a large jump.
 * - `JitterEstimator`: interarrival jitter J += (|D| - J) / 16 (§6.4.1, §A.8),
 *   kept in RTP timestamp units and reported in ms.
 * - `BandwidthMeter`: RTP datagram bytes (UDP payload, without IP/UDP headers)
 *   per interval, in Mbit/s.
 */

export const RTP_SEQ_MOD = 0x1_0000;
/** A forward jump up to this many sequence numbers is loss, not a restart (RFC 3550 §A.1). */
export const MAX_DROPOUT = 3000;
/**
 * A packet fewer than this many sequence numbers behind the highest is late, not a
 * restart (RFC 3550 §A.1's value; the tracker's own limit grows with the packet rate).
 */
export const MAX_MISORDER = 100;
/**
 * How much lateness the misorder limit covers: a Wi-Fi delay spike holds packets for
 * up to 250 ms (docs/wifi-relay.md, profile "crowded") while newer ones overtake them.
 * At 100 packets behind, a 32-channel PCM stream (17 datagrams every 5 ms) would
 * take a 30 ms spike for a restart and count the rest of the stream as lost.
 */
export const MISORDER_SPAN_S = 0.5;
/** The largest misorder limit (well inside 65536 − MAX_DROPOUT). */
export const MAX_MISORDER_CAP = 8192;
/** Sequence numbers remembered for duplicate detection (must exceed MAX_MISORDER_CAP). */
export const DUP_WINDOW = 16384;

/** The misorder limit for a stream of `packetsPerSecond` datagrams. */
export function misorderFor(packetsPerSecond: number): number {
  const n = Math.ceil(packetsPerSecond * MISORDER_SPAN_S);
  return Math.min(MAX_MISORDER_CAP, Math.max(MAX_MISORDER, Number.isFinite(n) ? n : 0));
}
/** The jitter filter's gain 1/16 (RFC 3550 §6.4.1). */
export const JITTER_GAIN = 1 / 16;
const TWO_32 = 0x1_0000_0000;

/** What `SequenceTracker.update` made of a packet. */
export const SeqStatus = {
  /** The highest sequence so far (possibly after a gap). */
  InOrder: 0,
  /** Older than the highest, not seen before: counted as received and reordered. */
  Late: 1,
  /** Already received: ignored. */
  Duplicate: 2,
  /** A jump too large to be loss or reordering: ignored unless the next packet confirms it. */
  Invalid: 3,
  /** The second packet after a large jump: counting restarted at this packet. */
  Resync: 4,
} as const;
export type SeqStatus = typeof SeqStatus[keyof typeof SeqStatus];

export class SequenceTracker {
  /** Unique packets accepted (duplicates and invalid ones excluded). */
  received = 0;
  duplicates = 0;
  /** Packets that arrived after a higher sequence number. */
  reordered = 0;
  /** Packets ignored as an unconfirmed large jump. */
  invalid = 0;
  /** Restarts: confirmed large jumps and `restart()` calls. */
  resyncs = 0;
  /** Extended sequence number of the packet last accepted. */
  lastExtended = -1;

  private started = false;
  private maxSeq = 0;
  /** Sequence wrap count × 65536. */
  private cycles = 0;
  /** Extended sequence number of the first packet of the current run. */
  private baseExt = 0;
  /** Expected packets of earlier runs. */
  private carriedExpected = 0;
  /** The sequence number that would confirm a large jump, or -1. */
  private badSeq = -1;
  private readonly seen = new Uint32Array(DUP_WINDOW / 32);
  /** Packets this far behind the highest are late; farther, a possible restart. */
  private maxMisorder = MAX_MISORDER;

  /** Sets the misorder limit from the stream's packet rate (`misorderFor`). */
  setPacketRate(packetsPerSecond: number): void {
    this.maxMisorder = misorderFor(packetsPerSecond);
  }

  /** Highest extended sequence number (cycles + highest seq), -1 before the first packet. */
  get extendedMax(): number {
    return this.started ? this.cycles + this.maxSeq : -1;
  }

  /** Packets expected so far: every sequence number from each run's first to its highest. */
  get expected(): number {
    const run = this.started ? this.cycles + this.maxSeq - this.baseExt + 1 : 0;
    return this.carriedExpected + run;
  }

  /** Expected minus received, never negative (duplicates are not counted as received). */
  get lost(): number {
    return Math.max(0, this.expected - this.received);
  }

  /** Fraction 0–1 of expected packets that did not arrive. */
  get lossRate(): number {
    const e = this.expected;
    return e === 0 ? 0 : this.lost / e;
  }

  /** Starts a new run (new SSRC) while keeping the totals. */
  restart(): void {
    this.fold();
    this.started = false;
    this.badSeq = -1;
  }

  update(seq: number): SeqStatus {
    seq &= 0xffff;
    if (!this.started) {
      this.init(seq);
      return SeqStatus.InOrder;
    }
    const udelta = (seq - this.maxSeq) & 0xffff;
    if (udelta === 0) {
      this.duplicates++;
      return SeqStatus.Duplicate;
    }
    if (udelta < MAX_DROPOUT) {
      this.clearAhead(udelta);
      if (seq < this.maxSeq) this.cycles += RTP_SEQ_MOD;
      this.maxSeq = seq;
      this.lastExtended = this.cycles + seq;
      this.mark(this.lastExtended);
      this.received++;
      this.badSeq = -1;
      return SeqStatus.InOrder;
    }
    if (udelta <= RTP_SEQ_MOD - this.maxMisorder) {
      if (seq === this.badSeq) {
        this.fold();
        this.resyncs++;
        this.init(seq);
        return SeqStatus.Resync;
      }
      this.badSeq = (seq + 1) & 0xffff;
      this.invalid++;
      return SeqStatus.Invalid;
    }
    const ext = this.cycles + this.maxSeq - (RTP_SEQ_MOD - udelta);
    if (ext < this.baseExt) {
      // Late packet from before the first one we saw: the run starts earlier.
      this.baseExt = ext;
    } else if (this.isSeen(ext)) {
      this.duplicates++;
      return SeqStatus.Duplicate;
    }
    this.mark(ext);
    this.lastExtended = ext;
    this.received++;
    this.reordered++;
    return SeqStatus.Late;
  }

  private init(seq: number): void {
    this.started = true;
    this.maxSeq = seq;
    this.cycles = 0;
    this.baseExt = seq;
    this.badSeq = -1;
    this.seen.fill(0);
    this.lastExtended = seq;
    this.mark(seq);
    this.received++;
  }

  private fold(): void {
    if (this.started) this.carriedExpected += this.cycles + this.maxSeq - this.baseExt + 1;
  }

  /** Forgets the window slots the highest sequence moves over. */
  private clearAhead(steps: number): void {
    if (steps >= DUP_WINDOW) {
      this.seen.fill(0);
      return;
    }
    const from = this.cycles + this.maxSeq; // value before the caller updates maxSeq/cycles
    for (let i = 1; i <= steps; i++) {
      const slot = (from + i) % DUP_WINDOW;
      this.seen[slot >>> 5] &= ~(1 << (slot & 31));
    }
  }

  private mark(ext: number): void {
    const slot = ext % DUP_WINDOW;
    this.seen[slot >>> 5] |= 1 << (slot & 31);
  }

  private isSeen(ext: number): boolean {
    const slot = ext % DUP_WINDOW;
    return (this.seen[slot >>> 5] & (1 << (slot & 31))) !== 0;
  }
}

/**
 * Interarrival jitter (RFC 3550 §6.4.1): for packets i-1, i with RTP
 * timestamps S and arrival times R (both in timestamp units)
 *   D(i-1,i) = (R_i - R_{i-1}) - (S_i - S_{i-1})
 *   J_i = J_{i-1} + (|D(i-1,i)| - J_{i-1}) / 16
 */
export class JitterEstimator {
  /** The estimate in RTP timestamp units. */
  jitter = 0;
  private prevTransit = 0;
  private hasPrev = false;

  constructor(private clockRate: number) {
    if (!(clockRate > 0)) throw new RangeError(`RTP clock rate must be > 0 Hz, got ${clockRate}`);
  }

  get jitterMs(): number {
    return (this.jitter * 1000) / this.clockRate;
  }

  /** A new stream (new SSRC or clock rate): keeps the estimate, forgets the last transit. */
  restart(clockRate: number): void {
    if (!(clockRate > 0)) throw new RangeError(`RTP clock rate must be > 0 Hz, got ${clockRate}`);
    this.jitter = (this.jitter * clockRate) / this.clockRate;
    this.clockRate = clockRate;
    this.hasPrev = false;
  }

  update(rtpTimestamp: number, arrivalMs: number): void {
    const transit = (arrivalMs * this.clockRate) / 1000 - rtpTimestamp;
    if (!this.hasPrev) {
      this.prevTransit = transit;
      this.hasPrev = true;
      return;
    }
    let d = transit - this.prevTransit;
    this.prevTransit = transit;
    d -= Math.round(d / TWO_32) * TWO_32; // the 32-bit RTP timestamp wrapped
    if (d < 0) d = -d;
    this.jitter += (d - this.jitter) * JITTER_GAIN;
  }
}

/** Counts received bytes; `take` returns Mbit/s since the previous `take`. */
export class BandwidthMeter {
  totalBytes = 0;
  private intervalBytes = 0;
  private intervalStartMs: number;

  constructor(nowMs: number) {
    this.intervalStartMs = nowMs;
  }

  add(bytes: number): void {
    this.totalBytes += bytes;
    this.intervalBytes += bytes;
  }

  /** Mbit/s (10^6 bit/s) over the interval ending now, then starts a new interval. */
  take(nowMs: number): number {
    const ms = nowMs - this.intervalStartMs;
    const mbps = ms > 0 ? (this.intervalBytes * 8) / (ms * 1000) : 0;
    this.intervalBytes = 0;
    this.intervalStartMs = nowMs;
    return mbps;
  }
}
