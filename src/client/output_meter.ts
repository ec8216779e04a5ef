/**
 * The master (post-mix) meter, runtime-neutral: fed the mixer's interleaved
 * stereo output block by block (after master volume and limiter, i.e. what
 * the speakers get), it keeps a decaying peak for the meter and counts the
 * blocks that reached full scale for the clip indicator.
 *
 *   peak  = max(|x| over the block, peak · METER_DECAY)   per block
 *   clips += 1   when any |x| ≥ CLIP_LEVEL in the block
 *
 * The count only grows, so a reader that polls it (the page, every frame)
 * sees a clip however short, and lights its indicator when the count moves.
 */

/** Peak hold decay per block (≈ 20 dB/s with 5 ms blocks, as the channel meters). */
export const METER_DECAY = 0.98;
/** Full scale: a float sample at or above this (−0.009 dBFS) is clipped by the output. */
export const CLIP_LEVEL = 0.999;

export class OutputMeter {
  /** Decayed peak of both channels, 0…(above 1 when clipping). */
  peak = 0;
  /** Blocks that reached full scale since this meter was made. */
  clips = 0;

  /** Meters `frames` frames of interleaved stereo `out`. */
  note(out: Float32Array, frames: number): void {
    let peak = 0;
    const n = Math.min(out.length, frames * 2);
    for (let i = 0; i < n; i++) {
      const v = Math.abs(out[i]);
      if (v > peak) peak = v;
    }
    if (peak >= CLIP_LEVEL) this.clips++;
    this.peak = Math.max(peak, this.peak * METER_DECAY);
  }
}
