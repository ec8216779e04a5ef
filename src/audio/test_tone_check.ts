/**
 * Measuring a known sine in a strided (interleaved) signal: a least-squares fit
 * of `dc + a·cos(ωn) + b·sin(ωn)` at the expected frequency. Used to check the
 * `tone` test signal after Opus (lossy) coding and to measure the resampler's
 * passband and stopband. Works on any numeric array (Int32, Int16, Float32).
 */

export interface ToneFit {
  /** Peak amplitude of the fitted sine, in the input's units. */
  amplitude: number;
  /** RMS of what is left after removing the fitted sine and DC, in the input's units. */
  residualRms: number;
  /** RMS of the whole signal, DC included. */
  rms: number;
}

/**
 * Fits a sine of `freqHz` to `count` samples taken at `offset + i*stride`.
 * Exact for any window length (no leakage assumptions): it solves the 3×3
 * normal equations in DC, cos and sin.
 */
export function fitTone(
  samples: ArrayLike<number>,
  offset: number,
  stride: number,
  count: number,
  freqHz: number,
  rateHz: number,
): ToneFit {
  const last = offset + (count - 1) * stride;
  if (count < 3 || last >= samples.length) {
    throw new RangeError(
      `fitTone needs ${count} samples up to index ${last}, got an array of ${samples.length}`,
    );
  }
  const w = 2 * Math.PI * freqHz / rateHz;
  // Normal equations for the basis [1, c, s].
  let s11 = 0, s1c = 0, s1s = 0, scc = 0, scs = 0, sss = 0;
  let y1 = 0, yc = 0, ys = 0, yy = 0;
  for (let i = 0; i < count; i++) {
    const y = samples[offset + i * stride];
    const c = Math.cos(w * i), s = Math.sin(w * i);
    s11 += 1;
    s1c += c;
    s1s += s;
    scc += c * c;
    scs += c * s;
    sss += s * s;
    y1 += y;
    yc += y * c;
    ys += y * s;
    yy += y * y;
  }
  const [dc, a, b] = solve3(
    [s11, s1c, s1s, s1c, scc, scs, s1s, scs, sss],
    [y1, yc, ys],
  );
  // Residual energy = yᵀy − βᵀXᵀy for a least-squares fit.
  const explained = dc * y1 + a * yc + b * ys;
  const residual = Math.max(0, yy - explained);
  return {
    amplitude: Math.hypot(a, b),
    residualRms: Math.sqrt(residual / count),
    rms: Math.sqrt(yy / count),
  };
}

/** 20·log10(value / reference); −Infinity for 0. */
export function db(value: number, reference: number): number {
  return 20 * Math.log10(value / reference);
}

/** Gaussian elimination with partial pivoting on a row-major 3×3 system. */
function solve3(m: number[], v: number[]): [number, number, number] {
  const a = [
    [m[0], m[1], m[2], v[0]],
    [m[3], m[4], m[5], v[1]],
    [m[6], m[7], m[8], v[2]],
  ];
  for (let col = 0; col < 3; col++) {
    let pivot = col;
    for (let r = col + 1; r < 3; r++) {
      if (Math.abs(a[r][col]) > Math.abs(a[pivot][col])) pivot = r;
    }
    [a[col], a[pivot]] = [a[pivot], a[col]];
    const p = a[col][col];
    if (Math.abs(p) < 1e-12) return [0, 0, 0];
    for (let r = col + 1; r < 3; r++) {
      const f = a[r][col] / p;
      for (let k = col; k < 4; k++) a[r][k] -= f * a[col][k];
    }
  }
  const x = [0, 0, 0];
  for (let r = 2; r >= 0; r--) {
    let s = a[r][3];
    for (let k = r + 1; k < 3; k++) s -= a[r][k] * x[k];
    x[r] = s / a[r][r];
  }
  return [x[0], x[1], x[2]];
}
