import { SeededRandom } from './random.js';
import { argsortAscending } from './ranks.js';
import { percentileInterval, replicateSeed } from './stratified-bootstrap.js';

/**
 * Paired bootstrap of the difference between two models' AUROCs on the same cases (the
 * alternative to paired DeLong for non-inferiority; pROC's roc.test(method = "bootstrap",
 * paired = TRUE, boot.stratified = TRUE) resamples the same way).
 *
 * Each replicate draws, with replacement, as many positives from the positives and as many
 * negatives from the negatives as there are (stratified by label, so every replicate has both
 * classes and the observed prevalence), and scores the SAME drawn cases under both models, so the
 * correlation between the models is kept. A replicate is a vector of draw counts over the cases;
 * each model's scores are sorted once, and its AUROC on a replicate is one weighted Mann–Whitney
 * pass in that order (ties count ½), O(n) per replicate and model. Replicate r draws from its own
 * generator, seeded from (seed, r) as the stratified bootstrap does.
 */
export interface PairedBootstrapOptions {
  readonly replicates: number;
  readonly seed: number;
  /** Two-sided level of the percentile interval (default 0.95). */
  readonly level?: number;
}

export interface PairedBootstrapResult {
  readonly aurocA: number;
  readonly aurocB: number;
  /** AUROC_A − AUROC_B on the observed cases. */
  readonly difference: number;
  /** Percentile interval of the replicate differences. */
  readonly ciLow: number;
  readonly ciHigh: number;
  /** Standard deviation of the replicate differences (the bootstrap standard error). */
  readonly se: number;
  readonly replicates: number;
  readonly seed: number;
  readonly level: number;
  /** One difference per replicate, in replicate order. */
  readonly differences: Float64Array;
}

/** One model's cases in ascending score order, with where each run of tied scores ends. */
interface SortedModel {
  readonly order: Uint32Array;
  /** tieNext[k] = 1 when the case at sorted position k + 1 has the same score as the one at k. */
  readonly tieNext: Uint8Array;
}

export interface PreparedPairedBootstrap {
  readonly n: number;
  readonly labels: Uint8Array;
  readonly positives: Uint32Array;
  readonly negatives: Uint32Array;
  readonly a: SortedModel;
  readonly b: SortedModel;
}

function sortModel(scores: ArrayLike<number>): SortedModel {
  const order = argsortAscending(scores);
  const tieNext = new Uint8Array(order.length);
  for (let k = 0; k + 1 < order.length; k++) tieNext[k] = scores[order[k + 1]!] === scores[order[k]!] ? 1 : 0;
  return { order, tieNext };
}

export function preparePairedBootstrap(scoresA: ArrayLike<number>, scoresB: ArrayLike<number>, labels: ArrayLike<number>): PreparedPairedBootstrap {
  const n = labels.length;
  if (scoresA.length !== n || scoresB.length !== n) throw new RangeError('both models need one score per case');
  const y = Uint8Array.from({ length: n }, (_, i) => (labels[i] === 1 ? 1 : 0));
  const pos: number[] = [];
  const neg: number[] = [];
  for (let i = 0; i < n; i++) (y[i] === 1 ? pos : neg).push(i);
  return { n, labels: y, positives: Uint32Array.from(pos), negatives: Uint32Array.from(neg), a: sortModel(scoresA), b: sortModel(scoresB) };
}

/** Weighted Mann–Whitney AUROC: `weight[i]` copies of case i (NaN when a class has no weight). */
function weightedAuroc(model: SortedModel, labels: Uint8Array, weight: ArrayLike<number>): number {
  const { order, tieNext } = model;
  let negBelow = 0;
  let pos = 0;
  let u = 0;
  let k = 0;
  const n = order.length;
  while (k < n) {
    let groupPos = 0;
    let groupNeg = 0;
    for (;;) {
      const c = order[k]!;
      const w = weight[c]!;
      if (labels[c] === 1) groupPos += w;
      else groupNeg += w;
      if (tieNext[k++] !== 1) break;
    }
    u += groupPos * (negBelow + 0.5 * groupNeg);
    pos += groupPos;
    negBelow += groupNeg;
  }
  return pos === 0 || negBelow === 0 ? Number.NaN : u / (pos * negBelow);
}

/**
 * AUROC_A − AUROC_B when case i is counted `weight[i]` times (a resample given as draw counts).
 * Exported so that a resample can be checked against scikit-learn on the same drawn indices.
 */
export function weightedAurocDifference(prep: PreparedPairedBootstrap, weight: ArrayLike<number>): number {
  return weightedAuroc(prep.a, prep.labels, weight) - weightedAuroc(prep.b, prep.labels, weight);
}

/** Draw counts of replicate r: |positives| draws among the positives, |negatives| among the negatives. */
export function pairedReplicateWeights(prep: PreparedPairedBootstrap, seed: number, r: number, into?: Uint32Array): Uint32Array {
  const weight = into ?? new Uint32Array(prep.n);
  weight.fill(0);
  const random = new SeededRandom(replicateSeed(seed, r));
  for (const cell of [prep.positives, prep.negatives]) {
    const k = cell.length;
    for (let d = 0; d < k; d++) {
      const i = cell[random.nextInt(k)]!;
      weight[i] = weight[i]! + 1;
    }
  }
  return weight;
}

/**
 * Paired, label-stratified bootstrap of AUROC_A − AUROC_B with a percentile interval.
 *
 * @example
 * const r = pairedBootstrapAurocDifference(candidate, reference, labels, { replicates: 2000, seed: 20231 });
 * const nonInferior = r.ciLow > -0.02; // margin 0.02
 */
export function pairedBootstrapAurocDifference(
  scoresA: ArrayLike<number>,
  scoresB: ArrayLike<number>,
  labels: ArrayLike<number>,
  options: PairedBootstrapOptions,
): PairedBootstrapResult {
  if (!Number.isInteger(options.replicates) || options.replicates < 1) throw new RangeError('replicates must be a positive integer');
  const level = options.level ?? 0.95;
  const prep = preparePairedBootstrap(scoresA, scoresB, labels);
  const ones = new Uint8Array(prep.n).fill(1);
  const aurocA = weightedAuroc(prep.a, prep.labels, ones);
  const aurocB = weightedAuroc(prep.b, prep.labels, ones);
  const differences = new Float64Array(options.replicates);
  const weight = new Uint32Array(prep.n);
  let sum = 0;
  for (let r = 0; r < options.replicates; r++) {
    pairedReplicateWeights(prep, options.seed, r, weight);
    differences[r] = weightedAurocDifference(prep, weight);
    sum += differences[r]!;
  }
  const mean = sum / options.replicates;
  let ss = 0;
  for (const d of differences) ss += (d - mean) * (d - mean);
  const ci = percentileInterval(differences, level);
  return {
    aurocA,
    aurocB,
    difference: aurocA - aurocB,
    ciLow: ci.low,
    ciHigh: ci.high,
    se: options.replicates > 1 ? Math.sqrt(ss / (options.replicates - 1)) : Number.NaN,
    replicates: options.replicates,
    seed: options.seed,
    level,
    differences,
  };
}
