import { Z_975 } from '../evaluation/normal.js';

/**
 * Performance estimated without labels (issue 12 §1): confidence-based performance estimation, CBPE
 * (as NannyML's): if the model's calibrated probability p of the finding is right on the new data,
 * each decided case is a positive with probability p, so the expected confusion matrix of the cases
 * decided is E[TP] = Σ_pos p, E[FP] = Σ_pos (1 − p), E[FN] = Σ_neg p, E[TN] = Σ_neg (1 − p), and every
 * rate follows from it. Referred and rejected cases are left out of sensitivity, specificity, PPV and
 * NPV, as the reviewed estimate leaves them out (a person reads them anyway); expected prevalence is the
 * mean p of every case with a probability.
 *
 * **Its assumption is calibration on the new data** — P(finding | image) unchanged (no concept shift)
 * and the model still calibrated where the new images fall. It sees a change of case mix (covariate or
 * prevalence shift) that the model scores correctly; it cannot see the model becoming wrong: under a
 * source shift that breaks calibration it reports the old performance (docs/monitoring.md measures it
 * on PneumoniaMNIST's test split, where it is fooled). It is shown beside the reviewed estimate, never
 * instead of it.
 *
 * Interval: how far the realised rate of these very cases may fall from the estimate when their labels
 * are drawn as independent Bernoulli(p) — the sampling variability of the labels given the scores, not
 * any error of calibration. PPV, NPV and prevalence are means of independent Bernoullis, so their
 * variance is exact: Σ p(1 − p) / n². Sensitivity A/(A + B) (A = TP, B = FN, independent sums of
 * Bernoullis over different cases) takes the delta method: V ≈ (B̄² V(A) + Ā² V(B)) / (Ā + B̄)⁴ with
 * Ā, B̄ their expectations and V(A) = Σ_pos p(1 − p), V(B) = Σ_neg p(1 − p); specificity likewise with
 * TN and FP. A normal interval, clipped to [0, 1]. The delta method rather than simulation: closed form,
 * deterministic and cheap on 20,000 cases per page view; a test checks its coverage by simulation.
 */
/** What the estimate assumes and where it fails, in the words the API and the page show beside it. */
export const LABEL_FREE_ASSUMPTION =
  'Estimated without labels from the calibrated probabilities (CBPE): right only while the model stays calibrated on these images (no concept shift). A source shift that breaks calibration leaves it unmoved (PneumoniaMNIST’s test split: specificity estimated 0.82, 95 % 0.79–0.86, realised 0.62); the reviewed estimate is the one to trust.';

export interface LabelFreeCase {
  /** 'none': nothing decided (the gate rejected the image). */
  readonly decision: 'positive' | 'negative' | 'refer' | 'none';
  /** Calibrated probability of the finding; NaN when the model gave none. */
  readonly probability: number;
}

export interface EstimatedRate {
  /** NaN when no case is in its denominator. */
  readonly estimate: number;
  readonly low: number;
  readonly high: number;
  readonly standardError: number;
  /** Cases the rate is over (its denominator's cases: decided positive for PPV, decided for sensitivity…). */
  readonly cases: number;
}

export interface LabelFreePerformance {
  readonly sensitivity: EstimatedRate;
  readonly specificity: EstimatedRate;
  readonly ppv: EstimatedRate;
  readonly npv: EstimatedRate;
  /** Mean probability of every case with one (decided or referred). */
  readonly prevalence: EstimatedRate;
  /** Expected confusion matrix of the decided cases. */
  readonly expected: { readonly tp: number; readonly fp: number; readonly fn: number; readonly tn: number };
  /** Cases decided positive or negative (with a probability in [0, 1]). */
  readonly decided: number;
}

const NONE: EstimatedRate = { estimate: Number.NaN, low: Number.NaN, high: Number.NaN, standardError: Number.NaN, cases: 0 };

function rate(estimate: number, variance: number, cases: number, z: number): EstimatedRate {
  if (cases === 0 || !Number.isFinite(estimate)) return { ...NONE, cases };
  const standardError = Math.sqrt(Math.max(0, variance));
  return { estimate, low: Math.max(0, estimate - z * standardError), high: Math.min(1, estimate + z * standardError), standardError, cases };
}

/** A/(A + B) with A, B independent: the estimate at the expectations and its delta-method variance. */
function ratioOfSums(a: number, varA: number, b: number, varB: number, cases: number, z: number): EstimatedRate {
  const total = a + b;
  if (cases === 0 || !(total > 0)) return { ...NONE, cases };
  return rate(a / total, (b * b * varA + a * a * varB) / total ** 4, cases, z);
}

/**
 * The CBPE estimate of a window's cases (see above). Cases without a finite probability in [0, 1] are
 * left out.
 *
 * @example labelFreePerformance([{ decision: 'positive', probability: 0.9 }, { decision: 'negative', probability: 0.1 }]).ppv.estimate // 0.9
 */
export function labelFreePerformance(cases: readonly LabelFreeCase[], z: number = Z_975): LabelFreePerformance {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  let tn = 0;
  let varPositive = 0; // Σ_pos p(1 − p): the variance of TP, and of FP
  let varNegative = 0; // Σ_neg p(1 − p): the variance of FN, and of TN
  let nPositive = 0;
  let nNegative = 0;
  let sumP = 0;
  let varAll = 0;
  let nAll = 0;
  for (const c of cases) {
    const p = c.probability;
    if (!(p >= 0 && p <= 1) || c.decision === 'none') continue;
    const v = p * (1 - p);
    sumP += p;
    varAll += v;
    nAll++;
    if (c.decision === 'positive') {
      tp += p;
      fp += 1 - p;
      varPositive += v;
      nPositive++;
    } else if (c.decision === 'negative') {
      fn += p;
      tn += 1 - p;
      varNegative += v;
      nNegative++;
    }
  }
  const decided = nPositive + nNegative;
  return {
    sensitivity: ratioOfSums(tp, varPositive, fn, varNegative, decided, z),
    specificity: ratioOfSums(tn, varNegative, fp, varPositive, decided, z),
    ppv: nPositive === 0 ? NONE : rate(tp / nPositive, varPositive / nPositive ** 2, nPositive, z),
    npv: nNegative === 0 ? NONE : rate(tn / nNegative, varNegative / nNegative ** 2, nNegative, z),
    prevalence: nAll === 0 ? NONE : rate(sumP / nAll, varAll / nAll ** 2, nAll, z),
    expected: { tp, fp, fn, tn },
    decided,
  };
}
