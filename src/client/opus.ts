/**
 * Opus payloads (PT 97) → one decoded frame of all the client's channels,
 * runtime-neutral: the decoder itself is injected (`OpusDecoderFactory`; the
 * Deno CLI builds one on libopus, see ./opus_ffi.ts; a page can wrap a wasm one).
 *
 * One packet time of the stream is one Opus multistream packet (RFC 7845
 * family 255: N mono streams, 0 coupled, mapping [0..N−1]) — or, when the
 * ack has `channel_groups`, one such packet per group, all with the SAME RTP
 * timestamp, sent in group order with consecutive sequence numbers
 * (docs/protocol.md §12):
 *
 *   seq  s      s+1    s+2  | s+3    s+4    s+5  | …
 *   ts   T      T      T    | T+240  T+240  T+240|
 *        grp 0  grp 1  grp 2| grp 0  grp 1  grp 2|
 *
 * A packet's group is its extended sequence number's distance from a known
 * group-0 packet, modulo the group count. Group 0 is recognised as a packet
 * that follows its predecessor's sequence number directly but carries another
 * timestamp (or has the marker bit, the stream's first packet); the residue
 * is re-learnt at every such packet. Packet time k = ⌊(ext − residue) / G⌋
 * is the sequence number the jitter buffer sees.
 *
 * Group packets may come reordered, duplicated, lost or late (the page's
 * DataChannel is unordered and never retransmits). Each group has its own
 * decoder, so the groups of the packet time being assembled may arrive in any
 * order. It is handed on when all its groups have been decoded, or when a
 * packet of a later time arrives: each group still missing then is concealed
 * by its decoder's PLC and counted in `concealedGroups` (a decoder that cannot
 * conceal is a decode error, and its channels stay silent for that time).
 * A group packet of a time already handed on is late: counted (`lateGroups`)
 * and dropped, never decoded (its decoder already concealed that time) and
 * never reopening the time. A second copy of a group packet is counted
 * (`duplicateGroups`) and dropped. A packet time lost entirely is left to the
 * jitter buffer's concealment.
 *
 * Reordered packet times. A decoder's state runs in order, so a packet time
 * is decoded only after the one before it. On a link that reorders (Wi-Fi's
 * retries: stage-ap's jitter of up to 20 ms lets a packet overtake the 5 ms
 * one before it) a newer packet time is held, encoded, while the one before
 * it may still be useful: until the jitter buffer would read it
 * (`deadline`, the sink's `readTimeOf`), or, where the sink cannot say, for
 * the largest reordering the stream showed over the last REORDER_WINDOW_MS
 * (+ 1 ms, ≤ MAX_REORDER_WAIT_MS; 0 — nothing held — until the link
 * reordered once). Then the awaited one is given up (its missing groups
 * concealed, a whole missing packet time left to the jitter buffer) and the
 * held ones are decoded in order, with their own arrival times. Expiry is
 * checked on each arrival and by `poll(now)`. A packet still dropped for
 * late is told to the sink (`onLate`: its timing counts in the delay).
 * Before this, every packet that came after a newer one was dropped, unseen
 * by the jitter buffer: ~5 % of the packets on the Wi-Fi bench's stage-ap
 * profile played as gaps although they came within the delay, and the delay
 * stayed too short for them (docs/loadtest/wifi/).
 *
 * Samples are handed on as integers at full scale 2^23 (like L24).
 * Timestamps are put on the decode rate's timeline (the RTP clock is always
 * 48000; the ack's `sample_rate` may be 24000), wrapping at 2^32.
 */

import { WindowedMin } from "./windowed_min.ts";

/** One decoder for one group: `channels` mono streams. */
export interface OpusFrameDecoder {
  /**
   * Decodes one multistream packet into `out` (interleaved floats, nominally
   * [−1, 1]), or conceals one lost packet of `lostFrames` frames when `payload`
   * is null. Returns frames per channel; throws on a packet it cannot decode.
   */
  decode(payload: Uint8Array | null, out: Float32Array, lostFrames: number): number;
  close(): void;
}

/** Makes a decoder of `channels` mono streams decoding at `sampleRate` (8000…48000). */
export type OpusDecoderFactory = (channels: number, sampleRate: number) => OpusFrameDecoder;

export const OPUS_CLOCK_RATE = 48000;
/** Packet times held while an older one is awaited (at most). */
const HOLD_SLOTS = 16;
/** The longest a newer packet time is held for an older one (ms). */
export const MAX_REORDER_WAIT_MS = 40;
/** The wait covers the largest reordering of this long (ms)… */
export const REORDER_WINDOW_MS = 8000;
/** …plus this (ms). */
const REORDER_MARGIN_MS = 1;
/** A held packet is handed on this long before the awaited one's read time (ms). */
export const DEADLINE_SAFETY_MS = 1;
/** First arrivals remembered per packet time (a ring: the reordering is measured against them). */
const ARRIVAL_RING = 64;
/** Opus samples are handed on as integers at this full scale (L24's). */
export const OPUS_FULL_SCALE = 0x80_0000;
/** RFC 6716: at most 120 ms in one packet. */
const MAX_PACKET_MS = 120;
const TWO_32 = 0x1_0000_0000;

/** One assembled packet time; the object and its `samples` are only valid during the callback. */
export interface OpusFrame {
  /** Packet-time index (consecutive for consecutive packet times). */
  index: number;
  /** RTP timestamp on the decode rate's timeline. */
  timestamp: number;
  /** The RTP timestamp itself (48 kHz clock), e.g. for the capture time. */
  rtpTimestamp: number;
  /** Arrival of the last packet used. */
  arrivalMs: number;
  frames: number;
  /** Interleaved, `frames × channels`, full scale OPUS_FULL_SCALE. */
  samples: Int32Array;
}

/** Counters, shared by the assemblers of successive streams. */
export interface OpusCounters {
  /** Group packets decoded. */
  decodedPackets: number;
  /** Group packets missing when their packet time was handed on (concealed). */
  concealedGroups: number;
  /** Group packets that arrived after their packet time was handed on (dropped). */
  lateGroups: number;
  /** Second copies of a group packet of the packet time being assembled (dropped). */
  duplicateGroups: number;
  /** Packets before the first group-0 packet was recognised (only with groups). */
  unassignedPackets: number;
  /** Group packets of a later packet time held until an older one came (decoded in order). */
  heldGroups: number;
}

export function emptyOpusCounters(): OpusCounters {
  return {
    decodedPackets: 0,
    concealedGroups: 0,
    lateGroups: 0,
    duplicateGroups: 0,
    unassignedPackets: 0,
    heldGroups: 0,
  };
}

/**
 * Channel counts of the groups from the ack's `channel_groups` (ids), checked
 * against the stream's channel list; absent or inconsistent = one group.
 */
export function groupCounts(
  channels: readonly number[],
  groups: readonly (readonly number[])[] | undefined,
): number[] {
  if (!groups || groups.length === 0) return [channels.length];
  const flat = groups.flat();
  const same = flat.length === channels.length && flat.every((id, i) => id === channels[i]) &&
    groups.every((g) => g.length > 0);
  return same ? groups.map((g) => g.length) : [channels.length];
}

interface Group {
  decoder: OpusFrameDecoder;
  first: number;
  count: number;
}

export class OpusGroupAssembler {
  readonly channels: number;
  readonly sampleRate: number;
  private readonly groups: Group[];
  private readonly samples: Int32Array;
  private readonly scratch: Float32Array;
  // group-0 recognition
  private residue = -1;
  private prevExt = -1;
  private prevTs = 0;
  // timestamp unwrapping (for the decode-rate timeline)
  private tsStarted = false;
  private tsRaw = 0;
  private tsExt = 0;
  // the packet time being assembled
  private pendingIndex = -1;
  private pendingTs = 0;
  private pendingRtpTs = 0;
  private pendingFrames = 0;
  /** Which groups of the pending packet time were decoded, and how many. */
  private readonly have: Uint8Array;
  private haveCount = 0;
  private pendingArrival = 0;
  private lastEmitted = -Infinity;
  // packets of later packet times held while an older one is awaited (encoded, copied)
  private readonly holdExt = new Float64Array(HOLD_SLOTS);
  private readonly holdIndex = new Float64Array(HOLD_SLOTS);
  private readonly holdGroup = new Int32Array(HOLD_SLOTS);
  private readonly holdTs = new Float64Array(HOLD_SLOTS);
  private readonly holdArrival = new Float64Array(HOLD_SLOTS);
  private readonly holdLen = new Int32Array(HOLD_SLOTS);
  private readonly holdData: Uint8Array[] = [];
  private holdCount = 0;
  private holdSinceMs = 0;
  // the reordering seen: first arrival per packet time, and the largest wait it needed
  private readonly arrivalAt = new Float64Array(ARRIVAL_RING);
  private readonly arrivalIndex = new Float64Array(ARRIVAL_RING).fill(-1);
  private newestIndex = -Infinity;
  private readonly reorder = new WindowedMin(REORDER_WINDOW_MS, 4);
  /** RTP ticks (48 kHz) of one packet time, from the last one decoded. */
  private ticksPerTime = 0;
  /**
   * When the sink reads the frame at a timestamp (decode-rate timeline), wall ms; NaN unknown
   * (the jitter buffer's `readTimeOf`): a packet held past it is useless, so the wait ends
   * before it.
   */
  deadline: ((timestamp: number) => number) | null = null;
  /** Told the timing of each packet dropped for late (decode-rate timestamp, arrival). */
  onLate: ((timestamp: number, arrivalMs: number) => void) | null = null;
  /** What `emit` gets, reused for every packet time. */
  private readonly frame: OpusFrame;

  constructor(
    factory: OpusDecoderFactory,
    counts: readonly number[],
    sampleRate: number,
    private readonly emit: (f: OpusFrame) => void,
    private readonly counters: OpusCounters = emptyOpusCounters(),
    private readonly onError: (message: string) => void = () => {},
  ) {
    if (counts.length === 0 || counts.some((c) => !(Number.isInteger(c) && c >= 1 && c <= 255))) {
      throw new RangeError(
        `Opus channel groups must be non-empty groups of 1–255, got [${counts}]`,
      );
    }
    this.sampleRate = sampleRate;
    const maxFrames = (sampleRate * MAX_PACKET_MS) / 1000;
    let first = 0;
    const groups: Group[] = [];
    try {
      for (const count of counts) {
        groups.push({ decoder: factory(count, sampleRate), first, count });
        first += count;
      }
    } catch (e) {
      for (const g of groups) g.decoder.close();
      throw e;
    }
    this.groups = groups;
    this.channels = first;
    this.have = new Uint8Array(counts.length);
    this.samples = new Int32Array(maxFrames * first);
    this.scratch = new Float32Array(maxFrames * Math.max(...counts));
    this.frame = {
      index: 0,
      timestamp: 0,
      rtpTimestamp: 0,
      arrivalMs: 0,
      frames: 0,
      samples: this.samples,
    };
  }

  get groupCount(): number {
    return this.groups.length;
  }

  /**
   * One Opus packet of this stream: `ext` is its extended sequence number,
   * `marker` its RTP marker bit.
   */
  push(
    ext: number,
    timestamp: number,
    marker: boolean,
    payload: Uint8Array,
    arrivalMs: number,
  ): void {
    const G = this.groups.length;
    timestamp >>>= 0;
    if (G > 1) {
      if (marker || (ext === this.prevExt + 1 && timestamp !== this.prevTs)) {
        const r = ext % G;
        if (this.residue >= 0 && r !== this.residue) this.discardPending(); // numbering moved
        this.residue = r;
      }
      if (ext > this.prevExt) {
        this.prevExt = ext;
        this.prevTs = timestamp;
      }
      if (this.residue < 0) {
        this.counters.unassignedPackets++;
        return;
      }
    }
    const d = G > 1 ? ext - this.residue : ext;
    const g = G > 1 ? ((d % G) + G) % G : 0;
    const index = G > 1 ? Math.floor(d / G) : ext;
    this.noteArrival(index, arrivalMs);
    if (index <= this.lastEmitted || (this.pendingIndex >= 0 && index < this.pendingIndex)) {
      this.counters.lateGroups++;
      this.onLate?.(this.scaled(timestamp), arrivalMs);
      return;
    }
    while (this.holdCount >= HOLD_SLOTS) this.giveUp(arrivalMs);
    const expected = this.pendingIndex >= 0 ? this.pendingIndex : this.lastEmitted + 1;
    const reorders = this.reorderWaitMs > 0 || this.deadline !== null;
    if (index > expected && Number.isFinite(expected) && reorders) {
      this.hold(ext, index, g, timestamp, payload, arrivalMs);
      this.poll(arrivalMs);
      return;
    }
    this.accept(index, g, timestamp, payload, arrivalMs);
    this.release(arrivalMs);
  }

  /**
   * Gives up on the packet time awaited once the held ones waited the reordering's length:
   * hands on what came of it (its missing groups concealed) or skips it, and decodes the held
   * ones in order. Call it now and then (each arrival does).
   */
  poll(nowMs: number): void {
    while (this.holdCount > 0 && nowMs >= this.holdUntilMs()) this.giveUp(nowMs);
  }

  /** Stops waiting for the awaited packet time: hands on what came of it, or skips it. */
  private giveUp(nowMs: number): void {
    if (this.pendingIndex >= 0) this.flush();
    else this.lastEmitted = this.oldestHeldIndex() - 1; // lost whole: the jitter buffer conceals it
    this.release(nowMs);
  }

  /**
   * When the held packets must go: the reordering's wait after the oldest came, and a packet
   * time before the awaited one is read (the next arrival, which checks again, may be that late).
   */
  private holdUntilMs(): number {
    const until = this.holdSinceMs + this.reorderWaitMs;
    if (this.deadline === null || this.ticksPerTime <= 0) return until;
    const index = this.oldestHeldIndex();
    const k = this.holdSlotOf(index);
    const expected = this.pendingIndex >= 0 ? this.pendingIndex : this.lastEmitted + 1;
    const ts = this.pendingIndex >= 0
      ? this.pendingTs
      : this.scaled((this.holdTs[k] - (index - expected) * this.ticksPerTime) >>> 0);
    const read = this.deadline(ts) - DEADLINE_SAFETY_MS;
    return Number.isNaN(read) ? until : read;
  }

  private holdSlotOf(index: number): number {
    for (let i = 0; i < this.holdCount; i++) if (this.holdIndex[i] === index) return i;
    return 0;
  }

  /** How long a newer packet time is held for an older one now (ms): 0 until the link reordered. */
  get reorderWaitMs(): number {
    const w = -this.reorder.value;
    return Number.isFinite(w) ? Math.min(MAX_REORDER_WAIT_MS, w + REORDER_MARGIN_MS) : 0;
  }

  /** Decodes one group packet into the packet time being assembled (or starts the next). */
  private accept(
    index: number,
    g: number,
    timestamp: number,
    payload: Uint8Array,
    arrivalMs: number,
  ): void {
    const ts = this.scaled(timestamp);
    if (this.pendingIndex >= 0 && index > this.pendingIndex) this.flush();
    if (this.pendingIndex === index && this.have[g] !== 0) {
      this.counters.duplicateGroups++;
      return;
    }
    const group = this.groups[g];
    let frames: number;
    try {
      frames = group.decoder.decode(payload, this.scratch, 0);
    } catch (e) {
      this.onError(`Opus group ${g}: ${(e as Error).message}`);
      return;
    }
    if (!(frames > 0) || frames * this.channels > this.samples.length) {
      this.onError(`Opus group ${g} decoded to ${frames} frames`);
      return;
    }
    if (this.pendingIndex >= 0 && frames !== this.pendingFrames) {
      this.onError(
        `Opus group ${g} decoded to ${frames} frames, its packet time has ${this.pendingFrames}`,
      );
      return;
    }
    this.counters.decodedPackets++;
    this.ticksPerTime = (frames * OPUS_CLOCK_RATE) / this.sampleRate;
    if (this.pendingIndex < 0) {
      this.pendingIndex = index;
      this.pendingTs = ts;
      this.pendingRtpTs = timestamp;
      this.pendingFrames = frames;
      this.have.fill(0);
      this.haveCount = 0;
      this.samples.fill(0, 0, frames * this.channels);
    }
    this.scatter(group, frames);
    this.have[g] = 1;
    this.haveCount++;
    this.pendingArrival = arrivalMs;
    if (this.haveCount === this.groups.length) this.flush();
  }

  /** Hands on the packet time being assembled, concealing its missing groups. */
  flush(): void {
    if (this.pendingIndex < 0) return;
    const frames = this.pendingFrames;
    for (let g = 0; g < this.groups.length; g++) {
      if (this.have[g] !== 0) continue;
      this.counters.concealedGroups++;
      const group = this.groups[g];
      try {
        const n = group.decoder.decode(null, this.scratch, frames);
        if (n === frames) this.scatter(group, frames);
        else this.onError(`Opus group ${g} concealed ${n} frames, its packet time has ${frames}`);
      } catch (e) {
        this.onError(`Opus group ${g} could not conceal: ${(e as Error).message}`);
      }
    }
    this.lastEmitted = this.pendingIndex;
    this.pendingIndex = -1;
    const f = this.frame;
    f.index = this.lastEmitted;
    f.timestamp = this.pendingTs;
    f.rtpTimestamp = this.pendingRtpTs;
    f.arrivalMs = this.pendingArrival;
    f.frames = frames;
    this.emit(f);
  }

  /** Decodes the held packets the order has come to; the rest wait from the oldest's arrival. */
  private release(nowMs: number): void {
    for (;;) {
      const expected = this.pendingIndex >= 0 ? this.pendingIndex : this.lastEmitted + 1;
      let k = -1;
      for (let i = 0; i < this.holdCount; i++) {
        if (this.holdIndex[i] <= expected) {
          k = i;
          break;
        }
      }
      if (k < 0) break;
      const index = this.holdIndex[k], g = this.holdGroup[k], ts = this.holdTs[k];
      const arrival = this.holdArrival[k];
      const data = this.holdData[k].subarray(0, this.holdLen[k]);
      this.unhold(k);
      if (index <= this.lastEmitted || (this.pendingIndex >= 0 && index < this.pendingIndex)) {
        this.counters.lateGroups++;
        this.onLate?.(this.scaled(ts), arrival);
        continue;
      }
      this.accept(index, g, ts, data, arrival);
    }
    if (this.holdCount === 0) return;
    let since = Infinity;
    for (let i = 0; i < this.holdCount; i++) since = Math.min(since, this.holdArrival[i]);
    this.holdSinceMs = Math.min(since, nowMs);
  }

  private hold(
    ext: number,
    index: number,
    g: number,
    timestamp: number,
    payload: Uint8Array,
    arrivalMs: number,
  ): void {
    for (let i = 0; i < this.holdCount; i++) {
      if (this.holdExt[i] === ext) {
        this.counters.duplicateGroups++;
        return;
      }
    }
    const k = this.holdCount++;
    if (k === 0) this.holdSinceMs = arrivalMs;
    if ((this.holdData[k]?.length ?? 0) < payload.length) {
      this.holdData[k] = new Uint8Array(Math.max(payload.length, 512));
    }
    this.holdData[k].set(payload);
    this.holdLen[k] = payload.length;
    this.holdExt[k] = ext;
    this.holdIndex[k] = index;
    this.holdGroup[k] = g;
    this.holdTs[k] = timestamp;
    this.holdArrival[k] = arrivalMs;
    this.counters.heldGroups++;
  }

  /** Removes held packet k (the last one takes its place; its buffer is kept for reuse). */
  private unhold(k: number): void {
    const last = --this.holdCount;
    if (k === last) return;
    const data = this.holdData[k];
    this.holdData[k] = this.holdData[last];
    this.holdData[last] = data;
    this.holdExt[k] = this.holdExt[last];
    this.holdIndex[k] = this.holdIndex[last];
    this.holdGroup[k] = this.holdGroup[last];
    this.holdTs[k] = this.holdTs[last];
    this.holdArrival[k] = this.holdArrival[last];
    this.holdLen[k] = this.holdLen[last];
  }

  private oldestHeldIndex(): number {
    let m = Infinity;
    for (let i = 0; i < this.holdCount; i++) m = Math.min(m, this.holdIndex[i]);
    return m;
  }

  /**
   * Keeps each packet time's first arrival; a packet older than the newest seen measures the
   * reordering: how long after the next packet time's first packet it came.
   */
  private noteArrival(index: number, arrivalMs: number): void {
    const r = ((index % ARRIVAL_RING) + ARRIVAL_RING) % ARRIVAL_RING;
    if (this.arrivalIndex[r] !== index) {
      this.arrivalIndex[r] = index;
      this.arrivalAt[r] = arrivalMs;
    }
    if (index >= this.newestIndex) {
      this.newestIndex = index;
      return;
    }
    const n = (((index + 1) % ARRIVAL_RING) + ARRIVAL_RING) % ARRIVAL_RING;
    if (this.arrivalIndex[n] === index + 1) {
      const wait = arrivalMs - this.arrivalAt[n];
      if (wait > 0) this.reorder.add(-wait, arrivalMs);
    }
  }

  /** The sequence numbering restarted: forget where group 0 is and what is pending. */
  reset(): void {
    this.discardPending();
    this.residue = -1;
    this.prevExt = -1;
    this.lastEmitted = -Infinity;
  }

  close(): void {
    for (const g of this.groups) g.decoder.close();
  }

  private discardPending(): void {
    this.pendingIndex = -1;
    this.lastEmitted = -Infinity;
    this.holdCount = 0;
    this.newestIndex = -Infinity;
    this.arrivalIndex.fill(-1);
  }

  private scatter(group: Group, frames: number): void {
    const n = this.channels;
    const cnt = group.count;
    const src = this.scratch;
    const dst = this.samples;
    for (let f = 0; f < frames; f++) {
      const o = f * n + group.first;
      const i = f * cnt;
      for (let c = 0; c < cnt; c++) dst[o + c] = Math.round(src[i + c] * OPUS_FULL_SCALE);
    }
  }

  /** The 48 kHz RTP timestamp on the decode rate's timeline, wrapping at 2^32. */
  private scaled(ts: number): number {
    if (this.sampleRate === OPUS_CLOCK_RATE) return ts;
    if (!this.tsStarted) {
      this.tsStarted = true;
      this.tsRaw = ts;
      this.tsExt = 0;
    }
    const d = (ts - this.tsRaw) | 0;
    const ext = this.tsExt + d;
    if (d > 0) {
      this.tsRaw = ts;
      this.tsExt = ext;
    }
    const s = Math.round((ext * this.sampleRate) / OPUS_CLOCK_RATE) % TWO_32;
    return s < 0 ? s + TWO_32 : s;
  }
}
