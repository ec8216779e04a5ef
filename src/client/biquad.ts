/**
 * Second-order IIR filters from the RBJ Audio EQ Cookbook (R. Bristow-Johnson,
 * https://www.w3.org/TR/audio-eq-cookbook/), runtime-neutral. Used for the
 * client's 3-band channel EQ (contract §11 `eq`):
 *
 *   low   low shelf  at 200 Hz, shelf slope S = 1
 *   mid   peaking EQ at 1 kHz,  Q = 0.7
 *   high  high shelf at 5 kHz,  shelf slope S = 1
 *
 *   H(z) = (b0 + b1 z⁻¹ + b2 z⁻²) / (1 + a1 z⁻¹ + a2 z⁻²)   (normalised by a0)
 *
 * Processing is transposed direct form II, one state per filter.
 */

export const EQ_LOW_HZ = 200;
export const EQ_MID_HZ = 1000;
export const EQ_HIGH_HZ = 5000;
export const EQ_MID_Q = 0.7;
export const SHELF_SLOPE = 1;

export interface BiquadCoefficients {
  b0: number;
  b1: number;
  b2: number;
  a1: number;
  a2: number;
}

function normalise(
  b0: number,
  b1: number,
  b2: number,
  a0: number,
  a1: number,
  a2: number,
): BiquadCoefficients {
  return { b0: b0 / a0, b1: b1 / a0, b2: b2 / a0, a1: a1 / a0, a2: a2 / a0 };
}

function checkArgs(rate: number, f0: number): void {
  if (!(rate > 0 && f0 > 0 && f0 < rate / 2)) {
    throw new RangeError(`filter needs 0 < f0 (${f0} Hz) < rate/2 (${rate / 2} Hz)`);
  }
}

export function lowShelf(rate: number, f0: number, gainDb: number, s = SHELF_SLOPE) {
  checkArgs(rate, f0);
  const A = Math.pow(10, gainDb / 40);
  const w0 = (2 * Math.PI * f0) / rate;
  const cw = Math.cos(w0);
  const alpha = (Math.sin(w0) / 2) * Math.sqrt((A + 1 / A) * (1 / s - 1) + 2);
  const k = 2 * Math.sqrt(A) * alpha;
  return normalise(
    A * ((A + 1) - (A - 1) * cw + k),
    2 * A * ((A - 1) - (A + 1) * cw),
    A * ((A + 1) - (A - 1) * cw - k),
    (A + 1) + (A - 1) * cw + k,
    -2 * ((A - 1) + (A + 1) * cw),
    (A + 1) + (A - 1) * cw - k,
  );
}

export function highShelf(rate: number, f0: number, gainDb: number, s = SHELF_SLOPE) {
  checkArgs(rate, f0);
  const A = Math.pow(10, gainDb / 40);
  const w0 = (2 * Math.PI * f0) / rate;
  const cw = Math.cos(w0);
  const alpha = (Math.sin(w0) / 2) * Math.sqrt((A + 1 / A) * (1 / s - 1) + 2);
  const k = 2 * Math.sqrt(A) * alpha;
  return normalise(
    A * ((A + 1) + (A - 1) * cw + k),
    -2 * A * ((A - 1) + (A + 1) * cw),
    A * ((A + 1) + (A - 1) * cw - k),
    (A + 1) - (A - 1) * cw + k,
    2 * ((A - 1) - (A + 1) * cw),
    (A + 1) - (A - 1) * cw - k,
  );
}

export function peaking(rate: number, f0: number, gainDb: number, q = EQ_MID_Q) {
  checkArgs(rate, f0);
  const A = Math.pow(10, gainDb / 40);
  const w0 = (2 * Math.PI * f0) / rate;
  const alpha = Math.sin(w0) / (2 * q);
  const cw = Math.cos(w0);
  return normalise(1 + alpha * A, -2 * cw, 1 - alpha * A, 1 + alpha / A, -2 * cw, 1 - alpha / A);
}

/** |H(e^jω)| in dB at `freq` Hz. */
export function magnitudeDb(c: BiquadCoefficients, freq: number, rate: number): number {
  const w = (2 * Math.PI * freq) / rate;
  const re = (a0: number, a1: number, a2: number) => a0 + a1 * Math.cos(w) + a2 * Math.cos(2 * w);
  const im = (a1: number, a2: number) => -(a1 * Math.sin(w) + a2 * Math.sin(2 * w));
  const nr = re(c.b0, c.b1, c.b2), ni = im(c.b1, c.b2);
  const dr = re(1, c.a1, c.a2), di = im(c.a1, c.a2);
  return 10 * Math.log10((nr * nr + ni * ni) / (dr * dr + di * di));
}

/** One filter with its state (transposed direct form II). */
export class Biquad {
  private z1 = 0;
  private z2 = 0;
  constructor(public c: BiquadCoefficients) {}

  process(x: number): number {
    const c = this.c;
    const y = c.b0 * x + this.z1;
    this.z1 = c.b1 * x - c.a1 * y + this.z2;
    this.z2 = c.b2 * x - c.a2 * y;
    return y;
  }

  reset(): void {
    this.z1 = 0;
    this.z2 = 0;
  }
}
