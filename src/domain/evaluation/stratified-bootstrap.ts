import { SeededRandom } from './random.js';
import { argsortAscending } from './ranks.js';

/**
 * Stratified bootstrap of the AUROC, sensitivity and specificity, overall and per stratum, and of
 * the ROC curve (vertical averaging on a fixed FPR grid).
 *
 * Resampling is stratified by stratum × label: each replicate draws, with replacement, as many
 * cases from every (stratum, label) cell as it holds, so every replicate keeps the observed case
 * mix (pROC's `stratified = TRUE`, extended to strata). Speed comes from sorting once: a replicate
 * is a vector of draw counts (weights) over the cases in score order, and the weighted
 * Mann–Whitney statistic is one linear pass over it. No allocation happens per replicate.
 */
export interface BootstrapInput {
  readonly scores: ArrayLike<number>;
  readonly labels: ArrayLike<number>;
  /** Stratum index (0 … strataCount − 1) per case; omit for one stratum. */
  readonly strata?: ArrayLike<number>;
  readonly strataCount?: number;
  /** Positive when score >= threshold, for sensitivity and specificity. */
  readonly threshold: number;
  readonly replicates: number;
  readonly seed: number;
  /** Number of FPR grid points (0, 1/(k−1), …, 1) for the ROC band; 0 to skip. */
  readonly rocGridPoints?: number;
}

export interface BootstrapReplicates {
  readonly replicates: number;
  readonly strataCount: number;
  readonly auroc: Float64Array;
  readonly sensitivity: Float64Array;
  readonly specificity: Float64Array;
  /** replicate-major: [r * strataCount + s]. */
  readonly aurocByStratum: Float64Array;
  readonly sensitivityByStratum: Float64Array;
  readonly specificityByStratum: Float64Array;
  readonly rocGrid: Float64Array;
  /** replicate-major: [r * grid + k] = TPR at FPR rocGrid[k]. */
  readonly rocTpr: Float64Array;
}

/**
 * Everything a replicate needs, as flat typed arrays (so that worker threads can share them):
 * cases in score order, packed as (stratum << 2) | (tieNext << 1) | label, where tieNext says the
 * next case in score order has the same score; and the (stratum × label) cells as lists of sorted positions.
 */
export interface PreparedBootstrap {
  readonly n: number;
  readonly strataCount: number;
  readonly code: Uint32Array;
  /** First sorted position whose score is >= the threshold. */
  readonly thresholdPos: number;
  readonly cellStart: Uint32Array;
  /** Sorted position → index in cell-major order (cell by cell, each cell in score order). */
  readonly cellIndex: Uint32Array;
  readonly rocGridPoints: number;
  readonly seed: number;
}

export function prepareBootstrap(input: BootstrapInput): PreparedBootstrap {
  const n = input.labels.length;
  const S = input.strataCount ?? 1;
  if (S > 1 << 29) throw new RangeError('too many strata');
  const order = argsortAscending(input.scores);
  const code = new Uint32Array(n);
  let thresholdPos = n;
  const cellSize = new Uint32Array(2 * S);
  for (let i = 0; i < n; i++) {
    const c = order[i]!;
    const label = input.labels[c] === 1 ? 1 : 0;
    const stratum = input.strata === undefined ? 0 : input.strata[c]!;
    const tie = i + 1 < n && input.scores[order[i + 1]!] === input.scores[c] ? 1 : 0;
    code[i] = (stratum << 2) | (tie << 1) | label;
    if (thresholdPos === n && input.scores[c]! >= input.threshold) thresholdPos = i;
    const cell = 2 * stratum + label;
    cellSize[cell] = cellSize[cell]! + 1;
  }
  const cellStart = new Uint32Array(2 * S + 1);
  for (let c = 0; c < 2 * S; c++) cellStart[c + 1] = cellStart[c]! + cellSize[c]!;
  const cellIndex = new Uint32Array(n);
  const fill = cellStart.slice(0, 2 * S);
  for (let i = 0; i < n; i++) {
    const cell = 2 * (code[i]! >>> 2) + (code[i]! & 1);
    cellIndex[i] = fill[cell]!;
    fill[cell] = fill[cell]! + 1;
  }
  return { n, strataCount: S, code, thresholdPos, cellStart, cellIndex, rocGridPoints: input.rocGridPoints ?? 0, seed: input.seed };
}

export function allocateReplicates(strataCount: number, replicates: number, rocGridPoints: number): BootstrapReplicates {
  const S = strataCount;
  const R = replicates;
  const G = rocGridPoints;
  return {
    replicates: R,
    strataCount: S,
    auroc: new Float64Array(R),
    sensitivity: new Float64Array(R),
    specificity: new Float64Array(R),
    aurocByStratum: new Float64Array(R * S),
    sensitivityByStratum: new Float64Array(R * S),
    specificityByStratum: new Float64Array(R * S),
    rocGrid: Float64Array.from({ length: G }, (_, k) => (G === 1 ? 0 : k / (G - 1))),
    rocTpr: new Float64Array(R * G),
  };
}

/** Replicate r's generator seed: each replicate has its own stream, so results do not depend on how replicates are split between threads. */
export function replicateSeed(seed: number, r: number): number {
  return (seed ^ Math.imul(r + 1, 0x9e3779b9)) >>> 0;
}

/** Runs replicates [from, to) of a prepared bootstrap into `out` (allocated for all replicates). */
export function runReplicates(prep: PreparedBootstrap, from: number, to: number, out: BootstrapReplicates): void {
  const { n, code, thresholdPos, cellStart, cellIndex } = prep;
  const S = prep.strataCount;
  const G = prep.rocGridPoints;
  const posS = new Float64Array(S);
  const negS = new Float64Array(S);
  for (let s = 0; s < S; s++) {
    negS[s] = cellStart[2 * s + 1]! - cellStart[2 * s]!;
    posS[s] = cellStart[2 * s + 2]! - cellStart[2 * s + 1]!;
  }
  let P = 0;
  for (let s = 0; s < S; s++) P += posS[s]!;
  const N = n - P;
  // Draw counts, stored cell by cell: a cell's draws land in its own contiguous block (which fits in
  // cache), and the walk in score order reads each block forwards, 2 × strata sequential streams.
  // A count above 65535 would need a case drawn that often from its cell, which for a cell of k
  // cases (mean 1 draw per case) has probability below 1/65535!, so Uint16 is safe and compact.
  const weight = new Uint16Array(n);
  const negBelowS = new Float64Array(S);
  const uS = new Float64Array(S);
  const tpS = new Float64Array(S);
  const tnS = new Float64Array(S);
  const groupNegS = new Float64Array(S);
  const cells = 2 * S;

  for (let r = from; r < to; r++) {
    weight.fill(0);
    // xoshiro128** (as SeededRandom), inlined: the draw loop runs n times per replicate.
    const seeder = new SeededRandom(replicateSeed(prep.seed, r));
    let x0 = seeder.nextUint32() | 0;
    let x1 = seeder.nextUint32() | 0;
    let x2 = seeder.nextUint32() | 0;
    let x3 = seeder.nextUint32() | 0;
    for (let c = 0; c < cells; c++) {
      const start = cellStart[c]!;
      const k = cellStart[c + 1]! - start;
      const scale = k / 4294967296;
      for (let d = 0; d < k; d++) {
        const m = Math.imul(x1, 5);
        const u = Math.imul((m << 7) | (m >>> 25), 9) >>> 0;
        const t = x1 << 9;
        x2 ^= x0;
        x3 ^= x1;
        x1 ^= x2;
        x0 ^= x3;
        x2 ^= t;
        x3 = (x3 << 11) | (x3 >>> 21);
        const at = start + ((u * scale) | 0);
        weight[at] = weight[at]! + 1;
      }
    }
    negBelowS.fill(0);
    uS.fill(0);
    tpS.fill(0);
    tnS.fill(0);
    let negBelow = 0;
    let posBelow = 0;
    let u = 0;
    let tp = 0;
    let tn = 0;
    // ROC grid, walked from FPR 1 down: at a cut below sorted position i, FP = N − negBelow.
    let gk = G - 1;
    const rocBase = r * G;
    let i = 0;
    while (i < n) {
      if (G > 0) {
        const fpAbove = N - negBelow;
        while (gk >= 0 && fpAbove <= out.rocGrid[gk]! * N + 1e-9) {
          out.rocTpr[rocBase + gk] = (P - posBelow) / P;
          gk--;
        }
      }
      const ci = code[i]!;
      if ((ci & 2) === 0) {
        // A score of its own: the common case, one step.
        const w = weight[cellIndex[i]!]!;
        const s = ci >>> 2;
        if ((ci & 1) === 1) {
          u += w * negBelow;
          uS[s] = uS[s]! + w * negBelowS[s]!;
          posBelow += w;
          if (i >= thresholdPos) {
            tp += w;
            tpS[s] = tpS[s]! + w;
          }
        } else {
          negBelow += w;
          negBelowS[s] = negBelowS[s]! + w;
          if (i < thresholdPos) {
            tn += w;
            tnS[s] = tnS[s]! + w;
          }
        }
        i++;
        continue;
      }
      // A tie group [i, j]: positives count half of the tied negatives.
      let j = i;
      while ((code[j]! & 2) !== 0) j++;
      let groupNeg = 0;
      for (let k = i; k <= j; k++) {
        const ck = code[k]!;
        if ((ck & 1) === 0) {
          const s = ck >>> 2;
          const w = weight[cellIndex[k]!]!;
          groupNeg += w;
          groupNegS[s] = groupNegS[s]! + w;
        }
      }
      for (let k = i; k <= j; k++) {
        const ck = code[k]!;
        const w = weight[cellIndex[k]!]!;
        const s = ck >>> 2;
        if ((ck & 1) === 1) {
          u += w * (negBelow + 0.5 * groupNeg);
          uS[s] = uS[s]! + w * (negBelowS[s]! + 0.5 * groupNegS[s]!);
          posBelow += w;
          if (k >= thresholdPos) {
            tp += w;
            tpS[s] = tpS[s]! + w;
          }
        } else if (k < thresholdPos) {
          tn += w;
          tnS[s] = tnS[s]! + w;
        }
      }
      for (let k = i; k <= j; k++) {
        const s = code[k]! >>> 2;
        negBelowS[s] = negBelowS[s]! + groupNegS[s]!;
        groupNegS[s] = 0;
      }
      negBelow += groupNeg;
      i = j + 1;
    }
    if (G > 0) for (; gk >= 0; gk--) out.rocTpr[rocBase + gk] = 0;
    out.auroc[r] = u / (P * N);
    out.sensitivity[r] = tp / P;
    out.specificity[r] = tn / N;
    const base = r * S;
    for (let s = 0; s < S; s++) {
      out.aurocByStratum[base + s] = uS[s]! / (posS[s]! * negS[s]!);
      out.sensitivityByStratum[base + s] = tpS[s]! / posS[s]!;
      out.specificityByStratum[base + s] = tnS[s]! / negS[s]!;
    }
  }
}

/** The whole bootstrap in this thread. */
export function bootstrapStratified(input: BootstrapInput): BootstrapReplicates {
  const prep = prepareBootstrap(input);
  const out = allocateReplicates(prep.strataCount, input.replicates, prep.rocGridPoints);
  runReplicates(prep, 0, input.replicates, out);
  return out;
}

/** Linear-interpolated quantile (numpy's default, "type 7") of the finite values; NaN when none. */
export function quantile(values: ArrayLike<number>, q: number): number {
  const finite: number[] = [];
  for (let i = 0; i < values.length; i++) if (Number.isFinite(values[i])) finite.push(values[i]!);
  if (finite.length === 0) return Number.NaN;
  const sorted = Float64Array.from(finite).sort();
  const h = (sorted.length - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo]! + (h - lo) * (sorted[hi]! - sorted[lo]!);
}

/**
 * Replicates each end of a percentile interval must have beyond it. With R replicates the α/2 end
 * is an order statistic with about k = R·α/2 replicates below it, and the tail probability it
 * actually cuts off varies from run to run as a Beta(k, R − k + 1) variable (SD ≈ √k / R). With the
 * k = 1 that R = 2/(1 − level) guarantees (40 at 95%), that is 2.5% ± 2.5%: the "2.5th percentile"
 * may be the 0.1st or the 7.5th, so the interval's coverage is anyone's guess. k = 5 (R = 200 at
 * 95%) gives 2.5% ± 1.1%; the default 2,000 gives ± 0.35%.
 */
export const REPLICATES_BEYOND_EACH_END = 5;

/** The fewest bootstrap replicates accepted for a percentile interval at this level: 200 at 95%. */
export function minimumBootstrapReplicates(level = 0.95): number {
  // The small slack keeps 5 / 0.025000000000000022 (1 − 0.95 in binary) at 200.
  return Math.ceil(REPLICATES_BEYOND_EACH_END / ((1 - level) / 2) - 1e-9);
}

/**
 * As `quantile`, but ±Infinity count as values (a replicate whose statistic diverged, such as a
 * calibration slope on separated data): an end that lands on or next to one is infinite (unbounded).
 */
export function quantileWithInfinities(values: ArrayLike<number>, q: number): number {
  const kept: number[] = [];
  for (let i = 0; i < values.length; i++) if (!Number.isNaN(values[i])) kept.push(values[i]!);
  if (kept.length === 0) return Number.NaN;
  const sorted = Float64Array.from(kept).sort();
  const h = (sorted.length - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, sorted.length - 1);
  const a = sorted[lo]!;
  const b = sorted[hi]!;
  if (h === lo || a === b) return a;
  if (!Number.isFinite(a)) return a;
  if (!Number.isFinite(b)) return b;
  return a + (h - lo) * (b - a);
}

/** Percentile interval (Efron & Tibshirani 1993, §13.3) at 95%. */
export function percentileInterval(values: ArrayLike<number>, level = 0.95): { low: number; high: number } {
  return { low: quantile(values, (1 - level) / 2), high: quantile(values, 1 - (1 - level) / 2) };
}

/** Column s of a replicate-major matrix, or (column s − overall) when `minus` is given. */
export function strideColumn(matrix: Float64Array, columns: number, s: number, minus?: Float64Array): Float64Array {
  const rows = matrix.length / columns;
  return Float64Array.from({ length: rows }, (_, r) => matrix[r * columns + s]! - (minus === undefined ? 0 : minus[r]!));
}
