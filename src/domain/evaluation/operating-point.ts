import { argsortAscending } from './ranks.js';
import { wilsonInterval } from './proportions.js';

export interface OperatingPoint {
  /** Positive when probability >= threshold. */
  readonly threshold: number;
  readonly sensitivity: number;
  readonly specificity: number;
  /** Expected cost per case at the stated prevalence and costs. */
  readonly expectedCost: number;
  readonly rule: string;
}

interface Candidate {
  readonly threshold: number;
  readonly tp: number;
  readonly tn: number;
}

/**
 * Every distinct threshold (each observed probability, plus +∞ for "never positive"), with its
 * counts, from one sorted pass.
 */
function candidates(probabilities: ArrayLike<number>, labels: ArrayLike<number>): { list: Candidate[]; positives: number; negatives: number } {
  const order = argsortAscending(probabilities);
  let positives = 0;
  for (let i = 0; i < labels.length; i++) positives += labels[i] === 1 ? 1 : 0;
  const negatives = labels.length - positives;
  const list: Candidate[] = [];
  // Threshold at the i-th sorted value: cases from i upwards are positive.
  let negBelow = 0;
  let posBelow = 0;
  let i = 0;
  while (i < order.length) {
    const v = probabilities[order[i]!]!;
    list.push({ threshold: v, tp: positives - posBelow, tn: negBelow });
    while (i < order.length && probabilities[order[i]!]! === v) {
      if (labels[order[i]!] === 1) posBelow++;
      else negBelow++;
      i++;
    }
  }
  list.push({ threshold: Number.POSITIVE_INFINITY, tp: 0, tn: negatives });
  return { list, positives, negatives };
}

/**
 * Minimum expected cost at a stated prevalence π (not the sample's): cost(t) = C_FN·π·(1 − se(t))
 * + C_FP·(1 − π)·(1 − sp(t)), over every observed threshold. Ties go to the lower threshold (the
 * more sensitive one).
 */
export function costOptimalOperatingPoint(
  probabilities: ArrayLike<number>,
  labels: ArrayLike<number>,
  costs: { readonly falseNegative: number; readonly falsePositive: number },
  prevalence: number,
): OperatingPoint {
  const { list, positives, negatives } = candidates(probabilities, labels);
  let best: OperatingPoint | undefined;
  for (const c of list) {
    const se = c.tp / positives;
    const sp = c.tn / negatives;
    const cost = costs.falseNegative * prevalence * (1 - se) + costs.falsePositive * (1 - prevalence) * (1 - sp);
    if (best === undefined || cost < best.expectedCost - 1e-15) {
      best = { threshold: c.threshold, sensitivity: se, specificity: sp, expectedCost: cost, rule: '' };
    }
  }
  const b = best as OperatingPoint;
  return {
    ...b,
    rule: `minimum expected cost C_FN·π·(1 − se) + C_FP·(1 − π)·(1 − sp) over the ${list.length} observed thresholds, C_FN = ${costs.falseNegative}, C_FP = ${costs.falsePositive}, π = ${prevalence}`,
  };
}

/**
 * The most specific threshold whose sensitivity's Wilson 95% lower bound is at least the target,
 * or undefined when none reaches it.
 */
export function constrainedOperatingPoint(
  probabilities: ArrayLike<number>,
  labels: ArrayLike<number>,
  minSensitivityLowerBound: number,
  costs: { readonly falseNegative: number; readonly falsePositive: number },
  prevalence: number,
): OperatingPoint | undefined {
  const { list, positives, negatives } = candidates(probabilities, labels);
  let best: OperatingPoint | undefined;
  for (const c of list) {
    if (wilsonInterval(c.tp, positives).low < minSensitivityLowerBound) continue;
    const se = c.tp / positives;
    const sp = c.tn / negatives;
    if (best === undefined || sp > best.specificity) {
      const cost = costs.falseNegative * prevalence * (1 - se) + costs.falsePositive * (1 - prevalence) * (1 - sp);
      best = {
        threshold: c.threshold,
        sensitivity: se,
        specificity: sp,
        expectedCost: cost,
        rule: `highest specificity with the Wilson 95% lower bound of sensitivity >= ${minSensitivityLowerBound}`,
      };
    }
  }
  return best;
}
