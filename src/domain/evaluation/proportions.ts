import { Z_975 } from './normal.js';

export interface Interval {
  readonly low: number;
  readonly high: number;
}

/**
 * Wilson score interval (Wilson 1927), computed exactly as statsmodels'
 * proportion_confint(count, nobs, method='wilson') so the two agree to rounding.
 * NaN bounds when nobs is 0.
 */
export function wilsonInterval(count: number, nobs: number, z = Z_975): Interval {
  if (nobs === 0) return { low: Number.NaN, high: Number.NaN };
  const q = count / nobs;
  const crit2 = z * z;
  const denom = 1 + crit2 / nobs;
  const center = (q + crit2 / (2 * nobs)) / denom;
  const dist = (z * Math.sqrt((q * (1 - q)) / nobs + crit2 / (4 * nobs ** 2))) / denom;
  return { low: center - dist, high: center + dist };
}

export interface Confusion {
  readonly tp: number;
  readonly fp: number;
  readonly tn: number;
  readonly fn: number;
}

/** Counts at "positive when probability >= threshold"; cases with include[i] = 0 are left out. */
export function confusionAt(probabilities: ArrayLike<number>, labels: ArrayLike<number>, threshold: number, include?: ArrayLike<number>): Confusion {
  let tp = 0;
  let fp = 0;
  let tn = 0;
  let fn = 0;
  for (let i = 0; i < labels.length; i++) {
    if (include !== undefined && include[i] === 0) continue;
    const positive = probabilities[i]! >= threshold;
    if (labels[i] === 1) {
      if (positive) tp++;
      else fn++;
    } else if (positive) fp++;
    else tn++;
  }
  return { tp, fp, tn, fn };
}

/**
 * Positive and negative predictive values at a stated prevalence π (Bayes' rule), not the test
 * set's: PPV = se·π / (se·π + (1 − sp)(1 − π)), NPV = sp(1 − π) / (sp(1 − π) + (1 − se)π).
 */
export function predictiveValuesAtPrevalence(sensitivity: number, specificity: number, prevalence: number): { ppv: number; npv: number } {
  const tp = sensitivity * prevalence;
  const fp = (1 - specificity) * (1 - prevalence);
  const tn = specificity * (1 - prevalence);
  const fn = (1 - sensitivity) * prevalence;
  return { ppv: tp + fp === 0 ? Number.NaN : tp / (tp + fp), npv: tn + fn === 0 ? Number.NaN : tn / (tn + fn) };
}

/**
 * A conservative interval for PPV/NPV at a stated prevalence: both are monotone in sensitivity and
 * specificity, so the bounds come from the Wilson bounds of the two (the corner method). Its
 * coverage is at least that of the joint rectangle (≈ 0.95² for independent classes, usually more).
 */
export function predictiveValueIntervals(sens: Interval, spec: Interval, prevalence: number): { ppv: Interval; npv: Interval } {
  const lo = predictiveValuesAtPrevalence(sens.low, spec.low, prevalence);
  const hi = predictiveValuesAtPrevalence(sens.high, spec.high, prevalence);
  // PPV rises with specificity (strongly) and sensitivity; NPV rises with sensitivity and specificity.
  return { ppv: { low: lo.ppv, high: hi.ppv }, npv: { low: lo.npv, high: hi.npv } };
}
