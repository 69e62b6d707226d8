import { logit, sigmoid } from '../calibration/calibrate.js';

/**
 * Split conformal prediction (Vovk et al. 2005; Lei et al. 2018; Angelopoulos & Bates 2021) for
 * the abstain band of a thresholded binary decision.
 *
 * Non-conformity of a case with label y, given the decision threshold t, is how far its logit
 * lies on the wrong side of logit(t): s = logit(t) − logit(p) when y = 1, logit(p) − logit(t)
 * when y = 0. With q̂ the ⌈(n + 1)(1 − α)⌉-th smallest of the n calibration scores, the
 * prediction set {y : s_y ≤ q̂} holds both labels exactly when |logit(p) − logit(t)| ≤ q̂: those
 * cases are referred, so the band is [sigmoid(logit t − q̂), sigmoid(logit t + q̂)]. For an
 * exchangeable new case, P(label in set) ≥ 1 − α, i.e. P(decided and wrong) ≤ α.
 * q̂ below 0 is raised to 0 (an empty set would otherwise be possible; raising only adds coverage).
 */
export interface ConformalBand {
  readonly low: number;
  readonly high: number;
  /** q̂ in logit units. */
  readonly halfWidthLogit: number;
  readonly n: number;
  readonly alpha: number;
  /** False when n is too small for the guarantee: ⌈(n + 1)(1 − α)⌉ > n, so the band must cover everything. */
  readonly attainable: boolean;
}

export function nonconformityScores(probabilities: ArrayLike<number>, labels: ArrayLike<number>, threshold: number): Float64Array {
  const lt = logit(threshold);
  return Float64Array.from({ length: labels.length }, (_, i) => (labels[i] === 1 ? lt - logit(probabilities[i]!) : logit(probabilities[i]!) - lt));
}

export function conformalQuantile(scores: Float64Array, alpha: number): { q: number; attainable: boolean } {
  const n = scores.length;
  const k = Math.ceil((n + 1) * (1 - alpha));
  if (k > n || n === 0) return { q: Number.POSITIVE_INFINITY, attainable: false };
  const sorted = Float64Array.from(scores).sort();
  return { q: sorted[k - 1]!, attainable: true };
}

export function splitConformalBand(probabilities: ArrayLike<number>, labels: ArrayLike<number>, threshold: number, alpha: number): ConformalBand {
  const { q, attainable } = conformalQuantile(nonconformityScores(probabilities, labels, threshold), alpha);
  const w = Math.max(0, q);
  const lt = logit(threshold);
  return {
    low: Number.isFinite(w) ? sigmoid(lt - w) : 0,
    high: Number.isFinite(w) ? sigmoid(lt + w) : 1,
    halfWidthLogit: w,
    n: labels.length,
    alpha,
    attainable,
  };
}

/**
 * Mondrian (per-stratum) split conformal (Vovk et al. 2005 §4.5): one band per stratum from that
 * stratum's calibration cases only, so that coverage holds within each stratum, not only on average.
 */
export function mondrianConformalBands(
  probabilities: ArrayLike<number>,
  labels: ArrayLike<number>,
  strata: readonly string[],
  threshold: number,
  alpha: number,
): Map<string, ConformalBand> {
  return mondrianBands(probabilities, labels, strata, (p, y) => splitConformalBand(p, y, threshold, alpha));
}

/** One band per stratum (sorted by name), each fitted by `fit` on that stratum's cases alone. */
export function mondrianBands<B>(
  probabilities: ArrayLike<number>,
  labels: ArrayLike<number>,
  strata: readonly string[],
  fit: (probabilities: number[], labels: number[]) => B,
): Map<string, B> {
  const groups = new Map<string, number[]>();
  strata.forEach((s, i) => {
    const g = groups.get(s);
    if (g === undefined) groups.set(s, [i]);
    else g.push(i);
  });
  const bands = new Map<string, B>();
  for (const [stratum, idx] of [...groups.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    bands.set(
      stratum,
      fit(
        idx.map((i) => probabilities[i]!),
        idx.map((i) => labels[i]!),
      ),
    );
  }
  return bands;
}

/** One label's half of a class-conditional band. */
export interface ClassBandSide {
  readonly n: number;
  readonly alpha: number;
  /** q̂ of this label's calibration cases, in logit units (raised to 0). */
  readonly widthLogit: number;
  readonly attainable: boolean;
}

export interface ClassConditionalBand {
  readonly low: number;
  readonly high: number;
  /** Bounds missed findings: P(decided negative | finding present) ≤ positive.alpha. Sets `low`. */
  readonly positive: ClassBandSide;
  /** Bounds false alarms: P(decided positive | finding absent) ≤ negative.alpha. Sets `high`. */
  readonly negative: ClassBandSide;
}

/**
 * Label-conditional (Mondrian by label) split conformal (Vovk et al. 2005 §4.5; Sadinle, Lei &
 * Wasserman 2019): q̂₁ from the positives' non-conformity scores alone at α₁, q̂₀ from the
 * negatives' at α₀. A case with the finding is decided wrong exactly when it is decided negative,
 * i.e. logit(p) < logit(t) − q̂₁, so P(missed | positive) ≤ α₁; a case without it exactly when
 * logit(p) > logit(t) + q̂₀, so P(false alarm | negative) ≤ α₀. The band is therefore
 * [sigmoid(logit t − q̂₁), sigmoid(logit t + q̂₀)]: missed findings and false alarms are
 * controlled separately, each at its own rate. A label with too few calibration cases for its α
 * opens its side of the band fully (low 0, or high 1).
 */
export function classConditionalConformalBand(
  probabilities: ArrayLike<number>,
  labels: ArrayLike<number>,
  threshold: number,
  alphaPositive: number,
  alphaNegative: number,
): ClassConditionalBand {
  const scores = nonconformityScores(probabilities, labels, threshold);
  const side = (label: number, alpha: number): ClassBandSide => {
    const mine = Float64Array.from(scores.filter((_, i) => labels[i] === label));
    const { q, attainable } = conformalQuantile(mine, alpha);
    return { n: mine.length, alpha, widthLogit: Math.max(0, q), attainable };
  };
  const positive = side(1, alphaPositive);
  const negative = side(0, alphaNegative);
  const lt = logit(threshold);
  return {
    low: Number.isFinite(positive.widthLogit) ? sigmoid(lt - positive.widthLogit) : 0,
    high: Number.isFinite(negative.widthLogit) ? sigmoid(lt + negative.widthLogit) : 1,
    positive,
    negative,
  };
}

/** Is the case referred by the band? (Same rule as decideFinding: inside [low, high], when low < high.) */
export function isInBand(p: number, band: { readonly low: number; readonly high: number }): boolean {
  return p >= band.low && p <= band.high && band.low < band.high;
}
