import type { QualityThresholds, ReferenceStatistics } from '../model/model-manifest.js';
import { percentileOfSorted, type ImageFeatureName, type ImageFeatures } from './image-features.js';
import { pairwiseSum } from './pairwise-sum.js';

/**
 * The gate's thresholds (`quality`) and out-of-distribution reference (`referenceStatistics`) derived
 * from the features of a model's reference images — the rules models/pneumonia-demo/train.py states
 * in each `source` string of the demo manifest, here in one place so that `vigil model init` builds
 * them with the gate's own feature code (image-features.ts). Pure: the caller measures the images.
 *
 * Percentiles are numpy's default (linear interpolation between order statistics), as the gate's
 * features are; rounding to 6 decimals rounds the exact binary value half away from zero (Python's
 * round() is half-even on exact ties, which a feature value almost never is).
 */

/** The features the Mahalanobis distance is measured over (the demo's choice: location, spread and sharpness). */
export const REFERENCE_FEATURES: readonly ImageFeatureName[] = ['mean', 'std', 'p05', 'p25', 'p50', 'p75', 'p95', 'laplacianVariance'];

/** An image whose standard deviation is at most one 8-bit grey level carries nothing to judge. */
export const CONSTANT_STD = 1 / 255;

/** Ridge added to the covariance, relative to its mean eigenvalue (trace / k), so that it always inverts. */
const COVARIANCE_RIDGE = 1e-6;

/** Fewest reference images: below this the 0.1th percentile and a k × k covariance say nothing. */
export const MIN_REFERENCE_IMAGES = 40;

/** Rounds to 6 decimals from the exact binary value (toFixed), not from x·1e6, which can carry an error of its own. */
export function round6(x: number): number {
  // + 0 turns -0 (a tiny negative rounded) into 0.
  return Number(x.toFixed(6)) + 0;
}

function sortedColumn(features: readonly ImageFeatures[], name: ImageFeatureName): Float64Array {
  return Float64Array.from(features, (f) => f[name]).sort();
}

/**
 * Quality thresholds from the reference images' features:
 * - saturatedFraction (higher is worse): warn at the 99th percentile; reject at max(99.9th percentile, 0.5);
 * - dynamicRange, laplacianVariance (lower is worse): warn at the 1st percentile; reject at half the 0.1th;
 * - constantStd: one 8-bit grey level.
 * `of` describes the images for the `source` strings, e.g. "the 4708 images of PneumoniaMNIST train split".
 *
 * @example deriveQualityThresholds(referenceFeatures, 'the 4708 images of …').dynamicRange.warn
 */
export function deriveQualityThresholds(features: readonly ImageFeatures[], of: string): QualityThresholds {
  const pct = (name: ImageFeatureName, q: number): number => percentileOfSorted(sortedColumn(features, name), q);
  const satWarn = pct('saturatedFraction', 99);
  const sat999 = pct('saturatedFraction', 99.9);
  const lowerIsWorse = (name: ImageFeatureName): QualityThresholds['dynamicRange'] => {
    const p001 = pct(name, 0.1);
    return {
      warn: round6(pct(name, 1)),
      reject: round6(p001 * 0.5),
      source: `lower is worse. warn: 1st percentile of ${of} as analysis images (numpy linear percentile); reject: 0.5 x the 0.1th percentile (${round6(p001)})`,
    };
  };
  return {
    saturatedFraction: {
      warn: round6(satWarn),
      reject: round6(Math.max(sat999, 0.5)),
      source: `warn: 99th percentile of ${of} as analysis images (numpy linear percentile); reject: max(99.9th percentile = ${round6(sat999)}, 0.5), i.e. at least half the image clipped`,
    },
    dynamicRange: lowerIsWorse('dynamicRange'),
    laplacianVariance: lowerIsWorse('laplacianVariance'),
    constantStd: CONSTANT_STD,
  };
}

/**
 * The out-of-distribution reference: the mean of REFERENCE_FEATURES over the images, the precision
 * matrix = inverse of (sample covariance (n − 1) + 1e-6 · trace/k · I), made exactly symmetric, and
 * distance thresholds: warn at the 99th percentile of the images' own Mahalanobis distances, reject at
 * 1.5 × the largest.
 *
 * The arithmetic follows numpy's where it can be followed: column means and the trace are numpy's
 * pairwise sums, the covariance is scaled by 1/(n − 1) as np.cov does (a product, not a division), and
 * the inverse is an LU factorisation with partial pivoting solved column by column, as
 * np.linalg.inv (LAPACK gesv) does. The covariance's sums of products are taken in image order;
 * np.cov hands them to BLAS (syrk/gemm), whose blocked, vectorised kernels add in an order of their
 * own, so the two differ in the last bits (about 1e-14 relative on the demo's reference images). The
 * precision matrix magnifies that by the covariance's condition number (1.6e4 for the demo).
 */
export function deriveReferenceStatistics(features: readonly ImageFeatures[], of: string): ReferenceStatistics {
  const n = features.length;
  const k = REFERENCE_FEATURES.length;
  const table = new Float64Array(n * k);
  features.forEach((f, i) => REFERENCE_FEATURES.forEach((name, j) => (table[i * k + j] = f[name])));
  const mean = REFERENCE_FEATURES.map((_, j) => pairwiseSum(table, j, n, k) / n);
  const centred = table.map((v, i) => v - mean[i % k]!);
  const scale = 1 / (n - 1);
  const cov: number[][] = [];
  for (let a = 0; a < k; a++) {
    cov.push([]);
    for (let b = 0; b < k; b++) {
      let s = 0;
      for (let i = 0; i < n; i++) s += centred[i * k + a]! * centred[i * k + b]!;
      cov[a]!.push(s * scale);
    }
  }
  const trace = pairwiseSum(cov.map((row, j) => row[j]!));
  const ridge = (COVARIANCE_RIDGE * trace) / k;
  for (let j = 0; j < k; j++) cov[j]![j]! += ridge;
  const inverse = invertMatrix(cov);
  const precision = inverse.map((row, a) => row.map((v, b) => (v + inverse[b]![a]!) / 2));
  const distances = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let q = 0;
    for (let a = 0; a < k; a++) for (let b = 0; b < k; b++) q += centred[i * k + a]! * precision[a]![b]! * centred[i * k + b]!;
    distances[i] = Math.sqrt(Math.max(0, q));
  }
  const sorted = distances.sort();
  const largest = sorted[n - 1]!;
  return {
    features: [...REFERENCE_FEATURES],
    mean,
    precision,
    distance: {
      warn: round6(percentileOfSorted(sorted, 99)),
      reject: round6(1.5 * largest),
      source:
        `Mahalanobis distance of ${of} to their own mean. precision = inverse of (sample covariance (ddof 1) + 1e-6 * trace/k * I), k = ${k}. ` +
        `warn: 99th percentile of these distances; reject: 1.5 x the largest (${round6(largest)})`,
    },
    n,
  };
}

/**
 * Inverse of a square, non-singular matrix as LAPACK's gesv finds it with the identity on the right:
 * LU factorisation with partial pivoting (the largest pivot in each column, the multipliers scaled by
 * its reciprocal), then forward substitution with the unit lower factor and back substitution with the
 * upper one, one column of the identity at a time. Throws RangeError for a singular matrix.
 */
export function invertMatrix(matrix: readonly (readonly number[])[]): number[][] {
  const n = matrix.length;
  const lu = matrix.map((row) => [...row]);
  const pivots: number[] = [];
  for (let j = 0; j < n; j++) {
    let p = j;
    for (let i = j + 1; i < n; i++) if (Math.abs(lu[i]![j]!) > Math.abs(lu[p]![j]!)) p = i;
    if (lu[p]![j] === 0 || !Number.isFinite(lu[p]![j]!)) throw new RangeError('the matrix is singular');
    pivots.push(p);
    [lu[j], lu[p]] = [lu[p]!, lu[j]!];
    const reciprocal = 1 / lu[j]![j]!;
    for (let i = j + 1; i < n; i++) lu[i]![j]! *= reciprocal;
    for (let i = j + 1; i < n; i++) for (let c = j + 1; c < n; c++) lu[i]![c]! -= lu[i]![j]! * lu[j]![c]!;
  }
  const columns: number[][] = [];
  for (let col = 0; col < n; col++) {
    const b = Array.from({ length: n }, (_, i): number => (i === col ? 1 : 0));
    pivots.forEach((p, j) => ([b[j], b[p]] = [b[p]!, b[j]!]));
    for (let c = 0; c < n; c++) if (b[c] !== 0) for (let i = c + 1; i < n; i++) b[i]! -= b[c]! * lu[i]![c]!;
    for (let c = n - 1; c >= 0; c--) {
      if (b[c] === 0) continue;
      b[c]! /= lu[c]![c]!;
      for (let i = 0; i < c; i++) b[i]! -= b[c]! * lu[i]![c]!;
    }
    columns.push(b);
  }
  return Array.from({ length: n }, (_, i) => columns.map((column) => column[i]!));
}
