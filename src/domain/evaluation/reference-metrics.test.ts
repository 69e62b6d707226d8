import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { interpolate } from '../calibration/calibrate.js';
import { computeAuroc } from './auroc.js';
import { brierScore, calibrationSlopeIntercept, reliabilityBins } from './calibration-metrics.js';
import { delongAuroc } from './delong.js';
import { fitCalibration, isotonicKnots, logLoss } from './fit-calibration.js';
import { confusionAt, wilsonInterval } from './proportions.js';
import { logit } from '../calibration/calibrate.js';

interface ReferenceCase {
  name: string;
  labels: number[];
  probabilities: number[];
  threshold: number;
  roc_auc_score: number;
  brier_score_loss: number;
  log_loss: number;
  confusion: { tn: number; fp: number; fn: number; tp: number };
  calibration_curve: Record<string, { prob_true: number[]; prob_pred: number[] }>;
  wilson: Record<string, { count: number; nobs: number; low: number; high: number }>;
  calibration_slope: number;
  calibration_intercept: number;
  temperature: number;
  isotonic: { grid: number[]; predictions: number[] };
  delong_direct: { auroc: number; variance: number };
}

// Written by scripts/make-evaluation-fixtures.py with Debian's scikit-learn 1.2.1 and statsmodels 0.13.5.
const reference = JSON.parse(readFileSync(new URL('../../../test/fixtures/evaluation/reference-metrics.json', import.meta.url), 'utf8')) as {
  cases: ReferenceCase[];
};

const TOL = 1e-9;
const close = (actual: number, expected: number, what: string, tol = TOL): void => {
  expect(Math.abs(actual - expected), `${what}: ${actual} vs ${expected}`).toBeLessThanOrEqual(tol);
};

describe.each(reference.cases)('against scikit-learn and statsmodels: $name', (c) => {
  const p = Float64Array.from(c.probabilities);
  const y = Uint8Array.from(c.labels);

  it('AUROC equals roc_auc_score', () => close(computeAuroc(p, y), c.roc_auc_score, 'auroc'));
  it('Brier score equals brier_score_loss, log loss equals log_loss', () => {
    close(brierScore(p, y), c.brier_score_loss, 'brier');
    close(logLoss(p, y), c.log_loss, 'log loss');
  });
  it('confusion matrix at the threshold equals confusion_matrix', () => expect(confusionAt(p, y, c.threshold)).toEqual(c.confusion));
  it('Wilson intervals equal proportion_confint(method="wilson")', () => {
    for (const [key, w] of Object.entries(c.wilson)) {
      const ci = wilsonInterval(w.count, w.nobs);
      close(ci.low, w.low, `${key} low`);
      close(ci.high, w.high, `${key} high`);
    }
  });
  it.each(['10', '15'])('reliability bins equal calibration_curve(n_bins=%s, strategy="uniform")', (bins) => {
    const ours = reliabilityBins(p, y, Number(bins));
    const theirs = c.calibration_curve[bins]!;
    expect(ours.length).toBe(theirs.prob_true.length);
    ours.forEach((b, i) => {
      close(b.fractionPositive, theirs.prob_true[i]!, `bin ${i} fraction positive`);
      close(b.meanPredicted, theirs.prob_pred[i]!, `bin ${i} mean predicted`);
    });
  });
  it('calibration slope and intercept equal statsmodels Logit on logit(p)', () => {
    const fit = calibrationSlopeIntercept(p, y);
    expect(fit.converged).toBe(true);
    close(fit.slope, c.calibration_slope, 'slope');
    close(fit.intercept, c.calibration_intercept, 'intercept');
  });
  it('temperature scaling equals statsmodels Logit without intercept (T = 1 / slope)', () => {
    const fitted = fitCalibration(
      'temperature',
      Float64Array.from(p, (v) => logit(v)),
      y,
    );
    expect(fitted.method).toBe('temperature');
    if (fitted.method === 'temperature') close(fitted.temperature, c.temperature, 'temperature');
  });
  it('isotonic regression predicts as sklearn IsotonicRegression(out_of_bounds="clip")', () => {
    const { x, y: ys } = isotonicKnots(
      Float64Array.from(p, (v) => logit(v)),
      y,
    );
    c.isotonic.grid.forEach((g, i) => close(interpolate(x, ys, g), c.isotonic.predictions[i]!, `isotonic at ${g}`));
  });
  it("DeLong's fast algorithm equals the O(m·n) definition", () => {
    const d = delongAuroc(p, y);
    close(d.auroc, c.delong_direct.auroc, 'auroc');
    close(d.variance, c.delong_direct.variance, 'variance', 1e-12);
  });
});
