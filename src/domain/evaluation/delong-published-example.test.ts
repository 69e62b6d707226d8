import { describe, expect, it } from 'vitest';
import { computeAuroc } from './auroc.js';
import { delongAuroc, delongComponents, delongPaired } from './delong.js';
import { SeededRandom } from './random.js';

/**
 * DeLong's method against a published worked example that is an aggregate table, not patient records:
 * Hanley & McNeil (1982), "The meaning and use of the area under a receiver operating characteristic
 * (ROC) curve", Radiology 143:29–36, https://doi.org/10.1148/radiology.143.1.7063747, Table I: one
 * reader rated 109 CT images on a 5-point scale (1 definitely normal … 5 definitely abnormal).
 *
 * Expected numbers: the Stata manual, [R] roctab, Remarks and examples, example 1 (`webuse hanley`,
 * `roctab disease rating`), https://www.stata.com/manuals/rroctab.pdf: "Obs 109, Area 0.8932,
 * Std. Err. 0.0307, Asymptotic Normal 95% Conf. Interval 0.83295 0.95339". roctab's default standard
 * error is DeLong's (S10/n_abnormal + S01/n_normal, divisors n − 1), its interval area ± invnorm(0.975)·SE
 * clipped to [0, 1], printed %8.4f (area, SE) and %8.5f (limits): roctab.ado 7.5.4, programs DeLongSE,
 * _delongse_wrk and MYDIspl (Stata's base ado file, public copy in github.com/opensafely-core/
 * cohort-extractor, bin/ado/base/r/roctab.ado). The printed output is as quoted by a public test suite
 * (the `openecon` Python package's nonparametric tests: "[R] roctab (hanley.dta): Obs 109, area 0.8932,
 * Std. err. 0.0307, 95% CI 0.83295 0.95339"); the same counts are the example of the SSC command
 * roctabi (fmwww.bc.edu/repec/bocode/r/roctabi.sthlp: "roctabi 33 6 6 11 2 \ 3 2 2 11 33"). Counts of
 * ratings per group are a published table, not patient records.
 */
const RATINGS = [1, 2, 3, 4, 5] as const;
const NORMAL = [33, 6, 6, 11, 2] as const; // 58 images
const ABNORMAL = [3, 2, 2, 11, 33] as const; // 51 images

/** One case per image, built from the table's counts. */
function casesFromTable(): { scores: Float64Array; labels: Uint8Array } {
  const scores: number[] = [];
  const labels: number[] = [];
  RATINGS.forEach((rating, k) => {
    for (let i = 0; i < NORMAL[k]!; i++) {
      scores.push(rating);
      labels.push(0);
    }
    for (let i = 0; i < ABNORMAL[k]!; i++) {
      scores.push(rating);
      labels.push(1);
    }
  });
  return { scores: Float64Array.from(scores), labels: Uint8Array.from(labels) };
}

describe("DeLong's method on Hanley & McNeil's CT rating table, as Stata's roctab prints it", () => {
  const { scores, labels } = casesFromTable();

  it('has the 109 images of Table I: 51 abnormal, 58 normal', () => {
    expect(scores).toHaveLength(109);
    expect(labels.reduce((s, v) => s + v, 0)).toBe(51);
  });

  it('roctab disease rating: Obs 109, Area 0.8932, Std. Err. 0.0307, 95% CI 0.83295–0.95339', () => {
    const d = delongAuroc(scores, labels);
    expect(d.auroc.toFixed(4)).toBe('0.8932');
    expect(computeAuroc(scores, labels).toFixed(4)).toBe('0.8932');
    expect(d.se.toFixed(4)).toBe('0.0307');
    expect([d.ciLow.toFixed(5), d.ciHigh.toFixed(5)]).toEqual(['0.83295', '0.95339']);
    // Hanley & McNeil's own figure for this table: W = 0.893.
    expect(d.auroc.toFixed(3)).toBe('0.893');
    // The printed precision separates DeLong's estimator (divisors m − 1, n − 1) from the same sums
    // divided by m and n, which would print 0.0304 and 0.83352–0.95282.
    const c = delongComponents(scores, labels);
    const biased = Math.sqrt(populationVariance(c.v10) / 51 + populationVariance(c.v01) / 58);
    expect(biased.toFixed(4)).toBe('0.0304');
  });

  it('the structural components are the per-rating placements computed from the counts alone', () => {
    // An abnormal image rated k is placed above the normals rated below k and ties half of those rated k;
    // a normal image rated k lies below the abnormals rated above k and ties half of those rated k.
    const below = (counts: readonly number[], k: number): number => counts.slice(0, k).reduce((s, v) => s + v, 0);
    const above = (counts: readonly number[], k: number): number => counts.slice(k + 1).reduce((s, v) => s + v, 0);
    const v10ByRating = RATINGS.map((_, k) => (below(NORMAL, k) + NORMAL[k]! / 2) / 58);
    const v01ByRating = RATINGS.map((_, k) => (above(ABNORMAL, k) + ABNORMAL[k]! / 2) / 51);
    const c = delongComponents(scores, labels);
    const positives = scores.filter((_, i) => labels[i] === 1);
    const negatives = scores.filter((_, i) => labels[i] === 0);
    positives.forEach((rating, i) => expect(c.v10[i]).toBeCloseTo(v10ByRating[rating - 1]!, 15));
    negatives.forEach((rating, j) => expect(c.v01[j]).toBeCloseTo(v01ByRating[rating - 1]!, 15));
    // AUROC = Σ_k abnormal_k · V10_k / 51, exactly as Hanley & McNeil's Table II sums it.
    const w = RATINGS.reduce((s, _, k) => s + ABNORMAL[k]! * v10ByRating[k]!, 0) / 51;
    expect(Math.abs(c.auroc - w)).toBeLessThanOrEqual(1e-15);
  });
});

/** Σ (x − mean)² / k: the biased variance, only to show the printed SE rules it out. */
function populationVariance(x: Float64Array): number {
  const mean = x.reduce((s, v) => s + v, 0) / x.length;
  return x.reduce((s, v) => s + (v - mean) ** 2, 0) / x.length;
}

/**
 * No published aggregate table with a paired DeLong result was found (see docs/validation.md), so the
 * paired comparison is held to its definition (DeLong et al. 1988, §3): the O(m·n) kernel ψ, the
 * structural components of both models, and their covariance, written out here without ranks.
 */
describe('paired DeLong against the pairwise-kernel definition', () => {
  function direct(a: ArrayLike<number>, b: ArrayLike<number>, y: ArrayLike<number>): { difference: number; variance: number } {
    const pos: number[] = [];
    const neg: number[] = [];
    for (let i = 0; i < y.length; i++) (y[i] === 1 ? pos : neg).push(i);
    const psi = (x: number, z: number): number => (x > z ? 1 : x === z ? 0.5 : 0);
    const components = (s: ArrayLike<number>): { v10: number[]; v01: number[]; auc: number } => {
      const v10 = pos.map((i) => neg.reduce((t, j) => t + psi(s[i]!, s[j]!), 0) / neg.length);
      const v01 = neg.map((j) => pos.reduce((t, i) => t + psi(s[i]!, s[j]!), 0) / pos.length);
      return { v10, v01, auc: v10.reduce((t, v) => t + v, 0) / pos.length };
    };
    const cov = (u: number[], v: number[], mu: number, mv: number): number => u.reduce((t, _, i) => t + (u[i]! - mu) * (v[i]! - mv), 0) / (u.length - 1);
    const ca = components(a);
    const cb = components(b);
    const s = (p: 'v10' | 'v01', q: 'v10' | 'v01', x: typeof ca, z: typeof ca): number => cov(x[p], z[q], x.auc, z.auc);
    const varA = s('v10', 'v10', ca, ca) / pos.length + s('v01', 'v01', ca, ca) / neg.length;
    const varB = s('v10', 'v10', cb, cb) / pos.length + s('v01', 'v01', cb, cb) / neg.length;
    const covAB = s('v10', 'v10', ca, cb) / pos.length + s('v01', 'v01', ca, cb) / neg.length;
    return { difference: ca.auc - cb.auc, variance: varA + varB - 2 * covAB };
  }

  it.each([
    [1, 80, 10],
    [2, 150, 4],
    [3, 41, 100],
  ])('seed %i, %i cases, scores rounded to 1/%i (ties): difference and SE to 1e-12', (seed, n, grid) => {
    const random = new SeededRandom(seed);
    const y = Uint8Array.from({ length: n }, (_, i) => (i % 3 === 0 ? 1 : 0));
    const a = Float64Array.from(y, (label) => Math.round((random.nextFloat() + 0.4 * label) * grid) / grid);
    const b = Float64Array.from(a, (v) => Math.round((0.5 * v + 0.5 * random.nextFloat()) * grid) / grid);
    const fast = delongPaired(a, b, y);
    const slow = direct(a, b, y);
    expect(Math.abs(fast.difference - slow.difference)).toBeLessThanOrEqual(1e-12);
    expect(Math.abs(fast.se - Math.sqrt(slow.variance))).toBeLessThanOrEqual(1e-12);
    expect(Math.abs(fast.ciLow - (slow.difference - 1.959963984540054 * Math.sqrt(slow.variance)))).toBeLessThanOrEqual(1e-12);
  });
});
