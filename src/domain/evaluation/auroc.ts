import { argsortAscending } from './ranks.js';

/**
 * Area under the ROC curve as the Mann–Whitney statistic: the probability that a random positive
 * scores higher than a random negative, ties counting one half (Hanley & McNeil 1982). Equal to
 * scikit-learn's roc_auc_score (trapezoidal area under the empirical ROC curve). NaN when either
 * class is absent.
 */
export function computeAuroc(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  const order = argsortAscending(scores);
  let positives = 0;
  let negatives = 0;
  let u = 0;
  let i = 0;
  const n = order.length;
  while (i < n) {
    const v = scores[order[i]!]!;
    let groupPos = 0;
    let groupNeg = 0;
    let j = i;
    while (j < n && scores[order[j]!]! === v) {
      if (labels[order[j]!] === 1) groupPos++;
      else groupNeg++;
      j++;
    }
    u += groupPos * (negatives + 0.5 * groupNeg);
    positives += groupPos;
    negatives += groupNeg;
    i = j;
  }
  return positives === 0 || negatives === 0 ? Number.NaN : u / (positives * negatives);
}

export interface RocPoint {
  readonly threshold: number;
  readonly fpr: number;
  readonly tpr: number;
}

/** The empirical ROC curve, one point per distinct score (from (0,0) to (1,1)), "positive when score >= threshold". */
export function computeRocCurve(scores: ArrayLike<number>, labels: ArrayLike<number>): RocPoint[] {
  const order = argsortAscending(scores);
  let positives = 0;
  for (let i = 0; i < labels.length; i++) if (labels[i] === 1) positives++;
  const negatives = labels.length - positives;
  const points: RocPoint[] = [{ threshold: Number.POSITIVE_INFINITY, fpr: 0, tpr: 0 }];
  let tp = 0;
  let fp = 0;
  let i = order.length - 1;
  while (i >= 0) {
    const v = scores[order[i]!]!;
    while (i >= 0 && scores[order[i]!]! === v) {
      if (labels[order[i]!] === 1) tp++;
      else fp++;
      i--;
    }
    points.push({ threshold: v, fpr: negatives === 0 ? 0 : fp / negatives, tpr: positives === 0 ? 0 : tp / positives });
  }
  return points;
}
