/**
 * The AES67 receiver's jitter buffer: RTP packets of one or more streams (one
 * sender's, sharing a media clock) in, whole periods of `framesPerPeriod`
 * frames out, with the streams' channels side by side in stream order
 * (stream 1's channels first) and the rest of the 32 source channels silent.
 *
 * Placement is by media clock: a packet's RTP timestamp minus its stream's
 * `mediaclk:direct` offset is its first frame's position on the sender's
 * clock, so channel n of stream 2 lines up sample-exactly with stream 1. A
 * period leaves as soon as every stream has filled it (in-order delivery
 * adds nothing beyond the packet time). One with a missing piece (loss,
 * reordering, a stream behind another) leaves `waitMs` after it became
 * overdue, by the caller's clock; its missing frames are silent and counted.
 * A piece that arrives after its period left widens the wait by how late it
 * was, up to `maxWaitMs`, as an adaptive jitter buffer does. Nothing leaves
 * before every stream has sent its first packet, so no channel starts
 * silent. Pacing is the sender's: periods leave as its packets arrive, as a
 * USB device's periods do, so there is no drift between two clocks.
 *
 * A stream whose timestamps jump (a sender that restarted) is realigned to
 * the head of the buffer and counted; so is one that arrives too late for a
 * second of audio (streams without a common clock). A stream that merely
 * lags (its timestamps follow its own previous packet: a receiving thread
 * that was held up, a sender catching up) is never moved: its late pieces
 * are dropped, so a shared media clock keeps the channels sample-aligned.
 *
 * Hot path: `push` allocates nothing (periods are views made at construction).
 */
import type { Period } from "../audio/source.ts";

export interface ReassemblerStream {
  channels: number;
  /** 3 for L24, 2 for L16. */
  bytesPerSample: 2 | 3;
  /** `mediaclk:direct` offset: subtracted from RTP timestamps. */
  mediaclkOffset: number;
}

export interface ReassemblerOptions {
  streams: readonly ReassemblerStream[];
  /** Channels of every period (the announced ones first, the rest silent). */
  outputChannels: number;
  framesPerPeriod: number;
  sampleRate: number;
  /** How long (ms, by the caller's clock) a period waits for a missing piece (start value). */
  waitMs: number;
  /** The most `waitMs` grows to when pieces arrive after their period left (default 4 × start). */
  maxWaitMs?: number;
  /**
   * Leave a waited-out period to `flush` (a timer) instead of emitting it
   * from `push`: a receiving thread that was held up reads one socket's
   * backlog before the other's, and must not give up on the other's pieces
   * that are already waiting in the kernel.
   */
  deferTimeouts?: boolean;
  /** Buffer length in periods (default: at least 250 ms, at least 8). */
  periods?: number;
  /**
   * Frames of late packets in a row before a stream is realigned (default one
   * second's): a stream still catching up after a late start is not moved.
   */
  lateLimit?: number;
}

export interface ReassemblerStats {
  packets: number;
  /** Frames that arrived after their period had left. */
  lateFrames: number;
  /** Frames never received before their period left (silent in the output). */
  missingFrames: number;
  /** Streams moved to the buffer's head (timestamp jump, no common clock). */
  realigned: number;
  periods: number;
  /** Packets whose payload was not whole frames. */
  malformed: number;
  /** Periods dropped at the start, before every stream had arrived. */
  discardedPeriods: number;
  /** Frames that came twice (duplicated or overlapping packets): the later copy wins. */
  duplicateFrames: number;
  /** The wait for a missing piece now (ms): grows when pieces come after their period left. */
  waitMs: number;
}

const TWO32 = 4294967296;

export class Reassembler {
  readonly stats: ReassemblerStats = {
    packets: 0,
    lateFrames: 0,
    missingFrames: 0,
    realigned: 0,
    periods: 0,
    malformed: 0,
    discardedPeriods: 0,
    duplicateFrames: 0,
    waitMs: 0,
  };
  private readonly n: number;
  private readonly p: number;
  private readonly t: number;
  private readonly ring: Int32Array;
  private readonly views: Int32Array[];
  /** Frames written per period slot and stream. */
  private readonly filled: Int32Array;
  /** Per ring frame and stream: 1 once written (until its period leaves). */
  private readonly written: Uint8Array;
  private readonly chanOffset: Int32Array;
  /** Per stream: the extra shift applied to its media positions after a realignment (uint32). */
  private readonly adjust: Float64Array;
  /** Per stream: frames written ahead of the read position (its newest end). */
  private readonly head: Float64Array;
  private readonly lateRun: Int32Array;
  /** Per stream: where its next packet should start (uint32), once it has sent one. */
  private readonly nextPos: Float64Array;
  private readonly hasNext: Uint8Array;
  private readonly lateLimit: number;
  private readonly maxWaitMs: number;
  /** When the next period became overdue (a stream passed its end, another had not filled it), or -1. */
  private overdueSince = -1;
  /** Frame index of the first period that left (-1 before). */
  private firstOut = -1;
  private readonly periodMs: number;
  private started = false;
  /** Media position (uint32) of the next period's first frame. */
  private readPos = 0;
  /** The next period's number since start (its slot is this mod p). */
  private readPeriod = 0;
  private readonly period: Period;

  constructor(private readonly o: ReassemblerOptions) {
    this.n = o.framesPerPeriod;
    this.t = o.outputChannels;
    this.p = o.periods ?? Math.max(8, Math.ceil((0.25 * o.sampleRate) / o.framesPerPeriod));
    this.ring = new Int32Array(this.n * this.p * this.t);
    this.views = Array.from(
      { length: this.p },
      (_, i) => this.ring.subarray(i * this.n * this.t, (i + 1) * this.n * this.t),
    );
    const s = o.streams.length;
    this.filled = new Int32Array(this.p * s);
    this.written = new Uint8Array(this.n * this.p * s);
    this.chanOffset = new Int32Array(s);
    let c = 0;
    for (let i = 0; i < s; i++) {
      this.chanOffset[i] = c;
      c += o.streams[i].channels;
    }
    if (c > this.t) throw new Error(`${c} channels do not fit a ${this.t}-channel source`);
    this.adjust = new Float64Array(s);
    this.head = new Float64Array(s).fill(-Infinity);
    this.lateRun = new Int32Array(s);
    this.nextPos = new Float64Array(s);
    this.hasNext = new Uint8Array(s);
    this.lateLimit = o.lateLimit ?? o.sampleRate;
    this.stats.waitMs = o.waitMs;
    this.periodMs = (o.framesPerPeriod * 1000) / o.sampleRate;
    this.maxWaitMs = o.maxWaitMs ?? 4 * o.waitMs;
    this.period = {
      data: this.views[0],
      frames: this.n,
      channels: this.t,
      sampleRate: o.sampleRate,
      frameIndex: 0,
      captureTimeMs: 0,
    };
  }

  /** Media position (uint32, on stream 1's clock) of the first frame of the next period out. */
  get nextMediaPosition(): number {
    return (this.readPos + this.adjust[0]) % TWO32;
  }

  /** Index (frames since start) of the next period's first frame: where `push`'s return counts from. */
  get readFrame(): number {
    return this.readPeriod * this.n;
  }

  /** Frames buffered ahead of the read position by the furthest stream (0 before start). */
  get bufferedFrames(): number {
    let h = 0;
    for (let i = 0; i < this.head.length; i++) if (this.head[i] > h) h = this.head[i];
    return h;
  }

  /**
   * One RTP payload of stream `s` with timestamp `ts` (`payload[start, end)`,
   * default all of it: the receive buffer is passed as is, no view per
   * packet); `emit` is called for each period it completes (the Period is
   * valid during the call only). Returns the frames' position relative to the
   * read point (for timing), or NaN if dropped.
   */
  push(
    s: number,
    ts: number,
    payload: Uint8Array,
    emit: (p: Period, mediaPos: number) => void,
    nowMs: number,
    start = 0,
    end = payload.length,
  ): number {
    const st = this.o.streams[s];
    const bps = st.bytesPerSample;
    const frameBytes = bps * st.channels;
    const bytes = end - start;
    if (bytes <= 0 || bytes % frameBytes !== 0) {
      this.stats.malformed++;
      return NaN;
    }
    this.stats.packets++;
    const frames = bytes / frameBytes;
    const pos = (ts - st.mediaclkOffset - this.adjust[s] + 2 * TWO32) % TWO32;
    if (!this.started) {
      this.started = true;
      this.readPos = pos;
    }
    let d = (pos - this.readPos) | 0;
    const span = this.n * this.p;
    // Does this packet follow the stream's own previous one (within a second: losses allowed)?
    const own = this.hasNext[s] === 1 &&
      Math.abs((pos - this.nextPos[s]) | 0) <= this.o.sampleRate;
    this.nextPos[s] = (pos + frames) % TWO32;
    this.hasNext[s] = 1;
    if (d + frames > span - this.n || (d < -span && !own)) {
      d = this.realign(s, pos);
    } else if (d + frames <= 0) {
      this.stats.lateFrames += frames;
      if (this.countsAsLate(s, d, frames)) this.widen(-d);
      this.lateRun[s] += frames;
      if (this.lateRun[s] >= this.lateLimit) d = this.realign(s, pos);
      else return NaN;
    }
    this.lateRun[s] = 0;
    // Its position after a realignment (the stream's timestamps are shifted from here on).
    this.nextPos[s] = (this.readPos + d + frames + TWO32) % TWO32;
    if (d < 0 && this.countsAsLate(s, d, frames)) this.widen(-d);
    if (this.head[s] === -Infinity && d > 0) {
      // A stream's first packet after the others began: the periods before it are dropped.
      const q = Math.ceil(d / this.n);
      this.discard(q);
      d -= q * this.n;
    }
    this.write(s, d, frames, payload, start);
    if (d + frames > this.head[s]) this.head[s] = d + frames;
    this.drain(emit, nowMs);
    return d;
  }

  /** Moves stream s so that a packet at media position `pos` lands at the buffer's head. */
  private realign(s: number, pos: number): number {
    this.stats.realigned++;
    let target = 0;
    for (let i = 0; i < this.head.length; i++) {
      if (this.head[i] > target) target = this.head[i];
    }
    const want = (this.readPos + target) % TWO32;
    this.adjust[s] = (this.adjust[s] + ((pos - want + 2 * TWO32) % TWO32)) % TWO32;
    this.head[s] = Math.min(this.head[s], target);
    this.lateRun[s] = 0;
    return target;
  }

  private write(s: number, d: number, frames: number, payload: Uint8Array, start: number): void {
    const n = this.n;
    const t = this.t;
    const p = this.p;
    const st = this.o.streams[s];
    const ch = st.channels;
    const base = this.chanOffset[s];
    const bps = st.bytesPerSample;
    const ring = this.ring;
    const filled = this.filled;
    const written = this.written;
    const nStreams = this.o.streams.length;
    let src = start;
    for (let f = 0; f < frames; f++) {
      const rel = d + f;
      if (rel < 0) {
        this.stats.lateFrames++;
        src += ch * bps;
        continue;
      }
      const q = Math.floor(rel / n);
      const slot = (this.readPeriod + q) % p;
      const frameInRing = slot * n + (rel - q * n);
      let o = frameInRing * t + base;
      if (bps === 3) {
        for (let c = 0; c < ch; c++, src += 3) {
          ring[o++] = (payload[src] << 24) | (payload[src + 1] << 16) | (payload[src + 2] << 8);
        }
      } else {
        for (let c = 0; c < ch; c++, src += 2) {
          ring[o++] = (payload[src] << 24) | (payload[src + 1] << 16);
        }
      }
      // A frame written twice (a duplicated or overlapping packet) counts once.
      const w = frameInRing * nStreams + s;
      if (written[w] === 0) {
        written[w] = 1;
        filled[slot * nStreams + s]++;
      } else {
        this.stats.duplicateFrames++;
      }
    }
  }

  /**
   * Whether a late piece says the wait is too short: not a stream's first
   * packet, nor frames of the periods dropped at the start (before anything
   * left, a stream's backlog may still be read after another's first packet).
   */
  private countsAsLate(s: number, d: number, frames: number): boolean {
    return this.head[s] !== -Infinity && this.firstOut >= 0 &&
      this.readPeriod * this.n + d + frames > this.firstOut;
  }

  /** A piece came `lateBy` frames after its period left: wait that much longer from now on. */
  private widen(lateBy: number): void {
    const st = this.stats;
    if (st.waitMs < this.maxWaitMs) {
      st.waitMs = Math.min(
        this.maxWaitMs,
        st.waitMs + ((lateBy + this.n) * 1000) / this.o.sampleRate,
      );
    }
  }

  /** Drops the next `q` periods unheard (start-up, before every stream has arrived). */
  private discard(q: number): void {
    const nStreams = this.o.streams.length;
    for (let k = 0; k < q; k++) {
      const slot = this.readPeriod % this.p;
      for (let i = 0; i < nStreams; i++) this.filled[slot * nStreams + i] = 0;
      this.written.fill(0, slot * this.n * nStreams, (slot + 1) * this.n * nStreams);
      this.views[slot].fill(0);
      this.readPeriod++;
      this.readPos = (this.readPos + this.n) % TWO32;
      for (let i = 0; i < nStreams; i++) this.head[i] -= this.n;
      this.stats.discardedPeriods++;
    }
  }

  /**
   * Emits the periods that are ready: complete ones at once; one with a
   * missing piece once it is overdue (another stream has passed its end) and
   * has waited `waitMs` by the caller's clock, or when the buffer is nearly
   * full. The wait is by the clock, not by how far another stream ran, so a
   * receiving thread that was held up and reads one stream's backlog first
   * does not make the other's pieces late.
   */
  /** When the next period's wait runs out (caller's clock), or -1 when nothing is overdue. */
  get overdueAt(): number {
    return this.overdueSince < 0 ? -1 : this.overdueSince + this.stats.waitMs;
  }

  /** Moves the current wait's start `ms` later (the receiving thread was held up that long). */
  postpone(ms: number): void {
    if (this.overdueSince >= 0) this.overdueSince += ms;
  }

  /** Emits what is ready now, waited-out periods included (the timer of `deferTimeouts`). */
  flush(emit: (p: Period, mediaPos: number) => void, nowMs: number): void {
    this.drain(emit, nowMs, true);
  }

  private drain(
    emit: (p: Period, mediaPos: number) => void,
    nowMs: number,
    timeouts = !this.o.deferTimeouts,
  ): void {
    const n = this.n;
    const nStreams = this.o.streams.length;
    const full = n * (this.p - 2);
    for (;;) {
      const slot = this.readPeriod % this.p;
      let complete = true;
      let all = true;
      let furthest = 0;
      for (let i = 0; i < nStreams; i++) {
        if (this.filled[slot * nStreams + i] < n) complete = false;
        if (this.head[i] === -Infinity) all = false;
        else if (this.head[i] > furthest) furthest = this.head[i];
      }
      // Waiting for a stream's first packet: hold what the buffer can (its timestamps may be
      // older than the others' newest), dropping the oldest period only when it is nearly full.
      if (!all && furthest < full) return;
      if (!all) {
        this.discard(1);
        continue;
      }
      if (complete) {
        this.overdueSince = -1;
      } else if (furthest < full) {
        if (furthest < n) return; // nobody has passed this period's end: nothing is missing yet
        if (this.overdueSince < 0) this.overdueSince = nowMs;
        if (!timeouts || nowMs - this.overdueSince < this.stats.waitMs) return;
        // The next period is overdue one period later (a stream that stopped costs one wait).
        this.overdueSince += this.periodMs;
      }
      for (let i = 0; i < nStreams; i++) {
        const got = this.filled[slot * nStreams + i];
        if (got < n) this.stats.missingFrames += n - got;
        this.filled[slot * nStreams + i] = 0;
      }
      this.written.fill(0, slot * n * nStreams, (slot + 1) * n * nStreams);
      const view = this.views[slot];
      const per = this.period;
      per.data = view;
      per.frameIndex = this.readPeriod * n;
      if (this.firstOut < 0) this.firstOut = per.frameIndex;
      const mediaPos = this.nextMediaPosition;
      this.readPeriod++;
      this.readPos = (this.readPos + n) % TWO32;
      for (let i = 0; i < nStreams; i++) this.head[i] -= n;
      this.stats.periods++;
      try {
        emit(per, mediaPos);
      } finally {
        view.fill(0);
      }
    }
  }
}
