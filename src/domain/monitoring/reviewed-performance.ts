import { Z_975 } from '../evaluation/normal.js';
import { wilsonInterval } from '../evaluation/proportions.js';
import { worklistReasons, type JudgedImage } from '../review/worklist.js';

/**
 * Performance measured from reviews (issue 12 §1). Reviews are a sample, not a census: everything the
 * model did not decide with confidence goes to the worklist (referred, gate-warned, gate-rejected:
 * inclusion probability 1) and a confident decision only when its draw falls below the sample rate
 * (review/worklist.ts; default 0.05). Counting reviewed cases as they come over-represents the hard
 * cases by 1/0.05 = 20 times. Each reviewed case is therefore weighted by the inverse of its inclusion
 * probability (Horvitz & Thompson 1952), and every rate is a ratio of weighted totals (the Hájek ratio
 * estimator: consistent, and unbiased to O(1/n)).
 *
 * Variance: the linearization (Taylor) variance of a ratio under independent (Poisson) sampling,
 * with-replacement form (Särndal, Swensson & Wretman 1992, §5.6; the default of survey software when
 * no finite-population correction is given): V(R̂) = Σ wᵢ²(yᵢ − R̂xᵢ)² / (Σ wᵢxᵢ)². With equal weights
 * it is the binomial R̂(1 − R̂)/n. Interval: Wilson's, at the effective sample size
 * n_eff = R̂(1 − R̂)/V (Korn & Graubard 1998), which is the ordinary Wilson interval of the counts when
 * the weights are equal (statsmodels proportion_confint(…, method='wilson') with count = R̂·n_eff,
 * nobs = n_eff). When R̂ is 0 or 1 the variance vanishes and n_eff falls back to Kish's (Σw)²/Σw².
 */

/** The probability with which a judged image reaches the review worklist: 1 when a rule sends it (referred, gate verdicts), else the sample rate for a decided image, 0 otherwise. */
export function reviewInclusionProbability(image: JudgedImage, sampleRate: number): number {
  // worklistReasons with a draw of 1 (above any rate) lists only the reasons that do not depend on the draw.
  if (worklistReasons(image, 1, sampleRate).length > 0) return 1;
  return image.status === 'decided' ? Math.min(1, sampleRate) : 0;
}

/** One reviewed case: the model's decision, its calibrated probability, the reviewer's finding, and how likely the case was to be reviewed. */
export interface ReviewedCase {
  /** 'none': the gate rejected the image, nothing was decided. */
  readonly decision: 'positive' | 'negative' | 'refer' | 'none';
  /** Calibrated probability (NaN when the model gave none). */
  readonly probability: number;
  /** The reviewer's read (reviews that could not tell are left out by the caller, and counted as missing). */
  readonly findingPresent: boolean;
  /** Inclusion probability in (0, 1] (reviewInclusionProbability). */
  readonly inclusionProbability: number;
}

export interface WeightedRate {
  readonly estimate: number;
  readonly low: number;
  readonly high: number;
  readonly standardError: number;
  readonly effectiveN: number;
  /** Reviewed cases in the denominator (unweighted). */
  readonly reviewed: number;
}

/**
 * The weighted ratio R̂ = Σ wᵢyᵢ / Σ wᵢxᵢ (x ∈ {0, 1} selects the denominator's cases, y ≤ x the
 * numerator's), its linearization standard error and a Wilson interval at the effective sample size.
 * NaN everywhere when no case is in the denominator.
 */
export function weightedRate(y: ArrayLike<number>, x: ArrayLike<number>, w: ArrayLike<number>, z: number = Z_975): WeightedRate {
  let num = 0;
  let den = 0;
  let reviewed = 0;
  let w2 = 0;
  for (let i = 0; i < x.length; i++) {
    if (x[i] === 0) continue;
    num += w[i]! * y[i]!;
    den += w[i]!;
    w2 += w[i]! * w[i]!;
    reviewed++;
  }
  if (reviewed === 0) return { estimate: Number.NaN, low: Number.NaN, high: Number.NaN, standardError: Number.NaN, effectiveN: 0, reviewed };
  const r = num / den;
  let v = 0;
  for (let i = 0; i < x.length; i++) {
    if (x[i] === 0) continue;
    const e = w[i]! * (y[i]! - r);
    v += e * e;
  }
  v /= den * den;
  const effectiveN = r > 0 && r < 1 && v > 0 ? (r * (1 - r)) / v : (den * den) / w2;
  const { low, high } = wilsonInterval(r * effectiveN, effectiveN, z);
  return { estimate: r, low, high, standardError: Math.sqrt(v), effectiveN, reviewed };
}

export interface CalibrationFromReviews {
  /** Weighted mean probability − weighted observed rate (calibration-in-the-large; 0 when calibrated), with a normal interval. */
  readonly inTheLarge: { readonly estimate: number; readonly low: number; readonly high: number; readonly standardError: number };
  /** Expected calibration error over equal-width bins of the probability, each case weighted (point estimate). */
  readonly ece: number;
  readonly reviewed: number;
}

export interface ReviewedPerformance {
  /** Of the truly positive cases the model decided (referrals left out: they are read by a human anyway), the share decided positive. */
  readonly sensitivity: WeightedRate;
  readonly specificity: WeightedRate;
  /** Of the cases decided positive, the share truly positive; NPV likewise for negatives. */
  readonly ppv: WeightedRate;
  readonly npv: WeightedRate;
  /** Of all cases judged (any decision), the share truly positive. */
  readonly prevalence: WeightedRate;
  /** Of all cases judged, the share the model referred. */
  readonly referRate: WeightedRate;
  readonly calibration: CalibrationFromReviews;
  readonly reviewed: number;
}

/** Sensitivity, specificity, PPV, NPV, prevalence, refer rate and calibration from reviewed cases, each case weighted by 1 / its inclusion probability. */
export function reviewedPerformance(cases: readonly ReviewedCase[], options: { readonly bins?: number; readonly z?: number } = {}): ReviewedPerformance {
  const z = options.z ?? Z_975;
  const n = cases.length;
  const w = new Float64Array(n);
  const truth = new Float64Array(n);
  const decidedPositive = new Float64Array(n);
  const decidedNegative = new Float64Array(n);
  const decided = new Float64Array(n);
  const decidedTruthPositive = new Float64Array(n);
  const decidedTruthNegative = new Float64Array(n);
  const referred = new Float64Array(n);
  const all = new Float64Array(n).fill(1);
  cases.forEach((c, i) => {
    if (!(c.inclusionProbability > 0 && c.inclusionProbability <= 1)) throw new RangeError('an inclusion probability must lie in (0, 1]');
    w[i] = 1 / c.inclusionProbability;
    truth[i] = c.findingPresent ? 1 : 0;
    decidedPositive[i] = c.decision === 'positive' ? 1 : 0;
    decidedNegative[i] = c.decision === 'negative' ? 1 : 0;
    decided[i] = decidedPositive[i] + decidedNegative[i];
    decidedTruthPositive[i] = decided[i] * truth[i];
    decidedTruthNegative[i] = decided[i] * (1 - truth[i]);
    referred[i] = c.decision === 'refer' ? 1 : 0;
  });
  const truthNegative = truth.map((t) => 1 - t);
  return {
    sensitivity: weightedRate(decidedPositive, decidedTruthPositive, w, z),
    specificity: weightedRate(decidedNegative, decidedTruthNegative, w, z),
    ppv: weightedRate(truth, decidedPositive, w, z),
    npv: weightedRate(truthNegative, decidedNegative, w, z),
    prevalence: weightedRate(truth, all, w, z),
    referRate: weightedRate(referred, all, w, z),
    calibration: weightedCalibration(
      cases.map((c) => c.probability),
      truth,
      w,
      options.bins ?? 10,
      z,
    ),
    reviewed: n,
  };
}

/**
 * Calibration from weighted cases (those without a probability left out): calibration-in-the-large
 * D̂ = Σw(p − y)/Σw with the linearization variance Σw²(p − y − D̂)²/(Σw)² and a normal interval, and
 * the weighted ECE over `bins` equal-width bins (edges as scikit-learn's calibration_curve: a value on
 * an interior edge falls in the lower bin).
 */
export function weightedCalibration(
  probabilities: ArrayLike<number>,
  labels: ArrayLike<number>,
  w: ArrayLike<number>,
  bins: number,
  z: number = Z_975,
): CalibrationFromReviews {
  let sw = 0;
  let swd = 0;
  let reviewed = 0;
  const binW = new Float64Array(bins);
  const binP = new Float64Array(bins);
  const binY = new Float64Array(bins);
  const step = 1 / bins;
  for (let i = 0; i < labels.length; i++) {
    const p = probabilities[i]!;
    if (Number.isNaN(p)) continue;
    reviewed++;
    const wi = w[i]!;
    sw += wi;
    swd += wi * (p - labels[i]!);
    // Interior edges strictly below p (numpy searchsorted, side left; edges i·(1/bins) as numpy.linspace computes them).
    let b = 0;
    while (b < bins - 1 && (b + 1) * step < p) b++;
    binW[b]! += wi;
    binP[b]! += wi * p;
    binY[b]! += wi * labels[i]!;
  }
  if (reviewed === 0) {
    const nan = Number.NaN;
    return { inTheLarge: { estimate: nan, low: nan, high: nan, standardError: nan }, ece: nan, reviewed };
  }
  const d = swd / sw;
  let v = 0;
  for (let i = 0; i < labels.length; i++) {
    const p = probabilities[i]!;
    if (Number.isNaN(p)) continue;
    const e = w[i]! * (p - labels[i]! - d);
    v += e * e;
  }
  const se = Math.sqrt(v) / sw;
  let ece = 0;
  for (let b = 0; b < bins; b++) if (binW[b]! > 0) ece += Math.abs(binP[b]! - binY[b]!);
  return { inTheLarge: { estimate: d, low: d - z * se, high: d + z * se, standardError: se }, ece: ece / sw, reviewed };
}
