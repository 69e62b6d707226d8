import { logit } from '../calibration/calibrate.js';
import { fitLogistic, type Separation } from './logistic-fit.js';

/** Mean squared difference between probability and outcome (Brier 1950); sklearn's brier_score_loss. */
export function brierScore(probabilities: ArrayLike<number>, labels: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < labels.length; i++) s += (probabilities[i]! - labels[i]!) ** 2;
  return s / labels.length;
}

export interface ReliabilityBin {
  readonly low: number;
  readonly high: number;
  readonly count: number;
  readonly meanPredicted: number;
  readonly fractionPositive: number;
}

/**
 * Equal-width bins of the predicted probability, with scikit-learn's calibration_curve edges
 * (strategy="uniform"): edges i/n_bins; a value on an interior edge falls in the lower bin
 * (numpy searchsorted, side left). Empty bins are omitted, as sklearn omits them.
 */
export function reliabilityBins(probabilities: ArrayLike<number>, labels: ArrayLike<number>, bins: number): ReliabilityBin[] {
  // numpy.linspace(0, 1, bins + 1): edge_i = i * (1 / bins), the last set to 1 exactly.
  const step = 1 / bins;
  const edges = Array.from({ length: bins + 1 }, (_, i) => (i === bins ? 1 : i * step));
  const sums = new Float64Array(bins);
  const trues = new Float64Array(bins);
  const counts = new Float64Array(bins);
  for (let i = 0; i < labels.length; i++) {
    const p = probabilities[i]!;
    // Number of interior edges strictly below p.
    let lo = 0;
    let hi = bins - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (edges[mid + 1]! < p) lo = mid + 1;
      else hi = mid;
    }
    sums[lo] = sums[lo]! + p;
    trues[lo] = trues[lo]! + labels[i]!;
    counts[lo] = counts[lo]! + 1;
  }
  const out: ReliabilityBin[] = [];
  for (let b = 0; b < bins; b++) {
    const c = counts[b]!;
    if (c === 0) continue;
    out.push({ low: edges[b]!, high: edges[b + 1]!, count: c, meanPredicted: sums[b]! / c, fractionPositive: trues[b]! / c });
  }
  return out;
}

/** Expected calibration error: Σ_bins (count / n) · |mean predicted − fraction positive| over equal-width bins (Naeini et al. 2015; Guo et al. 2017). */
export function expectedCalibrationError(probabilities: ArrayLike<number>, labels: ArrayLike<number>, bins: number): number {
  let s = 0;
  for (const bin of reliabilityBins(probabilities, labels, bins)) s += bin.count * Math.abs(bin.meanPredicted - bin.fractionPositive);
  return s / labels.length;
}

/**
 * Calibration slope and intercept (Cox 1958): logistic regression of the outcome on logit(p).
 * A well-calibrated model has slope 1 and intercept 0; slope < 1 means over-confident.
 * (This intercept is from the joint fit; "calibration-in-the-large" with the slope fixed at 1 is another quantity.)
 * When the probabilities separate the labels, no maximum-likelihood slope exists: slope and
 * intercept are NaN and `separation` says why.
 */
export function calibrationSlopeIntercept(
  probabilities: ArrayLike<number>,
  labels: ArrayLike<number>,
): { slope: number; intercept: number; converged: boolean; separation?: Separation } {
  const x = Float64Array.from({ length: labels.length }, (_, i) => logit(probabilities[i]!));
  const fit = fitLogistic(x, labels);
  return { slope: fit.slope, intercept: fit.intercept, converged: fit.converged, ...(fit.separation === undefined ? {} : { separation: fit.separation }) };
}
