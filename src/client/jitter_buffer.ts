/**
 * The adaptive jitter buffer, runtime-neutral: "play only the latest packets"
 * (requirements, 최신 패킷만 재생; 적응형 버퍼링; 지터 임계값).
 *
 * Timing model. For a packet with (unwrapped) RTP timestamp ts arriving at
 * client time a:
 *
 *   transit  = a − ts · 1000 / rate                 (ms, up to a constant)
 *   base     = min(transit) over the last 2 s       (the fastest path; follows clock drift)
 *   lateness = transit − base                       (≥ 0)
 *   jitter   = 97th percentile of lateness over ~500 packets       (jitterMs)
 *   peak     = largest lateness over the last PEAK_WINDOW_MS, spike
 *              outliers apart (below)                              (peakMs)
 *   target   = clamp(peak + margin, minDelayMs, maxDelayMs)       (delayMs)
 *
 * The target covers every lateness the link showed lately, not a quantile
 * of it: a quantile leaves its tail late, and each late packet is a gap
 * (docs/loadtest/wifi/: on the stage-ap profile p97 + 2 ms took ~160
 * packets per 10 minutes for late outside any spike). A Wi-Fi delay spike
 * (tens to hundreds of ms for a few packets: a retry storm, a scan, power
 * save) is not the link's jitter: a lateness over max(OUTLIER_FACTOR × p99,
 * p99 + OUTLIER_MIN_MS) is counted as an outlier and kept out of the
 * estimate, so the spike's packets are concealed and the delay does not
 * jump for it (nor have to come back down). While outliers are common
 * (over OUTLIER_MAX_SHARE of recent packets) they are the link's behaviour
 * and count like any other lateness.
 *
 * The consumer (a sound card, a WAV writer, or a timer when nothing is
 * played) calls `read(out, frames, now)`; the block it gets ends at the media
 * position due now:
 *
 *   due_end(now) = (now − base − target) · rate / 1000
 *
 * The read position advances by `frames` per read and is steered towards
 * `due_end − frames` by skipping or repeating media (no resampling: the pitch
 * a musician tunes to stays put), at most SLEW_FRACTION of what is played, or
 * jumps when it is off by more than `maxDelayMs`. So the buffer never drifts
 * behind: what arrives after its frames were played is dropped, not queued.
 *
 * A skip or repeat is a splice, and a bare splice is a click: steering makes
 * few of them (one per SPLICE_EVERY_MS at most, each up to SPLICE_MAX_MS),
 * puts each where the media after the splice looks most like the media it
 * replaces (the best normalised correlation of the channels' sum over the
 * crossfade, among lengths from half the wanted step to the whole of it:
 * a pitch period where there is one), and crossfades across it over XFADE_MS
 * (raised cosine). Where nothing matches well (SPLICE_MATCH) it waits for a
 * longer step, up to SPLICE_MAX_MS, so a tone finds its period. A repeat plays
 * its frames again from a history of what was read; where the media after a
 * splice has not come, the crossfade starts from the last frame played.
 *
 * A gap (a lost or not-yet-arrived packet at its play time) is filled by the
 * mode of the current jitter against the client's thresholds:
 *
 *   jitter < interpolate         → linear interpolation from the last played
 *                                   frame to the next packet's first frame
 *                                   (or a fade while the next is not there)
 *   interpolate ≤ jitter < drop  → fade-out of the last frame (~20 ms)
 *   jitter ≥ drop                → silence
 *
 * A packet that comes after its start was concealed (or while the gap faded)
 * is merged into: the concealment, faded on, crossfades into its media over
 * XFADE_MS instead of jumping to it.
 *
 * When most packets over LATE_RESYNC_MS arrive after their frames were
 * played, spread over that time, the newest too (a Wi-Fi spike's are late,
 * but the packets after it come on time), the stream's timing moved (a source reopened with a timestamp jump shorter
 * than its silence, or a burst ahead of real time pulled the minimum down):
 * the transit minimum and the jitter are measured afresh and the read
 * position resyncs, instead of dropping packets until the old minimum leaves
 * its window. One stall's burst arrives at once and does not do this.
 *
 * Counters (summary fields): `concealedPackets` = missing packets whose slot
 * was interpolated or faded; `droppedPackets` = packets thrown away (arrived
 * after their frames were played, skipped by a jump, or beyond capacity)
 * plus missing packets left silent. A late packet therefore counts once in
 * each: its slot was concealed and the packet itself was dropped.
 */

import type { JitterThresholds } from "./api.ts";
import { GAP_CONCEALED, GAP_SILENT, GapLog, RESYNC } from "./gap_log.ts";
import { LatenessHistogram } from "./lateness_histogram.ts";
import type { DecodedPacket, PacketSink } from "./playout.ts";
import { WindowedMin } from "./windowed_min.ts";

export interface JitterBufferOptions {
  thresholds: JitterThresholds;
  /** Smallest target delay (ms). */
  minDelayMs?: number;
  /** Largest target delay (ms); default the interpolate threshold. */
  maxDelayMs?: number;
  /** Added to the jitter quantile (ms). */
  marginMs?: number;
  /** Keep the samples (false: timing and counters only, when nothing is played). */
  storeSamples?: boolean;
  /** Most packets held. */
  maxPackets?: number;
  /** Window of the transit minimum (ms). */
  baseWindowMs?: number;
}

/** A jitter buffer's read timing, as `readTiming` hands it to another thread. */
export interface ReadTiming {
  /** Wall ms at which media position 0 (unwrapped) is read; NaN before reading started. */
  offsetMs: number;
  /** A raw RTP timestamp and its unwrapped position, to unwrap others by. */
  tsRaw: number;
  tsU: number;
  rate: number;
}

/** `JitterBuffer.readTimeOf` from a copy of its timing. */
export function readTimeFrom(t: ReadTiming, timestamp: number): number {
  return t.offsetMs + ((t.tsU + ((timestamp - t.tsRaw) | 0)) * 1000) / t.rate;
}

export const DEFAULT_MIN_DELAY_MS = 5;
export const DEFAULT_MARGIN_MS = 2;
export const DEFAULT_BASE_WINDOW_MS = 2000;
export const JITTER_QUANTILE = 0.97;
/**
 * The delay target covers the largest lateness of this long (ms), in 4
 * buckets: a one-off rise leaves it 6–8 s later, so the latency is back
 * down within 10 s (the steering then takes it down at SLEW_FRACTION).
 */
export const PEAK_WINDOW_MS = 8000;
/** A lateness over max(OUTLIER_FACTOR × p99, p99 + OUTLIER_MIN_MS) is a spike's outlier. */
export const OUTLIER_QUANTILE = 0.99;
export const OUTLIER_FACTOR = 2.5;
export const OUTLIER_MIN_MS = 15;
/** Outliers are told apart once this many packets were measured… */
export const OUTLIER_MIN_PACKETS = 200;
/** …and only while they are at most this share of recent packets (~2000, 10 s of 5 ms packets). */
export const OUTLIER_MAX_SHARE = 0.05;
const OUTLIER_SHARE_WEIGHT = 1 / 2000;
/** The outlier limit is worked out again every this many packets (a histogram walk). */
const OUTLIER_LIMIT_EVERY = 16;
/** At most this share of what is played is skipped or repeated to steer the read position. */
export const SLEW_FRACTION = 0.05;
/** Steering splices at most once per this much media (ms)… */
export const SPLICE_EVERY_MS = 20;
/** …by at most this much (ms: a 100 Hz pitch period)… */
export const SPLICE_MAX_MS = 10;
/** …crossfading over this long (ms; at most one read's frames)… */
export const XFADE_MS = 2;
/** …where the media either side correlates at least this well, or at SPLICE_MAX_MS anyway. */
export const SPLICE_MATCH = 0.8;
/**
 * Steering works on a smoothed position error, with hysteresis: it starts
 * when the smoothed error exceeds STEER_START_MS and stops below DEADBAND_MS,
 * so the consumer's own timing noise (a browser callback a few ms late) is
 * averaged out instead of being answered with skips and repeats.
 */
export const DEADBAND_MS = 0.5;
export const STEER_START_MS = 2;
/** Weight of a new read's error in the smoothed error. */
export const ERROR_SMOOTHING = 0.05;
/**
 * Most packets arriving over this long (ms) came after their frames were
 * played, the newest of them too: the stream's timing moved (a source
 * reopened with a timestamp jump shorter than the silence, a burst ahead of
 * real time before it), not one stall, and not a Wi-Fi spike. A spike's
 * packets are late, but those sent after it come on time again (and newer):
 * the newest packet is not late once the spike is over, at most its span
 * minus its extra delay after its first late packet (the profiles' spikes:
 * 200 − 100 ms at most). Without the newest-packet check a 40 ms window
 * resynced on most spikes, a click and a latency jump each time
 * (docs/loadtest/wifi/).
 */
export const LATE_RESYNC_MS = 120;
/** A fade-out reaches −60 dB after this long (ms). */
export const FADE_MS = 20;
const DEFAULT_MAX_PACKETS = 512;
const DEFAULT_PACKET_FRAMES = 240;
const L24_FULL_SCALE = 0x80_0000;

export type GapMode = "interpolate" | "fade" | "silence";

/** Raised-cosine weight of the faded-out side at frame `f` of a `k`-frame crossfade (1 → 0). */
function fadeOutWeight(f: number, k: number): number {
  return 0.5 + 0.5 * Math.cos((Math.PI * (f + 0.5)) / k);
}

export class JitterBuffer implements PacketSink {
  concealedPackets = 0;
  droppedPackets = 0;
  /** Of `droppedPackets`: arrived after their frames were played. */
  latePackets = 0;
  playedPackets = 0;
  /** Frames rendered while no packet covered the read position. */
  concealedFrames = 0;
  skippedFrames = 0;
  repeatedFrames = 0;
  resyncs = 0;
  /** Each concealed stretch and each resync, with its time (./gap_log.ts; benches drain it). */
  readonly events = new GapLog();
  thresholds: JitterThresholds;

  private readonly minDelayMs: number;
  private readonly maxDelayMsOpt: number | undefined;
  private readonly marginMs: number;
  private readonly storeSamples: boolean;
  private readonly maxPackets: number;
  private readonly base: WindowedMin;
  private readonly hist: LatenessHistogram;
  /** −lateness, so its windowed minimum is the largest lateness (outliers apart). */
  private readonly peak = new WindowedMin(PEAK_WINDOW_MS);
  private outlierLimitMs = Infinity;
  private sinceLimit = 0;
  private outlierShare = 0;
  /** Packets whose lateness was kept out of the estimate as a spike's outlier. */
  outliers = 0;

  private started = false;
  private rate = 48000;
  private channels = 0;
  private lastTsRaw = 0;
  private lastTsU = 0;
  private framesGuess = DEFAULT_PACKET_FRAMES;
  // Packet slots; `order` holds slot indices sorted by timestamp.
  private slotSeq: number[] = [];
  private slotTs: number[] = [];
  private slotFrames: number[] = [];
  private slotPlayed: boolean[] = [];
  private slotData: Float32Array[] = [];
  private free: number[] = [];
  private order: number[] = [];
  private readInit = false;
  private readPos = 0;
  /** Smoothed (dueStart − readPos), frames; and whether steering is on. */
  private errAvg = 0;
  private steering = false;
  /** Frames read since the last splice, and since the last try for one. */
  private sinceSplice = 0;
  private sinceAttempt = 0;
  /** Scratch: the channels' sum around a splice, and the media the crossfade fades out. */
  private monoScratch = new Float32Array(0);
  private xfade = new Float32Array(0);
  /**
   * The media last read, up to SPLICE_MAX_MS (a ring, interleaved): a repeat splices back into
   * frames whose packets are gone. `histLen` frames end at the read position; `histAt` is where
   * the next frame is written.
   */
  private history = new Float32Array(0);
  private histFrames = 0;
  private histLen = 0;
  private histAt = 0;
  /**
   * A merge out of a concealment: its last frame (`mergeFrom`, faded on as the gap would have
   * been) crossfaded into the media over `mergeLen` frames, `mergeAt` of them done. The slot the
   * concealment interpolated towards (−1: it faded), which needs no merge.
   */
  private mergeFrom = new Float32Array(0);
  private mergeLen = 0;
  private mergeAt = 0;
  private concealedToward = -1;
  /** A repeat's frames (copied from the history when it is made), and how many were played. */
  private replay = new Float32Array(0);
  private replayLen = 0;
  private replayAt = 0;
  private prevSeq = -1;
  private gapMode: GapMode = "interpolate";
  private inGap = false;
  private last = new Float32Array(0);
  private fadeCoef = 1;
  /** A run of late packets: arrival of its first and last late one (NaN: none), late and all. */
  private lateSinceMs = NaN;
  private lateLastMs = 0;
  private lateCount = 0;
  private lateSeen = 0;
  /** The highest sequence number seen, and whether that packet came late. */
  private newestSeq = -1;
  private newestLate = false;

  constructor(opts: JitterBufferOptions) {
    this.thresholds = opts.thresholds;
    this.minDelayMs = opts.minDelayMs ?? DEFAULT_MIN_DELAY_MS;
    this.maxDelayMsOpt = opts.maxDelayMs;
    this.marginMs = opts.marginMs ?? DEFAULT_MARGIN_MS;
    this.storeSamples = opts.storeSamples ?? true;
    this.maxPackets = opts.maxPackets ?? DEFAULT_MAX_PACKETS;
    this.base = new WindowedMin(opts.baseWindowMs ?? DEFAULT_BASE_WINDOW_MS);
    this.hist = new LatenessHistogram(Math.max(1000, this.thresholds.drop * 2));
  }

  get maxDelayMs(): number {
    return Math.max(this.minDelayMs, this.maxDelayMsOpt ?? this.thresholds.interpolate);
  }

  /** The 97th percentile of lateness (ms). */
  get jitterMs(): number {
    return this.hist.quantile(JITTER_QUANTILE);
  }

  /** The largest lateness (ms) of the last PEAK_WINDOW_MS, spike outliers apart. */
  get peakMs(): number {
    const v = -this.peak.value;
    return v > 0 ? v : 0;
  }

  /** The target delay (ms) the read position is steered to. */
  get delayMs(): number {
    return Math.min(this.maxDelayMs, Math.max(this.minDelayMs, this.peakMs + this.marginMs));
  }

  /**
   * The timing of a packet that will not be pushed (an Opus packet time dropped before decoding
   * because a newer one was decoded first): its lateness still counts in the delay, so what
   * comes that late is waited for next time.
   */
  noteTiming(timestamp: number, arrivalMs: number): void {
    if (this.started) this.measureArrival(this.unwrap(timestamp), arrivalMs);
  }

  /**
   * When, by the timing now, the frame at RTP timestamp `timestamp` is read (wall ms): a packet
   * starting there that comes later is concealed. NaN before reading started.
   */
  readTimeOf(timestamp: number): number {
    if (!this.readInit) return NaN;
    return this.base.value + this.delayMs + (this.unwrap(timestamp) * 1000) / this.rate;
  }

  /** What `readTimeOf` rests on, for a copy of it in another thread (`readTimeFrom`). */
  get readTiming(): ReadTiming {
    return {
      offsetMs: this.readInit ? this.base.value + this.delayMs : NaN,
      tsRaw: this.lastTsRaw,
      tsU: this.lastTsU,
      rate: this.rate,
    };
  }

  /** Media held ahead of the read position (ms), up to the newest packet's end. */
  get bufferedMs(): number {
    if (this.order.length === 0 || !this.readInit) return 0;
    const s = this.order[this.order.length - 1];
    return Math.max(0, (this.slotTs[s] + this.slotFrames[s] - this.readPos) * 1000 / this.rate);
  }

  get heldPackets(): number {
    return this.order.length;
  }

  get sampleRate(): number {
    return this.rate;
  }

  get channelCount(): number {
    return this.channels;
  }

  get gapModeNow(): GapMode {
    const j = this.jitterMs;
    if (j >= this.thresholds.drop) return "silence";
    if (j >= this.thresholds.interpolate) return "fade";
    return "interpolate";
  }

  reset(): void {
    this.started = false;
    this.readInit = false;
    this.errAvg = 0;
    this.steering = false;
    this.prevSeq = -1;
    this.newestSeq = -1;
    this.inGap = false;
    this.lateSinceMs = NaN;
    this.base.clear();
    this.clearEstimate();
    for (const s of this.order) this.free.push(s);
    this.order.length = 0;
  }

  push(p: DecodedPacket): void {
    if (!this.started || p.clockRate !== this.rate || p.channels !== this.channels) {
      if (this.started) this.reset();
      this.start(p);
    }
    const tsU = this.unwrap(p.timestamp);
    if (tsU > this.lastTsU) {
      this.lastTsRaw = p.timestamp >>> 0;
      this.lastTsU = tsU;
    }
    const transit = this.measureArrival(tsU, p.arrivalMs);

    const frames = p.frames > 0 ? p.frames : this.framesGuess;
    if (p.frames > 0) this.framesGuess = p.frames;
    const late = this.readInit && tsU + frames <= this.readPos;
    if (p.sequence > this.newestSeq) {
      this.newestSeq = p.sequence;
      this.newestLate = late;
    }
    if (!this.lateForLong(late, transit, p.arrivalMs) && late) {
      this.droppedPackets++;
      this.latePackets++;
      return;
    }
    if (p.sequence <= this.prevSeq) { // its slot was passed (skipped or concealed)
      this.droppedPackets++;
      this.latePackets++;
      return;
    }
    for (const s of this.order) if (this.slotSeq[s] === p.sequence) return; // duplicate
    if (this.order.length >= this.maxPackets) this.evict(this.order[0]);
    const slot = this.free.pop() ?? this.newSlot();
    this.slotSeq[slot] = p.sequence;
    this.slotTs[slot] = tsU;
    this.slotFrames[slot] = frames;
    this.slotPlayed[slot] = false;
    if (this.storeSamples) this.copySamples(slot, p, frames);
    let i = this.order.length;
    while (i > 0 && this.slotTs[this.order[i - 1]] > tsU) i--;
    this.order.splice(i, 0, slot);
  }

  /**
   * Renders the next `frames` frames (interleaved, `channelCount` channels) into
   * `out`, or only advances and counts when `out` is null. Before the first
   * packet, and for a stream without samples, the output is silence.
   */
  read(out: Float32Array | null, frames: number, nowMs: number): void {
    const ch = this.channels;
    if (!this.started) {
      out?.fill(0, 0, frames * Math.max(ch, 1));
      return;
    }
    const dueStart = Math.round(
      ((nowMs - this.base.value - this.delayMs) * this.rate) / 1000 - frames,
    );
    /** Frames of `xfade` (the media a splice cut away) to fade out over the block's start. */
    let xfadeFrames = 0;
    if (!this.readInit) {
      this.readInit = true;
      this.readPos = dueStart;
      this.errAvg = 0;
      this.steering = false;
      this.sinceSplice = 0;
      this.histLen = 0;
      this.replayLen = 0;
    } else {
      const err = dueStart - this.readPos;
      const maxErr = (this.maxDelayMs * this.rate) / 1000;
      if (Math.abs(err) > maxErr) {
        this.resyncs++;
        this.events.add(nowMs, 0, RESYNC);
        this.lateSinceMs = NaN; // a late run before this jump is answered by it
        this.readPos = dueStart;
        this.errAvg = 0;
        this.steering = false;
        this.histLen = 0;
        this.replayLen = 0;
      } else {
        this.errAvg += (err - this.errAvg) * ERROR_SMOOTHING;
        const abs = Math.abs(this.errAvg);
        if (abs > (STEER_START_MS * this.rate) / 1000) this.steering = true;
        else if (abs < (DEADBAND_MS * this.rate) / 1000) this.steering = false;
        if (this.steering) xfadeFrames = this.steer(frames, out !== null);
      }
    }
    this.sinceSplice += frames;
    this.sinceAttempt += frames;
    let done = 0;
    if (this.replayAt < this.replayLen) { // a repeat's frames, from the history
      const n = Math.min(frames, this.replayLen - this.replayAt);
      if (out !== null && this.storeSamples && ch > 0) {
        out.set(this.replay.subarray(this.replayAt * ch, (this.replayAt + n) * ch), 0);
        this.last.set(out.subarray((n - 1) * ch, n * ch));
      } else out?.fill(0, 0, n * Math.max(ch, 1));
      this.replayAt += n;
      done = n;
    }
    while (done < frames) {
      const q = this.readPos + done;
      this.discardBefore(q);
      const s = this.order.length > 0 ? this.order[0] : -1;
      if (s >= 0 && this.slotTs[s] <= q) {
        const off = q - this.slotTs[s];
        const n = Math.min(frames - done, this.slotFrames[s] - off);
        // Back from a concealment that did not lead into these frames (the packet came after
        // its start was concealed, or while the gap was fading out): merge into it, not jump.
        if (out !== null && this.inGap && (off > 0 || this.concealedToward !== s)) {
          this.startMerge();
        }
        this.play(s);
        if (out !== null) {
          const data = this.slotData[s];
          if (this.storeSamples && data !== undefined) {
            out.set(data.subarray(off * ch, (off + n) * ch), done * ch);
            this.last.set(data.subarray((off + n - 1) * ch, (off + n) * ch));
            if (this.mergeAt < this.mergeLen) this.merge(out, done, n);
          } else out.fill(0, done * ch, (done + n) * ch);
        }
        done += n;
      } else {
        const gapEnd = s >= 0 ? this.slotTs[s] : Infinity;
        const n = Math.min(frames - done, gapEnd - q);
        if (!this.inGap) {
          this.inGap = true;
          this.gapMode = this.gapModeNow;
        }
        this.concealedFrames += n;
        if (out !== null) this.conceal(out, done, n, s, gapEnd - q);
        done += n;
      }
    }
    if (out !== null && this.storeSamples) this.keepHistory(out, frames);
    if (xfadeFrames > 0 && out !== null) this.crossfade(out, xfadeFrames, frames);
    this.readPos += frames;
  }

  // ---- internals -----------------------------------------------------------

  /**
   * One steering decision before a read of `frames`: splices (moves the read position) when one
   * is due and a good place, or a long enough wait, is found. Returns how many frames of the media
   * it left (in `xfade`) to crossfade from; 0 for none.
   */
  private steer(frames: number, render: boolean): number {
    const want = Math.round(this.errAvg);
    // One attempt per SPLICE_EVERY_MS (a wait for a better match tries again that much later).
    if (want === 0 || this.sinceAttempt < (SPLICE_EVERY_MS * this.rate) / 1000) return 0;
    this.sinceAttempt = 0;
    const max = Math.round((SPLICE_MAX_MS * this.rate) / 1000);
    const budget = Math.min(max, Math.ceil(this.sinceSplice * SLEW_FRACTION));
    let lim = Math.max(1, Math.min(Math.abs(want), budget));
    const dir = want > 0 ? 1 : -1;
    const k = Math.min(frames, this.xfadeLen);
    const old = this.readPos;
    const samples = render && this.storeSamples && this.channels > 0;
    let faded = 0;
    // A repeat goes back at most as far as the media read since the last splice. (A skip may
    // land past the media held: the stream is late, and its late run resyncs the buffer.)
    if (dir < 0 && samples) lim = Math.min(lim, this.histLen);
    if (lim <= 0) return 0;
    let step = dir * lim;
    if (samples) {
      // The channels' sum from the earliest to the latest frame a candidate compares.
      const lo = dir > 0 ? old : old - lim;
      const n = lim + k;
      if (this.monoScratch.length < n) this.monoScratch = new Float32Array(n);
      if (this.peek(this.monoScratch, lo, n, true)) {
        const m = this.monoScratch;
        const ref = old - lo; // where the media that would play next starts in `m`
        let refEnergy = 0;
        for (let f = 0; f < k; f++) refEnergy += m[ref + f] * m[ref + f];
        let best = -2, bestStep = step;
        for (let s = Math.ceil(lim / 2); s <= lim; s++) {
          const at = ref + dir * s;
          let dot = 0, energy = 0;
          for (let f = 0; f < k; f++) {
            dot += m[ref + f] * m[at + f];
            energy += m[at + f] * m[at + f];
          }
          const corr = refEnergy > 1e-12 && energy > 1e-12
            ? dot / Math.sqrt(refEnergy * energy)
            : 1; // silence matches silence
          if (corr > best + 1e-9) {
            best = corr;
            bestStep = dir * s;
          }
        }
        // Nothing alike yet: wait for a longer step (a lower pitch's period), up to the most.
        if (best < SPLICE_MATCH && budget < max && lim === budget) return 0;
        step = bestStep;
      }
      // Fade out of the media that would have played next, or, where it has not come, out of
      // the last frame played (held): either way the output goes on from where it was.
      const ch = this.channels;
      if (this.xfade.length < k * ch) this.xfade = new Float32Array(k * ch);
      if (!this.peek(this.xfade, old, k, false)) {
        for (let f = 0; f < k; f++) this.xfade.set(this.last, f * ch);
      }
      faded = k;
    }
    if (step < 0) {
      // The repeated frames are played again from the history (their packets may be gone).
      const n = -step, ch = this.channels;
      if (samples) {
        if (this.replay.length < n * ch) this.replay = new Float32Array(n * ch);
        if (!this.peek(this.replay, old - n, n, false)) this.replay.fill(0, 0, n * ch);
      }
      this.replayLen = n;
      this.replayAt = 0;
    }
    if (step > 0) this.skippedFrames += step;
    else this.repeatedFrames -= step;
    this.readPos += step;
    this.errAvg -= step;
    this.sinceSplice = 0;
    this.histLen = 0; // the media read from here on is contiguous again
    return faded;
  }

  /** XFADE_MS in frames (at least one): a splice's crossfade and a merge's. */
  private get xfadeLen(): number {
    return Math.max(1, Math.round((XFADE_MS * this.rate) / 1000));
  }

  /** Starts merging from the concealment's last frame into the media about to play. */
  private startMerge(): void {
    if (!this.storeSamples || this.channels === 0) return;
    if (this.mergeFrom.length !== this.channels) this.mergeFrom = new Float32Array(this.channels);
    this.mergeFrom.set(this.last);
    this.mergeLen = this.xfadeLen;
    this.mergeAt = 0;
  }

  /** Crossfades frames [at, at + n) of `out` from the concealment (faded on) into the media. */
  private merge(out: Float32Array, at: number, n: number): void {
    const ch = this.channels;
    const from = this.mergeFrom;
    const m = Math.min(n, this.mergeLen - this.mergeAt);
    const fade = this.gapMode === "silence" ? 0 : this.fadeCoef;
    for (let f = 0; f < m; f++) {
      const w = fadeOutWeight(this.mergeAt + f, this.mergeLen);
      const o = (at + f) * ch;
      for (let c = 0; c < ch; c++) {
        from[c] *= fade;
        out[o + c] = w * from[c] + (1 - w) * out[o + c];
      }
    }
    this.mergeAt += m;
    if (m === n) this.last.set(out.subarray((at + n - 1) * ch, (at + n) * ch));
  }

  /** Appends the block just read (before any crossfade) to the history ring. */
  private keepHistory(out: Float32Array, frames: number): void {
    const ch = this.channels;
    if (ch === 0) return;
    const size = Math.round((SPLICE_MAX_MS * this.rate) / 1000);
    if (this.histFrames !== size || this.history.length !== size * ch) {
      this.histFrames = size;
      this.history = new Float32Array(size * ch);
      this.histLen = 0;
      this.histAt = 0;
    }
    const from = Math.max(0, frames - size); // only the last `size` frames matter
    let f = from;
    while (f < frames) {
      const n = Math.min(frames - f, size - this.histAt);
      this.history.set(out.subarray(f * ch, (f + n) * ch), this.histAt * ch);
      this.histAt = (this.histAt + n) % size;
      f += n;
    }
    this.histLen = Math.min(size, this.histLen + frames - from);
  }

  /** Fades from the media the splice cut away (`xfade`) into the block just rendered. */
  private crossfade(out: Float32Array, k: number, frames: number): void {
    const ch = this.channels;
    const x = this.xfade;
    for (let f = 0; f < k; f++) {
      const w = fadeOutWeight(f, k);
      const o = f * ch;
      for (let c = 0; c < ch; c++) out[o + c] = w * x[o + c] + (1 - w) * out[o + c];
    }
    if (k === frames) this.last.set(out.subarray((k - 1) * ch, k * ch));
  }

  /**
   * Copies the held media of frames [pos, pos + n) into `dst` (interleaved, or the channels'
   * sum when `mono`) without playing it; false when part of it is not held (a gap).
   */
  private peek(dst: Float32Array, pos: number, n: number, mono: boolean): boolean {
    const ch = this.channels;
    let done = 0;
    if (pos < this.readPos) { // already read: from the history
      const back = this.readPos - pos;
      if (back > this.histLen) return false;
      const m = Math.min(n, back);
      let at = (this.histAt - back + this.histFrames) % this.histFrames;
      for (let f = 0; f < m; f++) {
        const b = at * ch;
        if (mono) {
          let sum = 0;
          for (let c = 0; c < ch; c++) sum += this.history[b + c];
          dst[f] = sum;
        } else for (let c = 0; c < ch; c++) dst[f * ch + c] = this.history[b + c];
        if (++at === this.histFrames) at = 0;
      }
      done = m;
    }
    for (let i = 0; i < this.order.length && done < n; i++) {
      const s = this.order[i];
      const ts = this.slotTs[s], fr = this.slotFrames[s];
      const q = pos + done;
      if (ts + fr <= q) continue;
      if (ts > q) return false;
      const off = q - ts;
      const m = Math.min(n - done, fr - off);
      const data = this.slotData[s];
      if (mono) {
        for (let f = 0; f < m; f++) {
          let sum = 0;
          const b = (off + f) * ch;
          for (let c = 0; c < ch; c++) sum += data[b + c];
          dst[done + f] = sum;
        }
      } else dst.set(data.subarray(off * ch, (off + m) * ch), done * ch);
      done += m;
    }
    return done >= n;
  }

  /** A timestamp's position on the unwrapped timeline of the newest packet's. */
  private unwrap(timestamp: number): number {
    return this.lastTsU + ((timestamp - this.lastTsRaw) | 0);
  }

  /** Feeds an arrival to the transit minimum and the lateness estimate; returns its transit. */
  private measureArrival(tsU: number, arrivalMs: number): number {
    const transit = arrivalMs - (tsU * 1000) / this.rate;
    this.base.add(transit, arrivalMs);
    this.measure(transit - this.base.value, arrivalMs);
    return transit;
  }

  /**
   * Watches for a run of late packets (`late`: this one came after its frames
   * were played). True when, over `LATE_RESYNC_MS` of arrivals since the
   * first late one, at least half were late and the late ones were spread
   * over half that time (not one stall's burst), and the newest packet is
   * late too (not a spike, after which newer packets come on time): the timing is then measured
   * afresh from this packet (transit minimum and jitter restart) and the next
   * read resyncs to it.
   */
  private lateForLong(late: boolean, transit: number, arrivalMs: number): boolean {
    if (Number.isNaN(this.lateSinceMs)) {
      if (!late) return false;
      this.lateSinceMs = this.lateLastMs = arrivalMs;
      this.lateCount = this.lateSeen = 0;
    }
    this.lateSeen++;
    if (late) {
      this.lateCount++;
      this.lateLastMs = arrivalMs;
    }
    if (arrivalMs - this.lateSinceMs < LATE_RESYNC_MS) return false;
    const moved = 2 * this.lateCount >= this.lateSeen &&
      2 * (this.lateLastMs - this.lateSinceMs) >= LATE_RESYNC_MS && this.newestLate;
    this.lateSinceMs = NaN;
    if (!moved) return false;
    this.base.clear();
    this.base.add(transit, arrivalMs);
    this.clearEstimate();
    this.measure(0, arrivalMs);
    this.readInit = false;
    this.resyncs++;
    this.events.add(arrivalMs, 0, RESYNC);
    return true;
  }

  /** One packet's lateness into the estimate, unless it is a spike's outlier. */
  private measure(latenessMs: number, arrivalMs: number): void {
    if (++this.sinceLimit >= OUTLIER_LIMIT_EVERY) {
      this.sinceLimit = 0;
      const p99 = this.hist.quantile(OUTLIER_QUANTILE);
      this.outlierLimitMs = this.hist.count < OUTLIER_MIN_PACKETS ||
          this.outlierShare > OUTLIER_MAX_SHARE
        ? Infinity
        : Math.max(OUTLIER_FACTOR * p99, p99 + OUTLIER_MIN_MS);
    }
    const outlier = latenessMs > this.outlierLimitMs;
    this.outlierShare += ((outlier ? 1 : 0) - this.outlierShare) * OUTLIER_SHARE_WEIGHT;
    if (outlier) {
      this.outliers++;
      return;
    }
    this.hist.add(latenessMs);
    this.peak.add(-latenessMs, arrivalMs);
  }

  private clearEstimate(): void {
    this.hist.clear();
    this.peak.clear();
    this.outlierLimitMs = Infinity;
    this.sinceLimit = 0;
    this.outlierShare = 0;
  }

  private start(p: DecodedPacket): void {
    this.started = true;
    this.rate = p.clockRate;
    this.channels = p.channels;
    this.lastTsRaw = p.timestamp >>> 0;
    this.lastTsU = 0;
    this.readInit = false;
    this.errAvg = 0;
    this.steering = false;
    this.prevSeq = -1;
    this.newestSeq = -1;
    this.inGap = false;
    if (this.last.length !== p.channels) this.last = new Float32Array(p.channels);
    this.last.fill(0);
    this.fadeCoef = Math.exp(Math.log(0.001) / ((FADE_MS / 1000) * this.rate));
  }

  private newSlot(): number {
    const i = this.slotSeq.length;
    this.slotSeq.push(0);
    this.slotTs.push(0);
    this.slotFrames.push(0);
    this.slotPlayed.push(false);
    this.slotData.push(new Float32Array(0));
    return i;
  }

  private copySamples(slot: number, p: DecodedPacket, frames: number): void {
    const n = frames * p.channels;
    if (this.slotData[slot].length < n) this.slotData[slot] = new Float32Array(n);
    const data = this.slotData[slot];
    if (p.frames === 0) {
      data.fill(0, 0, n);
      return;
    }
    const k = 1 / (p.fullScale ?? L24_FULL_SCALE);
    for (let i = 0; i < n; i++) data[i] = p.samples[i] * k;
  }

  /** First play of a packet: closes the gap before it and counts its missing packets. */
  private play(s: number): void {
    if (this.slotPlayed[s]) return;
    this.slotPlayed[s] = true;
    this.playedPackets++;
    const seq = this.slotSeq[s];
    if (this.prevSeq >= 0 && seq > this.prevSeq + 1) {
      const missing = seq - this.prevSeq - 1;
      const silent = this.inGap && this.gapMode === "silence";
      if (silent) this.droppedPackets += missing;
      else this.concealedPackets += missing;
      // When the first missing packet would have come at the fastest transit seen.
      const firstTs = this.slotTs[s] - missing * this.framesGuess;
      this.events.add(
        this.base.value + (firstTs * 1000) / this.rate,
        missing,
        silent ? GAP_SILENT : GAP_CONCEALED,
      );
    }
    if (seq > this.prevSeq) this.prevSeq = seq;
    this.inGap = false;
  }

  /** Frees packets whose frames all lie before position `q`; unplayed ones count as dropped. */
  private discardBefore(q: number): void {
    while (this.order.length > 0) {
      const s = this.order[0];
      if (this.slotTs[s] + this.slotFrames[s] > q) return;
      this.evict(s);
    }
  }

  private evict(s: number): void {
    const i = this.order.indexOf(s);
    if (i >= 0) this.order.splice(i, 1);
    if (!this.slotPlayed[s]) {
      this.droppedPackets++;
      if (this.slotSeq[s] > this.prevSeq) this.prevSeq = this.slotSeq[s];
    }
    this.free.push(s);
  }

  /** Fills `n` frames at `out[at…]` for a gap; `next` is the packet after it (−1: none yet). */
  private conceal(out: Float32Array, at: number, n: number, next: number, gapLeft: number): void {
    const ch = this.channels;
    const last = this.last;
    const mode = this.gapMode;
    if (mode === "silence") {
      out.fill(0, at * ch, (at + n) * ch);
      last.fill(0);
      this.concealedToward = -1;
      return;
    }
    const target = mode === "interpolate" && next >= 0 && this.storeSamples
      ? this.slotData[next]
      : null;
    this.concealedToward = target !== null ? next : -1;
    for (let f = 0; f < n; f++) {
      const o = (at + f) * ch;
      if (target !== null) {
        const steps = gapLeft - f + 1; // linear ramp: reaches the next frame one step after the gap
        for (let c = 0; c < ch; c++) last[c] += (target[c] - last[c]) / steps;
      } else {
        for (let c = 0; c < ch; c++) last[c] *= this.fadeCoef;
      }
      for (let c = 0; c < ch; c++) out[o + c] = last[c];
    }
  }
}
