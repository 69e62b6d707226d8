import { erfc, normalQuantile } from '../evaluation/normal.js';

/**
 * The standard normal quantile Φ⁻¹(p) to full double precision: Acklam's rational approximation
 * (relative error below 1.2e-9, evaluation/normal.ts) refined by one Halley step on
 * Φ(x) − p with Φ from `erfc` (relative error ≈ 1e-15), which squares the error away
 * (= scipy.stats.norm.ppf to 1e-12 on the committed fixtures).
 */
export function normalQuantilePrecise(p: number): number {
  const x = normalQuantile(p);
  if (!Number.isFinite(x)) return x;
  const e = 0.5 * erfc(-x / Math.SQRT2) - p;
  const u = e * Math.sqrt(2 * Math.PI) * Math.exp((x * x) / 2);
  return x - u / (1 + (x * u) / 2);
}

/**
 * Per-case standardization against a reference sample by normal scores: a value x becomes
 * z = Φ⁻¹(F̂(x)), with F̂(x) = (#{ref < x} + ½·#{ref = x} + ½) / (n + 1), the mid-rank empirical
 * distribution function of the n reference values kept off 0 and 1. Under the reference, z is close
 * to N(0, 1) whatever the variable's shape (the calibrated probability is bimodal, the Laplacian
 * variance heavy-tailed), and |z| ≤ Φ⁻¹(1 − ½/(n + 1)) (3.1 for n = 524): one extreme case cannot
 * push a CUSUM over its threshold on its own, however far out it lies.
 *
 * F̂ is a step function, so z takes one of 2n + 1 values (below every reference value, at each
 * distinct one, between consecutive ones): they are tabulated once, and scoring a case is a binary
 * search, O(log n), with no transcendental function.
 */
export interface NormalScorer {
  /** The distinct reference values, ascending. */
  readonly sorted: Float64Array;
  /** z at each position: even 2i = strictly between sorted[i−1] and sorted[i] (2·m: above all); odd 2i + 1 = equal to sorted[i]. */
  readonly table: Float64Array;
  readonly n: number;
}

/** Builds the scorer of a reference sample (finite values; NaN are left out). */
export function buildNormalScorer(reference: ArrayLike<number>): NormalScorer {
  const values = Float64Array.from(reference)
    .filter((v) => Number.isFinite(v))
    .sort();
  const n = values.length;
  if (n === 0) throw new RangeError('a normal scorer needs at least one finite reference value');
  const distinct: number[] = [];
  const counts: number[] = [];
  for (let i = 0; i < n; i++) {
    const v = values[i]!;
    if (distinct.length > 0 && distinct[distinct.length - 1] === v) counts[counts.length - 1]!++;
    else {
      distinct.push(v);
      counts.push(1);
    }
  }
  const m = distinct.length;
  const table = new Float64Array(2 * m + 1);
  let below = 0;
  for (let i = 0; i <= m; i++) {
    table[2 * i] = normalQuantilePrecise((below + 0.5) / (n + 1));
    if (i < m) {
      const c = counts[i]!;
      table[2 * i + 1] = normalQuantilePrecise((below + 0.5 * c + 0.5) / (n + 1));
      below += c;
    }
  }
  return { sorted: Float64Array.from(distinct), table, n };
}

/** z of one value (NaN stays NaN). */
export function normalScore(scorer: NormalScorer, x: number): number {
  if (Number.isNaN(x)) return Number.NaN;
  const s = scorer.sorted;
  // First index whose value is ≥ x.
  let lo = 0;
  let hi = s.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (s[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return scorer.table[lo < s.length && s[lo] === x ? 2 * lo + 1 : 2 * lo]!;
}
