/// <reference lib="dom" />
/**
 * What both playout engines (./playout.ts on plain HTTP, ./worklet_playout.ts
 * on HTTPS) put around their AudioContext: the audio-clock ↔ wall-clock
 * mapping their latency figures rest on, and the analyser the mixed output
 * passes through on its way to the speakers (the tests read it).
 */

const ANALYSER_FFT = 32768;
/** Capture→playout latencies kept for the page's figures and test hook. */
export const LATENCY_WINDOW = 400;
/** Filter gain per sync, and the error that resets the mapping (ms). */
const WALL_SMOOTHING = 0.05;
const WALL_JUMP_MS = 50;

/**
 * Follows the audio clock (`currentTime`: the next frame to render) against
 * the wall clock; they drift, as a sound card's crystal is not the system
 * clock's. `currentTime` moves in 128-frame steps, so the pair is low-pass
 * filtered; a jump (a suspended context) resets it. The output device's own
 * delay (`outputLatency`) comes after this and is reported apart.
 */
export class AudioWallClock {
  /** Wall-clock ms minus audio-clock ms. */
  offsetMs = 0;
  private synced = false;

  constructor(
    private readonly ctx: BaseAudioContext,
    private readonly wallNow: () => number,
  ) {
    this.sync();
  }

  /** Wall-clock ms at a context time. */
  at(ctxTime: number): number {
    return this.offsetMs + ctxTime * 1000;
  }

  sync(): void {
    const sample = this.wallNow() - this.ctx.currentTime * 1000;
    const err = sample - this.offsetMs;
    if (!this.synced || Math.abs(err) > WALL_JUMP_MS) {
      this.offsetMs = sample;
      this.synced = true;
    } else this.offsetMs += err * WALL_SMOOTHING;
  }
}

/** An analyser in front of the speakers; `node` is where the mix connects. */
export class OutputAnalyser {
  readonly node: AnalyserNode;
  private readonly spectrum: Float32Array<ArrayBuffer>;

  constructor(ctx: BaseAudioContext) {
    this.node = ctx.createAnalyser();
    this.node.fftSize = ANALYSER_FFT;
    this.node.smoothingTimeConstant = 0;
    this.node.connect(ctx.destination);
    this.spectrum = new Float32Array(ANALYSER_FFT / 2);
  }

  /** Magnitudes (dBFS) of the output at the given frequencies: the peak within ±2 bins. */
  magnitudesAt(freqs: number[]): number[] {
    this.node.getFloatFrequencyData(this.spectrum);
    const binHz = this.node.context.sampleRate / this.node.fftSize;
    return freqs.map((f) => {
      const b = Math.round(f / binHz);
      let m = -Infinity;
      for (let i = Math.max(0, b - 2); i <= Math.min(this.spectrum.length - 1, b + 2); i++) {
        m = Math.max(m, this.spectrum[i]);
      }
      return m;
    });
  }
}
