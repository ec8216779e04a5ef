/**
 * Seeded randomness for the impairment models (house style §7: randomness is
 * injected, so the same seed gives the same impairment and a run repeats).
 *
 * mulberry32 (Tommy Ettinger, public domain): 32-bit state, period 2^32, fast
 * and good enough for simulation draws. Independent streams of one seed (the
 * jitter draws, the loss draws, the spike schedule, …) are seeded through
 * splitmix32 so that changing one part of a model never shifts another's
 * sequence.
 */

const MULBERRY_INCREMENT = 0x6d2b79f5;
const GOLDEN_GAMMA_32 = 0x9e3779b9;
const TWO_POW_32 = 4294967296;

/** splitmix32's finaliser: mixes a 32-bit value into a well-spread 32-bit seed. */
export function mixSeed(x: number): number {
  let z = (x + GOLDEN_GAMMA_32) >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/** The seed of stream `stream` of `seed` (streams of one seed are unrelated sequences). */
export function streamSeed(seed: number, stream: number): number {
  return mixSeed((mixSeed(seed >>> 0) + Math.imul(stream + 1, GOLDEN_GAMMA_32)) >>> 0);
}

/** mulberry32: a small seeded PRNG, uniform [0, 1). */
export function seededUniform(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + MULBERRY_INCREMENT) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / TWO_POW_32;
  };
}

/** A seeded stream with the few distributions the models draw from. */
export class SeededRandom {
  private readonly next: () => number;
  constructor(seed: number) {
    this.next = seededUniform(seed);
  }
  /** Uniform [0, 1). */
  uniform(): number {
    return this.next();
  }
  /** Uniform [lo, hi). */
  between(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }
  /** A uniform integer in [lo, hi], both ends included. */
  integer(lo: number, hi: number): number {
    return lo + Math.floor((hi - lo + 1) * this.next());
  }
  /** Exponential with mean `mean` (Poisson inter-arrival times); never Infinity. */
  exponential(mean: number): number {
    return -mean * Math.log(1 - this.next() * (1 - Number.EPSILON));
  }
}
