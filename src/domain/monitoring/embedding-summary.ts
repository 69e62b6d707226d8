/**
 * The per-image summary production monitoring keeps of a model's embedding (the manifest's
 * `embedding` output): its projection onto the top principal components of the version's reference
 * embeddings (its validation images, at `vigil model init`). The multivariate drift detectors (MMD)
 * compare production projections with the reference's own, so both go through the same projection and
 * the same float32 rounding (`roundSummary`).
 *
 * k = 8 (EMBEDDING_SUMMARY_COMPONENTS): on the demo model's 524 validation images (64-dimensional pooled
 * features) the top 8 components keep 99.96 % of the variance (16 keep 99.99 %), and the directions past
 * the 8th are barely determined by a few hundred images (consecutive eigenvalue ratios 1.06–1.09 from the
 * 9th to the 17th, against 1.27 between the 8th and 9th). Fewer dimensions also give a kernel two-sample
 * test more power for the same sample (Rabanser et al., "Failing Loudly", NeurIPS 2019, reduce to a few
 * dozen or fewer) and halve the bytes stored per case (32).
 */

export const EMBEDDING_SUMMARY_COMPONENTS = 8;

export interface EmbeddingProjection {
  /** The embedding's size d. */
  readonly dimension: number;
  /** The reference mean, d values. */
  readonly mean: Float64Array;
  /** k unit components, row-major k × d, by decreasing variance; each one's largest-magnitude entry is positive. */
  readonly components: Float64Array;
  /** The reference's variance along each component (the covariance's eigenvalues, ddof 1), k values. */
  readonly variances: Float64Array;
  /** The reference's total variance (trace of the covariance). */
  readonly totalVariance: number;
}

/** k, the number of components. */
export function projectionSize(p: EmbeddingProjection): number {
  return p.variances.length;
}

/**
 * Principal components of reference embeddings (rows of d values; at least 2 and more than k): the mean,
 * and the top k eigenvectors of the sample covariance (ddof 1) by the cyclic Jacobi method, as numpy's
 * `eigh` of `np.cov(x, rowvar=False)` gives them up to sign (the sign is fixed: largest-magnitude entry
 * positive, the first such entry on a tie).
 *
 * @example fitEmbeddingProjection(referenceRows, 8).variances.length // 8
 */
export function fitEmbeddingProjection(rows: readonly ArrayLike<number>[], k: number = EMBEDDING_SUMMARY_COMPONENTS): EmbeddingProjection {
  const n = rows.length;
  const d = rows[0]?.length ?? 0;
  if (n < 2 || d < 1 || !Number.isInteger(k) || k < 1 || k > d || n <= k) {
    throw new RangeError(`a projection onto ${k} components needs more than ${k} rows of at least ${k} values (got ${n} rows of ${d})`);
  }
  const mean = new Float64Array(d);
  for (const row of rows) {
    if (row.length !== d) throw new RangeError(`every row needs ${d} values`);
    for (let j = 0; j < d; j++) mean[j]! += row[j]!;
  }
  for (let j = 0; j < d; j++) mean[j]! /= n;
  const cov = new Float64Array(d * d);
  const centred = new Float64Array(d);
  for (const row of rows) {
    for (let j = 0; j < d; j++) centred[j] = row[j]! - mean[j]!;
    for (let a = 0; a < d; a++) {
      const ca = centred[a]!;
      for (let b = a; b < d; b++) cov[a * d + b]! += ca * centred[b]!;
    }
  }
  let totalVariance = 0;
  for (let a = 0; a < d; a++) {
    for (let b = a; b < d; b++) {
      const v = cov[a * d + b]! / (n - 1);
      cov[a * d + b] = v;
      cov[b * d + a] = v;
    }
    totalVariance += cov[a * d + a]!;
  }
  const { values, vectors } = symmetricEigen(cov, d);
  const order = Array.from({ length: d }, (_, i) => i).sort((x, y) => values[y]! - values[x]! || x - y);
  const components = new Float64Array(k * d);
  const variances = new Float64Array(k);
  for (let c = 0; c < k; c++) {
    const col = order[c]!;
    variances[c] = values[col]!;
    let pivot = 0;
    for (let j = 1; j < d; j++) if (Math.abs(vectors[j * d + col]!) > Math.abs(vectors[pivot * d + col]!)) pivot = j;
    const sign = vectors[pivot * d + col]! < 0 ? -1 : 1;
    for (let j = 0; j < d; j++) components[c * d + j] = sign * vectors[j * d + col]!;
  }
  return { dimension: d, mean, components, variances, totalVariance };
}

/** The embedding's coordinates on the components: (e − mean) · componentᵢ, i = 1…k, in float64. */
export function projectEmbedding(p: EmbeddingProjection, embedding: ArrayLike<number>): Float64Array {
  const d = p.dimension;
  if (embedding.length !== d) throw new RangeError(`the embedding has ${embedding.length} values, the projection takes ${d}`);
  const k = projectionSize(p);
  const out = new Float64Array(k);
  for (let c = 0; c < k; c++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += (embedding[j]! - p.mean[j]!) * p.components[c * d + j]!;
    out[c] = s;
  }
  return out;
}

/**
 * A projection as stored (the monitor store's float32 column, the reference file's values): each
 * coordinate rounded to float32, so that reference and production summaries carry the same precision.
 */
export function roundSummary(projected: ArrayLike<number>): Float32Array {
  return Float32Array.from(projected);
}

/**
 * Eigenvalues and eigenvectors (columns of a row-major d × d matrix) of a symmetric matrix, by cyclic
 * Jacobi rotations with the rotation angle of Rutishauser (Numerical Recipes §11.1), until every
 * off-diagonal entry is negligible against the diagonal. Accurate to a few ulps of the largest
 * eigenvalue; O(d³) per sweep, a few sweeps (64 × 64: milliseconds).
 */
function symmetricEigen(matrix: Float64Array, d: number): { values: Float64Array; vectors: Float64Array } {
  const a = Float64Array.from(matrix);
  const v = new Float64Array(d * d);
  for (let i = 0; i < d; i++) v[i * d + i] = 1;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < d; p++) for (let q = p + 1; q < d; q++) off += a[p * d + q]! * a[p * d + q]!;
    if (off === 0) break;
    for (let p = 0; p < d - 1; p++) {
      for (let q = p + 1; q < d; q++) {
        const apq = a[p * d + q]!;
        const app = a[p * d + p]!;
        const aqq = a[q * d + q]!;
        // Negligible against both diagonal entries: set to zero (NR's test, in double precision).
        if (Math.abs(apq) <= Number.EPSILON * 0.5 * Math.min(Math.abs(app), Math.abs(aqq)) || apq === 0) {
          a[p * d + q] = 0;
          a[q * d + p] = 0;
          continue;
        }
        const theta = (aqq - app) / (2 * apq);
        const t = (theta >= 0 ? 1 : -1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let r = 0; r < d; r++) {
          const arp = a[r * d + p]!;
          const arq = a[r * d + q]!;
          a[r * d + p] = c * arp - s * arq;
          a[r * d + q] = s * arp + c * arq;
        }
        for (let r = 0; r < d; r++) {
          const apr = a[p * d + r]!;
          const aqr = a[q * d + r]!;
          a[p * d + r] = c * apr - s * aqr;
          a[q * d + r] = s * apr + c * aqr;
        }
        a[p * d + q] = 0;
        a[q * d + p] = 0;
        for (let r = 0; r < d; r++) {
          const vrp = v[r * d + p]!;
          const vrq = v[r * d + q]!;
          v[r * d + p] = c * vrp - s * vrq;
          v[r * d + q] = s * vrp + c * vrq;
        }
      }
    }
  }
  const values = new Float64Array(d);
  for (let i = 0; i < d; i++) values[i] = a[i * d + i]!;
  return { values, vectors: v };
}
