import { linearPercentiles, percentileOfSorted } from '../quality/image-features.js';
import { chiSquareSurvival } from './chi-square.js';

/**
 * A bounded summary of one variable's reference distribution: its quantiles at fixed levels and how
 * many reference values fall in each bin those quantiles cut. This is what a model bundle can store
 * (a few dozen numbers per variable whatever the size of the validation set), and it is all the
 * binned two-sample test below needs.
 *
 * Bins: the distinct quantile values e₁ < … < e_m cut the line into (−∞, e₁], (e₁, e₂], …, (e_m, ∞);
 * `counts` has m + 1 entries. Ties collapse bins (a variable that is 0 for most images has one bin
 * for 0), so the counts are counted, not assumed to be equal.
 */
export interface DistributionSketch {
  readonly n: number;
  /** The quantile at each of the reference's levels (numpy 'linear'), in level order. */
  readonly quantiles: readonly number[];
  readonly counts: readonly number[];
}

/** Quantile levels of a sketch: 5 % steps, 20 bins of about 5 % of the reference each. */
export const SKETCH_LEVELS: readonly number[] = Array.from({ length: 19 }, (_, i) => (i + 1) / 20);

/** The distinct quantile values that cut a sketch's bins, ascending. */
export function binEdges(sketch: Pick<DistributionSketch, 'quantiles'>): number[] {
  return [...new Set(sketch.quantiles)].sort((a, b) => a - b);
}

/** Sketches `values` (finite numbers) at `levels` (strictly increasing, within (0, 1)). */
export function sketchDistribution(values: ArrayLike<number>, levels: readonly number[] = SKETCH_LEVELS): DistributionSketch {
  if (values.length === 0) throw new RangeError('cannot sketch an empty sample');
  const sorted = Float64Array.from(values).sort();
  if (!Number.isFinite(sorted[0]!) || !Number.isFinite(sorted[sorted.length - 1]!)) throw new RangeError('cannot sketch non-finite values');
  const quantiles = levels.map((q) => percentileOfSorted(sorted, q * 100));
  return { n: sorted.length, quantiles, counts: countInBins(sorted, binEdges({ quantiles })) };
}

/** How many of `values` fall in each bin cut by `edges` (ascending): (−∞, e₁], (e₁, e₂], …, (e_m, ∞). */
export function countInBins(values: ArrayLike<number>, edges: readonly number[]): number[] {
  const counts = new Array<number>(edges.length + 1).fill(0);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    // The first edge at or above v (binary search); past the last edge: the open top bin.
    let lo = 0;
    let hi = edges.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (v <= edges[mid]!) hi = mid;
      else lo = mid + 1;
    }
    counts[lo]!++;
  }
  return counts;
}

/** The expected count below which a bin is merged with its neighbour (Cochran's rule for the chi-square approximation). */
export const MIN_EXPECTED_COUNT = 5;

export interface HomogeneityTest {
  /** Pearson's X² of the 2 × k table (no continuity correction; = scipy.stats.chi2_contingency(correction=False)). */
  readonly statistic: number;
  /** k − 1; 0 when the bins could not be kept apart (too few cases, or no variation): then p = 1 and `testable` is false. */
  readonly df: number;
  readonly pValue: number;
  readonly log10PValue: number;
  readonly testable: boolean;
  /** The merged bins: reference and evaluated counts, each bin's upper edge (null: open top). */
  readonly bins: readonly { readonly upper: number | null; readonly reference: number; readonly evaluated: number }[];
  /**
   * Population stability index Σ (q − p) ln(q / p) over the merged bins (p reference, q evaluated
   * proportions, 0.5 added to every count so that an empty bin stays finite): the symmetric
   * Kullback–Leibler divergence of the binned distributions. Conventional reading (Siddiqi 2006,
   * Credit Risk Scorecards): below 0.1 little change, 0.1–0.25 moderate, above 0.25 large.
   */
  readonly psi: number;
  /**
   * P(an evaluated value lies above a reference value) + ½ P(same bin), from the unmerged bins: the
   * common-language effect size (Vargha & Delaney's A). 0.5: no shift in location; above 0.5: the
   * evaluated values are higher. Binning pulls it towards 0.5 (values in one bin count as ties).
   */
  readonly superiority: number;
}

/**
 * Pearson's chi-square test of homogeneity between reference and evaluated counts over the same
 * bins, after merging adjacent bins until each has an expected count of at least
 * MIN_EXPECTED_COUNT in the smaller sample. The merge looks only at the pooled counts, which do not
 * depend on which sample a value came from, so under the null it does not bias the test.
 *
 * Why this test: the bundle cannot hold the validation images, only a summary of them. With bins cut
 * at the reference's own quantiles, the evaluated counts given the bins are multinomial with
 * probabilities that are uniform spacings, whose covariance is that of a multinomial proportion from
 * the reference's n — so the usual 2 × k homogeneity statistic is asymptotically χ²(k − 1) with the
 * reference's counts as they were observed (checked by simulation in binned-shift-test.test.ts). A
 * two-sample Kolmogorov–Smirnov test would need the reference's whole ECDF (every value), and an MMD
 * permutation test a stored sample of vectors; both grow with the validation set.
 */
export function testHomogeneity(reference: readonly number[], evaluated: readonly number[], upperEdges: readonly (number | null)[]): HomogeneityTest {
  if (reference.length !== evaluated.length || upperEdges.length !== reference.length)
    throw new RangeError('reference, evaluated and edges must have one entry per bin');
  const nr = sum(reference);
  const ne = sum(evaluated);
  const total = nr + ne;
  const bins: { upper: number | null; reference: number; evaluated: number }[] = [];
  if (nr > 0 && ne > 0) {
    const smaller = Math.min(nr, ne);
    let r = 0;
    let e = 0;
    for (let j = 0; j < reference.length; j++) {
      r += reference[j]!;
      e += evaluated[j]!;
      if (((r + e) * smaller) / total >= MIN_EXPECTED_COUNT) {
        bins.push({ upper: upperEdges[j]!, reference: r, evaluated: e });
        r = 0;
        e = 0;
      }
    }
    // What is left at the top joins the last bin (or forms the only one).
    const last = bins.pop();
    bins.push(last === undefined ? { upper: null, reference: r, evaluated: e } : { upper: null, reference: last.reference + r, evaluated: last.evaluated + e });
  } else bins.push({ upper: null, reference: nr, evaluated: ne });

  const k = bins.length;
  const psi = populationStabilityIndex(bins);
  let superiority = 0.5;
  if (nr > 0 && ne > 0) {
    superiority = 0;
    let below = 0;
    for (let j = 0; j < reference.length; j++) {
      superiority += (evaluated[j]! / ne) * (below + reference[j]! / nr / 2);
      below += reference[j]! / nr;
    }
  }
  if (k < 2) return { statistic: 0, df: 0, pValue: 1, log10PValue: 0, testable: false, bins, psi, superiority };
  let statistic = 0;
  for (const b of bins) {
    const column = b.reference + b.evaluated;
    const er = (nr * column) / total;
    const ee = (ne * column) / total;
    statistic += (b.reference - er) ** 2 / er + (b.evaluated - ee) ** 2 / ee;
  }
  const { p, log10 } = chiSquareSurvival(statistic, k - 1);
  return { statistic, df: k - 1, pValue: p, log10PValue: log10, testable: true, bins, psi, superiority };
}

function populationStabilityIndex(bins: readonly { readonly reference: number; readonly evaluated: number }[]): number {
  const k = bins.length;
  const nr = sum(bins.map((b) => b.reference)) + 0.5 * k;
  const ne = sum(bins.map((b) => b.evaluated)) + 0.5 * k;
  let psi = 0;
  for (const b of bins) {
    const p = (b.reference + 0.5) / nr;
    const q = (b.evaluated + 0.5) / ne;
    psi += (q - p) * Math.log(q / p);
  }
  return psi;
}

function sum(values: readonly number[]): number {
  let s = 0;
  for (const v of values) s += v;
  return s;
}

/** A continuous variable against its sketch: the homogeneity test plus where the evaluated median sits. */
export interface SketchComparison extends HomogeneityTest {
  readonly referenceMedian: number;
  readonly evaluatedMedian: number;
  /**
   * (evaluated median − reference median) / reference interquartile range; null when the reference's
   * IQR is 0 (a variable constant over its middle half) or its levels lack 0.25, 0.5 or 0.75.
   */
  readonly medianShiftIqr: number | null;
  /**
   * The reference's cumulative level at the evaluated median (e.g. 0.81: above 81 % of the reference),
   * interpolated between the sketch's quantiles and clamped to its first and last levels; `beyond`
   * says when it lies outside them.
   */
  readonly medianAtReferenceLevel: number;
  readonly beyond: 'below' | 'above' | null;
}

/** Compares a sample with a reference sketch made at `levels`. */
export function compareWithSketch(sketch: DistributionSketch, levels: readonly number[], values: ArrayLike<number>): SketchComparison {
  if (sketch.quantiles.length !== levels.length) throw new RangeError('the sketch has one quantile per level');
  const edges = binEdges(sketch);
  const test = testHomogeneity([...sketch.counts], countInBins(values, edges), [...edges, null]);
  // Selection, not a sort: a million evaluated images stay O(n) per variable.
  const evaluatedMedian = values.length === 0 ? Number.NaN : linearPercentiles(values, [50])[0]!;
  const at = (level: number): number | undefined => {
    const i = levels.findIndex((l) => Math.abs(l - level) < 1e-12);
    return i < 0 ? undefined : sketch.quantiles[i];
  };
  const referenceMedian = at(0.5) ?? interpolateQuantile(sketch.quantiles, levels, 0.5);
  const q1 = at(0.25);
  const q3 = at(0.75);
  const iqr = q1 === undefined || q3 === undefined ? 0 : q3 - q1;
  const position = levelAt(sketch.quantiles, levels, evaluatedMedian);
  return {
    ...test,
    referenceMedian,
    evaluatedMedian,
    medianShiftIqr: iqr > 0 && Number.isFinite(evaluatedMedian) ? (evaluatedMedian - referenceMedian) / iqr : null,
    medianAtReferenceLevel: position.level,
    beyond: position.beyond,
  };
}

function interpolateQuantile(quantiles: readonly number[], levels: readonly number[], level: number): number {
  for (let i = 1; i < levels.length; i++) {
    if (levels[i]! >= level) {
      const f = (level - levels[i - 1]!) / (levels[i]! - levels[i - 1]!);
      return quantiles[i - 1]! + f * (quantiles[i]! - quantiles[i - 1]!);
    }
  }
  return quantiles[quantiles.length - 1]!;
}

/** The level at which the sketch's piecewise-linear quantile function reaches `value` (mid-level within a tie). */
function levelAt(quantiles: readonly number[], levels: readonly number[], value: number): { level: number; beyond: 'below' | 'above' | null } {
  const first = levels[0]!;
  const last = levels[levels.length - 1]!;
  if (!Number.isFinite(value)) return { level: Number.NaN, beyond: null };
  if (value < quantiles[0]!) return { level: first, beyond: 'below' };
  if (value > quantiles[quantiles.length - 1]!) return { level: last, beyond: 'above' };
  // Levels whose quantile equals the value (a tie): their middle.
  const equal = levels.filter((_, i) => quantiles[i] === value);
  if (equal.length > 0) return { level: (equal[0]! + equal[equal.length - 1]!) / 2, beyond: null };
  for (let i = 1; i < quantiles.length; i++) {
    if (quantiles[i]! > value) {
      const f = (value - quantiles[i - 1]!) / (quantiles[i]! - quantiles[i - 1]!);
      return { level: levels[i - 1]! + f * (levels[i]! - levels[i - 1]!), beyond: null };
    }
  }
  return { level: last, beyond: null };
}

/**
 * Holm's step-down adjustment (Holm 1979): controls the family-wise error rate at α under any
 * dependence between the tests, which matters here because the image features are strongly
 * correlated (mean, median and percentiles move together). Equal to statsmodels
 * `multipletests(p, method="holm")[1]`. NaN entries (untested) stay NaN and do not count in m.
 */
export function holmAdjust(pValues: readonly number[]): number[] {
  const tested = pValues.map((p, i) => ({ p, i })).filter((x) => !Number.isNaN(x.p));
  tested.sort((a, b) => a.p - b.p || a.i - b.i);
  const m = tested.length;
  const adjusted = pValues.map(() => Number.NaN);
  let running = 0;
  tested.forEach(({ p, i }, rank) => {
    running = Math.max(running, Math.min(1, (m - rank) * p));
    adjusted[i] = running;
  });
  return adjusted;
}
