export interface NetBenefitPoint {
  readonly threshold: number;
  /** Net benefit of acting on the model at this threshold probability. */
  readonly model: number;
  /** Net benefit of treating everyone. */
  readonly treatAll: number;
}

/**
 * Decision curve analysis (Vickers & Elkin 2006): at threshold probability pt, acting when
 * p >= pt has net benefit TP/n − FP/n · pt/(1 − pt); "treat none" is 0; "treat all" is
 * π − (1 − π) · pt/(1 − pt) with π the sample prevalence.
 */
export function decisionCurve(probabilities: ArrayLike<number>, labels: ArrayLike<number>, thresholds: readonly number[]): NetBenefitPoint[] {
  const n = labels.length;
  let positives = 0;
  for (let i = 0; i < n; i++) positives += labels[i] === 1 ? 1 : 0;
  const prevalence = positives / n;
  return thresholds.map((pt) => {
    let tp = 0;
    let fp = 0;
    for (let i = 0; i < n; i++) {
      if (probabilities[i]! >= pt) {
        if (labels[i] === 1) tp++;
        else fp++;
      }
    }
    const odds = pt / (1 - pt);
    return { threshold: pt, model: tp / n - (fp / n) * odds, treatAll: prevalence - (1 - prevalence) * odds };
  });
}

/** 0.01, 0.02, …, 0.99. */
export const DECISION_CURVE_THRESHOLDS: readonly number[] = Array.from({ length: 99 }, (_, i) => (i + 1) / 100);
