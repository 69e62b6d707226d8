import { midranks } from './ranks.js';
import { twoSidedNormalPValue, Z_975 } from './normal.js';

/**
 * DeLong, DeLong & Clarke-Pearson (1988), "Comparing the areas under two or more correlated
 * receiver operating characteristic curves: a nonparametric approach", Biometrics 44:837–845,
 * computed with the fast algorithm of Sun & Xu (2014), IEEE Signal Processing Letters 21(11):1389–1393:
 * the structural components come from three mid-rankings (positives alone, negatives alone, all),
 * O(n log n) instead of the O(m·n) pairwise kernel.
 */
export interface DelongComponents {
  readonly auroc: number;
  /** V10: one value per positive case, in input order of the positives. */
  readonly v10: Float64Array;
  /** V01: one value per negative case. */
  readonly v01: Float64Array;
}

export function delongComponents(scores: ArrayLike<number>, labels: ArrayLike<number>): DelongComponents {
  const pos: number[] = [];
  const neg: number[] = [];
  for (let i = 0; i < scores.length; i++) (labels[i] === 1 ? pos : neg).push(scores[i]!);
  const m = pos.length;
  const n = neg.length;
  const tx = midranks(pos);
  const ty = midranks(neg);
  const tz = midranks([...pos, ...neg]);
  const v10 = new Float64Array(m);
  const v01 = new Float64Array(n);
  let sum = 0;
  for (let i = 0; i < m; i++) {
    v10[i] = (tz[i]! - tx[i]!) / n;
    sum += v10[i]!;
  }
  for (let j = 0; j < n; j++) v01[j] = 1 - (tz[m + j]! - ty[j]!) / m;
  return { auroc: m === 0 || n === 0 ? Number.NaN : sum / m, v10, v01 };
}

function covariance(a: Float64Array, b: Float64Array): number {
  const k = a.length;
  if (k < 2) return Number.NaN;
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < k; i++) {
    ma += a[i]!;
    mb += b[i]!;
  }
  ma /= k;
  mb /= k;
  let s = 0;
  for (let i = 0; i < k; i++) s += (a[i]! - ma) * (b[i]! - mb);
  return s / (k - 1);
}

export interface DelongEstimate {
  readonly auroc: number;
  readonly variance: number;
  readonly se: number;
  /** 95% normal interval, clipped to [0, 1] (as pROC's ci.auc with method = "delong"). */
  readonly ciLow: number;
  readonly ciHigh: number;
}

/** AUROC with DeLong's variance: S10/m + S01/n. */
export function delongAuroc(scores: ArrayLike<number>, labels: ArrayLike<number>, z = Z_975): DelongEstimate {
  const c = delongComponents(scores, labels);
  const variance = covariance(c.v10, c.v10) / c.v10.length + covariance(c.v01, c.v01) / c.v01.length;
  const se = Math.sqrt(variance);
  return { auroc: c.auroc, variance, se, ciLow: Math.max(0, c.auroc - z * se), ciHigh: Math.min(1, c.auroc + z * se) };
}

export interface PairedDelong {
  readonly aurocA: number;
  readonly aurocB: number;
  /** A − B. */
  readonly difference: number;
  readonly se: number;
  readonly ciLow: number;
  readonly ciHigh: number;
  /** Two-sided p-value of H0: AUROC_A = AUROC_B (may underflow to 0 below 1e-323; `log10PValue` does not). */
  readonly pValue: number;
  readonly log10PValue: number;
}

/** Paired comparison of two models' AUROCs on the same cases (DeLong 1988, §3). */
export function delongPaired(scoresA: ArrayLike<number>, scoresB: ArrayLike<number>, labels: ArrayLike<number>, z = Z_975): PairedDelong {
  const a = delongComponents(scoresA, labels);
  const b = delongComponents(scoresB, labels);
  const m = a.v10.length;
  const n = a.v01.length;
  const varA = covariance(a.v10, a.v10) / m + covariance(a.v01, a.v01) / n;
  const varB = covariance(b.v10, b.v10) / m + covariance(b.v01, b.v01) / n;
  const cov = covariance(a.v10, b.v10) / m + covariance(a.v01, b.v01) / n;
  const difference = a.auroc - b.auroc;
  const se = Math.sqrt(Math.max(0, varA + varB - 2 * cov));
  const stat = se === 0 ? 0 : difference / se;
  const p = se === 0 ? { p: difference === 0 ? 1 : 0, log10: difference === 0 ? 0 : Number.NEGATIVE_INFINITY } : twoSidedNormalPValue(stat);
  return {
    aurocA: a.auroc,
    aurocB: b.auroc,
    difference,
    se,
    ciLow: difference - z * se,
    ciHigh: difference + z * se,
    pValue: p.p,
    log10PValue: p.log10,
  };
}
