import type { Calibration } from '../model/model-manifest.js';
import { PlatformError } from '../errors.js';
import { fitLogistic } from './logistic-fit.js';
import { argsortAscending } from './ranks.js';

export type CalibrationMethod = 'temperature' | 'platt' | 'isotonic';

/**
 * Fits a calibration map on logits (the model's raw output) and labels.
 * - temperature (Guo et al. 2017): p = sigmoid(z / T), T by maximum likelihood (logistic
 *   regression of y on z without intercept, solved by Newton's method; T = 1 / slope).
 * - platt (Platt 1999): p = sigmoid(a·z + b) by maximum likelihood (plain 0/1 targets, without
 *   Platt's prior-smoothed targets).
 * - isotonic (Zadrozny & Elkan 2002): pool-adjacent-violators on the logit, equal logits pooled
 *   first, as scikit-learn's IsotonicRegression; knots at each block's ends, interpolated linearly.
 */
export function fitCalibration(method: CalibrationMethod, logits: ArrayLike<number>, labels: ArrayLike<number>): Calibration {
  switch (method) {
    case 'temperature': {
      const fit = fitLogistic(logits, labels, { withIntercept: false });
      if (fit.separation !== undefined) {
        throw new PlatformError(
          'EVAL_FIT_FAILED',
          `Temperature scaling has no maximum-likelihood temperature on these cases: ${fit.separation.description} (the temperature tends to 0). Fit on data where the classes overlap, or use isotonic`,
          { separation: fit.separation.kind },
        );
      }
      if (!(fit.slope > 0) || !Number.isFinite(fit.slope)) {
        throw new PlatformError('EVAL_FIT_FAILED', 'Temperature scaling found no positive temperature: the scores do not rank the labels', {
          slope: fit.slope,
        });
      }
      return { method: 'temperature', temperature: 1 / fit.slope };
    }
    case 'platt': {
      const fit = fitLogistic(logits, labels);
      if (fit.separation !== undefined) {
        throw new PlatformError(
          'EVAL_FIT_FAILED',
          `Platt scaling has no maximum-likelihood fit on these cases: ${fit.separation.description} (the slope grows without bound). Fit on data where the classes overlap, or use isotonic`,
          { separation: fit.separation.kind },
        );
      }
      if (!Number.isFinite(fit.slope) || !Number.isFinite(fit.intercept) || !(fit.slope > 0)) {
        throw new PlatformError('EVAL_FIT_FAILED', 'Platt scaling did not converge to an increasing map', { slope: fit.slope });
      }
      return { method: 'platt', a: fit.slope, b: fit.intercept };
    }
    case 'isotonic': {
      const { x, y } = isotonicKnots(logits, labels);
      if (x.length < 2) throw new PlatformError('EVAL_FIT_FAILED', 'Isotonic regression needs at least two distinct scores', {});
      return { method: 'isotonic', x, y };
    }
  }
}

/** Pool-adjacent-violators (Ayer et al. 1955) on (score, label), non-decreasing. */
export function isotonicKnots(scores: ArrayLike<number>, labels: ArrayLike<number>): { x: number[]; y: number[] } {
  const order = argsortAscending(scores);
  // Blocks: value (weighted mean), weight, first and last x.
  const value: number[] = [];
  const weight: number[] = [];
  const xLow: number[] = [];
  const xHigh: number[] = [];
  let i = 0;
  while (i < order.length) {
    const x = scores[order[i]!]!;
    let sum = 0;
    let w = 0;
    while (i < order.length && scores[order[i]!]! === x) {
      sum += labels[order[i]!]!;
      w++;
      i++;
    }
    value.push(sum / w);
    weight.push(w);
    xLow.push(x);
    xHigh.push(x);
    while (value.length > 1 && value[value.length - 2]! > value[value.length - 1]!) {
      const v2 = value.pop()!;
      const w2 = weight.pop()!;
      const h2 = xHigh.pop()!;
      xLow.pop();
      const k = value.length - 1;
      const w1 = weight[k]!;
      value[k] = (value[k]! * w1 + v2 * w2) / (w1 + w2);
      weight[k] = w1 + w2;
      xHigh[k] = h2;
    }
  }
  const x: number[] = [];
  const y: number[] = [];
  for (let b = 0; b < value.length; b++) {
    x.push(xLow[b]!);
    y.push(value[b]!);
    if (xHigh[b]! !== xLow[b]!) {
      x.push(xHigh[b]!);
      y.push(value[b]!);
    }
  }
  return { x, y };
}

/** Mean negative log-likelihood of labels under probabilities (clamped to [1e-15, 1 − 1e-15], as sklearn's log_loss). */
export function logLoss(probabilities: ArrayLike<number>, labels: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < labels.length; i++) {
    const p = Math.min(Math.max(probabilities[i]!, 1e-15), 1 - 1e-15);
    s -= labels[i] === 1 ? Math.log(p) : Math.log(1 - p);
  }
  return s / labels.length;
}
