import { isInBand } from './conformal.js';
import type { OperatingPoint } from './operating-point.js';
import { confusionAt } from './proportions.js';

/**
 * The Bayes-optimal threshold for a calibrated probability: call positive when p·C_FN ≥ (1 − p)·C_FP,
 * i.e. p ≥ C_FP / (C_FP + C_FN). It needs no data: the probability already carries the prevalence it
 * was calibrated at. Sensitivity, specificity and expected cost are reported on the cases given.
 *
 * @example bayesOperatingPoint(p, y, { falseNegative: 5, falsePositive: 1 }, 0.74).threshold // 1/6
 */
export function bayesOperatingPoint(
  probabilities: ArrayLike<number>,
  labels: ArrayLike<number>,
  costs: { readonly falseNegative: number; readonly falsePositive: number },
  prevalence: number,
): OperatingPoint {
  const threshold = costs.falsePositive / (costs.falsePositive + costs.falseNegative);
  const c = confusionAt(probabilities, labels, threshold);
  const se = c.tp + c.fn === 0 ? Number.NaN : c.tp / (c.tp + c.fn);
  const sp = c.tn + c.fp === 0 ? Number.NaN : c.tn / (c.tn + c.fp);
  return {
    threshold,
    sensitivity: se,
    specificity: sp,
    expectedCost: costs.falseNegative * prevalence * (1 - se) + costs.falsePositive * (1 - prevalence) * (1 - sp),
    rule: `threshold = C_FP / (C_FP + C_FN) = ${costs.falsePositive} / (${costs.falsePositive} + ${costs.falseNegative}), Bayes-optimal for a calibrated probability`,
  };
}

export interface ErrorBoundedBand {
  readonly low: number;
  readonly high: number;
  /** Half-width w in logit space: the band is sigmoid(logit(threshold) ± w), rounded outward. */
  readonly halfWidthLogit: number;
  readonly errorRateNotReferred: number;
  readonly referred: number;
}

const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z));

/**
 * The narrowest abstain band symmetric in logit space around the threshold, logit(t) ± w with w on a
 * grid of `stepLogit` (w = 0, step, 2·step, … up to 20 in logit units), whose cases outside the band
 * (decided at the threshold) have an error rate ≤ `maxError`. The bounds are rounded outward to 6
 * decimals before the cases are counted, so the band written is the band checked. A case is referred
 * as decideFinding refers it (inside [low, high], when low < high). Undefined when no band leaves a
 * decided case under the target. The rule of models/pneumonia-demo/train.py (choose_band).
 */
export function errorBoundedBand(
  probabilities: ArrayLike<number>,
  labels: ArrayLike<number>,
  threshold: number,
  maxError: number,
  stepLogit = 0.01,
): ErrorBoundedBand | undefined {
  const centre = Math.log(threshold / (1 - threshold));
  const steps = Math.round(20 / stepLogit);
  const include = new Uint8Array(labels.length);
  for (let step = 0; step <= steps; step++) {
    const w = step * stepLogit;
    const low = Math.floor(sigmoid(centre - w) * 1e6) / 1e6;
    const high = Math.ceil(sigmoid(centre + w) * 1e6) / 1e6;
    let kept = 0;
    for (let i = 0; i < labels.length; i++) {
      include[i] = isInBand(probabilities[i]!, { low, high }) ? 0 : 1;
      kept += include[i]!;
    }
    if (kept === 0) return undefined;
    const c = confusionAt(probabilities, labels, threshold, include);
    const error = (c.fp + c.fn) / kept;
    if (error <= maxError) {
      return { low, high, halfWidthLogit: Math.round(w * 1e6) / 1e6, errorRateNotReferred: error, referred: labels.length - kept };
    }
  }
  return undefined;
}
