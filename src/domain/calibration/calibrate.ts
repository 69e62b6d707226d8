import type { Calibration } from '../model/model-manifest.js';

export function sigmoid(x: number): number {
  // Split by sign so that exp never overflows.
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

/** log(p / (1 - p)), with p clamped away from 0 and 1 so the result stays finite. */
export function logit(p: number): number {
  const eps = 1e-12;
  const q = Math.min(Math.max(p, eps), 1 - eps);
  return Math.log(q / (1 - q));
}

/**
 * Maps a model score to a calibrated probability. `activation` says whether the model emits a
 * logit or already a probability; parametric methods work on the logit, isotonic on the raw score
 * as it was fitted.
 */
export function calibrateScore(score: number, activation: 'logit' | 'probability', calibration: Calibration): number {
  const z = activation === 'logit' ? score : logit(score);
  switch (calibration.method) {
    case 'none':
      return activation === 'logit' ? sigmoid(score) : clamp01(score);
    case 'temperature':
      return sigmoid(z / calibration.temperature);
    case 'platt':
      return sigmoid(calibration.a * z + calibration.b);
    case 'isotonic':
      return clamp01(interpolate(calibration.x, calibration.y, score));
  }
}

/** Linear interpolation through sorted knots, constant beyond the ends (as sklearn's IsotonicRegression with out_of_bounds='clip'). */
export function interpolate(xs: readonly number[], ys: readonly number[], x: number): number {
  const n = xs.length;
  if (x <= (xs[0] as number)) return ys[0] as number;
  if (x >= (xs[n - 1] as number)) return ys[n - 1] as number;
  let lo = 0;
  let hi = n - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >>> 1;
    if ((xs[mid] as number) <= x) lo = mid;
    else hi = mid;
  }
  const x0 = xs[lo] as number;
  const x1 = xs[hi] as number;
  const y0 = ys[lo] as number;
  const y1 = ys[hi] as number;
  return x1 === x0 ? y1 : y0 + ((y1 - y0) * (x - x0)) / (x1 - x0);
}

function clamp01(v: number): number {
  return Number.isNaN(v) ? v : v < 0 ? 0 : v > 1 ? 1 : v;
}
