/**
 * A rate stream's converter: native-rate periods in, periods at another rate
 * out (band-limited, libsamplerate via src/audio/resampler.ts), shared by every
 * client at that rate. Output periods carry their own frame index on the
 * output timeline and the capture time of the input instant they represent.
 *
 * Only the channels some client at that rate receives are converted
 * (`setChannels`): the others stay 0 in the output period. Resampling costs
 * per channel (16 channels at 44.1 kHz were ~9 % of a core, profiled, on the load test's
 * box for a phone listening to six of them). When the set changes (a phone
 * joins or leaves) the converter is rebuilt for the new set and warmed up on
 * the last input frames it kept, from a point where the old one was in the
 * same filter phase: the channels that stay continue sample for sample (no
 * restart, no gap on the output timeline), a new channel starts on real history.
 */
import { Resampler } from "./resampler.ts";
import type { Period } from "./source.ts";

/** Turns native-rate periods into periods at another rate (issue: resampling). */
export interface RateConverter {
  /** The source rate it was made for: a source restarting at another rate gets a new one. */
  readonly inputRate: number;
  readonly outputRate: number;
  /**
   * The channel ids (1-based) that must be converted from now on; the others come out as 0.
   * Until it is called, every channel is converted.
   */
  setChannels?(ids: readonly number[]): void;
  /** Converted period, or null while the converter is still filling. */
  process(period: Period): Period | null;
  close(): void;
}

export type RateConverterFactory = (inputRate: number, outputRate: number) => RateConverter;

export class ResamplingConverter implements RateConverter {
  private rs: Resampler | null = null;
  private readonly out: Period;
  /** Source frame index and capture time of the first input frame since (re)start. */
  private inputOrigin = 0;
  private originCaptureMs = 0;
  private expected = -1;
  /** Input frames consumed and output frames emitted since (re)start. */
  private consumed = 0;
  private emitted = 0;
  /** Channel ids asked for (null: all), and whether the resampler was built for them. */
  private wanted: number[] | null = null;
  private wantedChanged = false;
  /** 0-based columns of the input that the resampler converts, in order. */
  private columns = new Int32Array(0);
  private width = 0;
  private compactIn = new Int32Array(0);
  private compactOut = new Int32Array(0);
  /** The last input frames at full width (a ring), to warm a rebuilt resampler. */
  private history = new Int32Array(0);
  private historyFrames = 0;
  /** Largest period the buffers are sized for. */
  private maxIn = 0;
  /** Whole numbers of input frames that map to whole numbers of output frames (48000 → 44100: 160). */
  private readonly step: number;

  constructor(
    readonly inputRate: number,
    readonly outputRate: number,
    private readonly maxInputFrames: number,
  ) {
    this.out = {
      data: new Int32Array(0),
      frames: 0,
      channels: 0,
      sampleRate: outputRate,
      frameIndex: 0,
      captureTimeMs: 0,
    };
    this.step = inputRate / gcd(inputRate, outputRate);
  }

  setChannels(ids: readonly number[]): void {
    const next = [...new Set(ids)].filter((id) => Number.isInteger(id) && id >= 1).sort((a, b) =>
      a - b
    );
    if (this.wanted && sameList(this.wanted, next)) return;
    this.wanted = next;
    this.wantedChanged = true;
  }

  process(p: Period): Period | null {
    if (p.channels !== this.width || p.frames > this.maxIn) this.rebuildAll(p);
    if (p.frameIndex !== this.expected) {
      // A gap in the source (start, overrun): restart the filter on the new timeline.
      this.restart(p);
    } else if (this.wantedChanged) {
      this.rebuildForChannels(true);
    }
    this.expected = p.frameIndex + p.frames;
    const out = this.out;
    const firstOut = this.emitted;
    const n = this.convert(p.data, p.frames, out.data);
    this.remember(p.data, p.frames);
    this.consumed += p.frames;
    this.emitted += n;
    if (n === 0) return null;
    out.frames = n;
    // On the output timeline, continuing across gaps like the source's own index does.
    out.frameIndex = Math.round((this.inputOrigin * this.outputRate) / this.inputRate) + firstOut;
    out.captureTimeMs = this.originCaptureMs +
      (((firstOut * this.inputRate) / this.outputRate) * 1000) / this.inputRate;
    return out;
  }

  close(): void {
    this.rs?.close();
    this.rs = null;
  }

  /** A new input width or a longer period: every buffer anew, the stream restarts. */
  private rebuildAll(p: Period): void {
    this.width = p.channels;
    this.maxIn = Math.max(this.maxInputFrames, p.frames);
    this.out.channels = p.channels;
    this.expected = -1;
    this.rebuildForChannels(false);
    // Sized for every channel (the most a channel set can need).
    const maxOut = this.rs!.maxOutputFrames;
    this.out.data = new Int32Array(maxOut * p.channels);
    this.compactIn = new Int32Array(this.maxIn * p.channels);
    this.compactOut = new Int32Array(maxOut * p.channels);
    // Warming starts at most 2 × the priming length + one phase step back (rebuildForChannels).
    this.history = new Int32Array((2 * this.rs!.primeFrames + this.step) * p.channels);
  }

  private restart(p: Period): void {
    if (this.wantedChanged) this.rebuildForChannels(false);
    this.rs!.reset();
    this.inputOrigin = p.frameIndex;
    this.originCaptureMs = p.captureTimeMs;
    this.consumed = 0;
    this.emitted = 0;
    this.historyFrames = 0;
  }

  /**
   * A resampler for the wanted channels. `warm`: fed the kept input from frame S (a
   * multiple of the phase step, so it is in the old one's filter phase), far enough back
   * that the output it has to continue with was computed from real input only; its output
   * up to what was already emitted is dropped.
   */
  private rebuildForChannels(warm: boolean): void {
    this.wantedChanged = false;
    const width = this.width;
    const ids = (this.wanted ?? Array.from({ length: width }, (_, i) => i + 1)).filter((id) =>
      id <= width
    );
    this.columns = Int32Array.from(ids.length > 0 ? ids : [1], (id) => id - 1);
    this.rs?.close();
    this.rs = new Resampler({
      inputRate: this.inputRate,
      outputRate: this.outputRate,
      channels: this.columns.length,
      maxInputFrames: this.maxIn,
    });
    // Channels no longer converted must not keep their last values.
    this.out.data.fill(0);
    if (!warm) return;
    const back = 2 * this.rs.primeFrames;
    // At most back + step − 1 frames before the end: all of it is in the ring (2 × priming + a
    // step, or everything since the restart).
    const start = Math.max(0, Math.floor((this.consumed - back) / this.step) * this.step);
    // The warmed resampler's output frame 0 is the signal at input frame `start`; what it
    // produces up to the end of the kept input was emitted already and is dropped.
    let produced = (start * this.outputRate) / this.inputRate;
    for (let at = start; at < this.consumed;) {
      const frames = Math.min(this.rs.maxInputFrames, this.consumed - at);
      produced += this.convertKept(at, frames);
      at += frames;
    }
    // Same filter, same phase: exactly what the old one emitted (the tests check every frame
    // index). Were rounding ever to differ, the output timeline follows the new resampler.
    this.emitted = produced;
  }

  /** Converts the kept input frames `at .. at+frames` (since restart); output in compactOut. */
  private convertKept(at: number, frames: number): number {
    const width = this.width;
    const keep = this.history.length / width;
    const cols = this.columns;
    const k = cols.length;
    const h = this.history;
    const ci = this.compactIn;
    for (let f = 0; f < frames; f++) {
      const row = ((at + f) % keep) * width;
      for (let c = 0; c < k; c++) ci[f * k + c] = h[row + cols[c]];
    }
    return this.rs!.process(ci, frames, this.compactOut);
  }

  /** Gathers the wanted columns, resamples them and scatters them into `dst` (full width). */
  private convert(src: Int32Array, frames: number, dst: Int32Array): number {
    const width = this.width;
    const cols = this.columns;
    const k = cols.length;
    const ci = this.compactIn;
    for (let f = 0; f < frames; f++) {
      const row = f * width;
      for (let c = 0; c < k; c++) ci[f * k + c] = src[row + cols[c]];
    }
    const n = this.rs!.process(ci, frames, this.compactOut);
    const co = this.compactOut;
    for (let f = 0; f < n; f++) {
      const row = f * width;
      for (let c = 0; c < k; c++) dst[row + cols[c]] = co[f * k + c];
    }
    return n;
  }

  /** Keeps the period's frames (every channel) in the ring, slot = frame since restart % size. */
  private remember(src: Int32Array, frames: number): void {
    const width = this.width;
    const h = this.history;
    const keep = h.length / width;
    if (keep === 0) return;
    const from = Math.max(0, frames - keep);
    let at = ((this.consumed + from) % keep) * width;
    for (let i = from * width, end = frames * width; i < end; i++) {
      h[at++] = src[i];
      if (at === h.length) at = 0;
    }
    this.historyFrames = Math.min(keep, this.historyFrames + frames);
  }
}

function sameList(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}
