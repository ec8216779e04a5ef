/**
 * The Wi-Fi impairment profiles of the spec (wifi-profiles.md, quoted in
 * docs/wifi-relay.md) as typed data, and the log-normal fitted to each
 * profile's jitter.
 *
 * Per packet, one way (box → phone):
 *
 *   delay = base_ms + jitter + (spike extra_ms while a spike lasts)
 *   jitter ~ LogNormal(μ, σ) through p50 and p99, cut at max_ms
 *   lost  = random (independent) or inside a burst of consecutive packets
 *
 * The fit: ln X ~ N(μ, σ²); uncut, p50 = e^μ and p99 = e^(μ + z₀.₉₉·σ):
 *
 *   μ = ln p50        σ = ln(p99 / p50) / z₀.₉₉
 *
 * and cut at max_ms (share F = Φ((ln max − μ)/σ) kept) the quantile p is
 * e^(μ + σ·Φ⁻¹(p·F)).
 *
 * The cut at max_ms is a truncation (the tail above it is not drawn), not a
 * clamp: the spec models the measured long tail as spikes. `fitJitter` solves
 * μ, σ so that the *cut* distribution has the spec's p50 and p99 (a few fixed-
 * point steps from the uncut fit above). Two points fix a log-normal, so p90
 * is a check, not a parameter: the fit's p90 is 2–9 % under the spec's
 * (`fitJitter` reports it; docs/wifi-relay.md has the table).
 */

export interface JitterSpec {
  p50_ms: number;
  p90_ms: number;
  p99_ms: number;
  max_ms: number;
}

export interface SpikeSpec {
  per_min: number;
  /** Extra delay of every packet in the spike, uniform in [lo, hi] ms. */
  extra_ms: [number, number];
  /** Spike length, uniform in [lo, hi] ms. */
  span_ms: [number, number];
}

export interface LossSpec {
  /** Independent loss probability per packet. */
  random: number;
  bursts_per_min: number;
  /** Consecutive packets lost per burst, uniform integer in [lo, hi]. */
  burst_packets?: [number, number];
}

export interface WifiProfile {
  base_ms: number;
  jitter: JitterSpec;
  spikes: SpikeSpec | null;
  loss: LossSpec;
}

export type WifiProfileName = "clean" | "stage-ap" | "crowded";

/** The spec's profiles, verbatim. */
export const WIFI_PROFILES: Readonly<Record<WifiProfileName, WifiProfile>> = {
  "clean": {
    base_ms: 0.5,
    jitter: { p50_ms: 0.3, p90_ms: 0.8, p99_ms: 1.5, max_ms: 3 },
    spikes: null,
    loss: { random: 0.0, bursts_per_min: 0 },
  },
  "stage-ap": {
    base_ms: 1.0,
    jitter: { p50_ms: 1.5, p90_ms: 5, p99_ms: 12, max_ms: 20 },
    spikes: { per_min: 2, extra_ms: [40, 80], span_ms: [20, 60] },
    loss: { random: 0.002, bursts_per_min: 1, burst_packets: [5, 10] },
  },
  "crowded": {
    base_ms: 1.5,
    jitter: { p50_ms: 3, p90_ms: 12, p99_ms: 30, max_ms: 60 },
    spikes: { per_min: 1, extra_ms: [100, 250], span_ms: [50, 200] },
    loss: { random: 0.01, bursts_per_min: 3, burst_packets: [5, 20] },
  },
};

export function isWifiProfileName(name: string): name is WifiProfileName {
  return Object.hasOwn(WIFI_PROFILES, name);
}

/** The standard normal's 0.99 quantile (the uncut fit's starting point). */
export const Z_P99 = 2.3263478740408408;

export interface JitterFit {
  mu: number;
  sigma: number;
  /** Φ((ln max − μ)/σ): the share of the uncut log-normal under max_ms. */
  cdfAtMax: number;
  /** The cut distribution's p90. */
  p90Ms: number;
  /** (fit p90 − spec p90) / spec p90. */
  p90Error: number;
}

/** Fixed-point steps of the cut fit (the cut share changes by < 1e-12 after 8). */
const FIT_ITERATIONS = 30;

/** The cut distribution's quantile p: exp(μ + σ·Φ⁻¹(p·F(max))). */
export function cutLogNormalQuantile(f: JitterFit, p: number): number {
  return Math.exp(f.mu + f.sigma * normalQuantile(p * f.cdfAtMax));
}

/**
 * μ and σ such that the log-normal *cut at max_ms* has the spec's p50 and p99
 * exactly (the uncut fit through them loses ~5 % of its p99 to the cut).
 */
export function fitJitter(j: JitterSpec): JitterFit {
  if (!(j.p50_ms > 0 && j.p99_ms > j.p50_ms && j.max_ms > j.p99_ms)) {
    throw new RangeError(
      `jitter needs 0 < p50 < p99 < max, got ${j.p50_ms} / ${j.p99_ms} / ${j.max_ms} ms`,
    );
  }
  let mu = Math.log(j.p50_ms);
  let sigma = Math.log(j.p99_ms / j.p50_ms) / Z_P99;
  let cdf = 1;
  for (let i = 0; i < FIT_ITERATIONS; i++) {
    cdf = normalCdf((Math.log(j.max_ms) - mu) / sigma);
    const z50 = normalQuantile(0.5 * cdf), z99 = normalQuantile(0.99 * cdf);
    sigma = Math.log(j.p99_ms / j.p50_ms) / (z99 - z50);
    mu = Math.log(j.p50_ms) - sigma * z50;
  }
  const fit = { mu, sigma, cdfAtMax: cdf, p90Ms: 0, p90Error: 0 };
  fit.p90Ms = cutLogNormalQuantile(fit, 0.9);
  fit.p90Error = (fit.p90Ms - j.p90_ms) / j.p90_ms;
  return fit;
}

/** Φ(x) via erfc, W. J. Cody's rational Chebyshev form as in Numerical Recipes (|ε| < 1.2e-7). */
export function normalCdf(x: number): number {
  const z = Math.abs(x) / Math.SQRT2;
  const t = 1 / (1 + 0.5 * z);
  const erfc = t * Math.exp(
    -z * z - 1.26551223 +
      t * (1.00002368 +
          t * (0.37409196 +
              t * (0.09678418 +
                  t * (-0.18628806 +
                      t * (0.27886807 +
                          t *
                            (-1.13520398 +
                              t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
  );
  return x >= 0 ? 1 - erfc / 2 : erfc / 2;
}

// Acklam's inverse normal CDF: rational approximations, relative error < 1.15e-9.
const A = [
  -3.969683028665376e+01,
  2.209460984245205e+02,
  -2.759285104469687e+02,
  1.383577518672690e+02,
  -3.066479806614716e+01,
  2.506628277459239e+00,
];
const B = [
  -5.447609879822406e+01,
  1.615858368580409e+02,
  -1.556989798598866e+02,
  6.680131188771972e+01,
  -1.328068155288572e+01,
];
const C = [
  -7.784894002430293e-03,
  -3.223964580411365e-01,
  -2.400758277161838e+00,
  -2.549732539343734e+00,
  4.374664141464968e+00,
  2.938163982698783e+00,
];
const D = [
  7.784695709041462e-03,
  3.224671290700398e-01,
  2.445134137142996e+00,
  3.754408661907416e+00,
];
const P_LOW = 0.02425;

/** Φ⁻¹(p) for 0 < p < 1. */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`quantile needs 0 < p < 1, got ${p}`);
  if (p < P_LOW) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5]) /
      ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1);
  }
  if (p > 1 - P_LOW) return -normalQuantile(1 - p);
  const q = p - 0.5, r = q * q;
  return (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q /
    (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1);
}
