import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { interpolate } from '../calibration/calibrate.js';
import { computeAuroc } from './auroc.js';
import { brierScore, calibrationSlopeIntercept, reliabilityBins } from './calibration-metrics.js';
import { delongAuroc } from './delong.js';
import { fitCalibration, isotonicKnots, logLoss } from './fit-calibration.js';
import { twoSidedNormalPValue } from './normal.js';
import { PlatformError } from '../errors.js';
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

// Written by scripts/make-evaluation-fixtures.py with Debian's scikit-learn 1.2.1, statsmodels 0.13.5 and scipy 1.10.1.
const reference = JSON.parse(readFileSync(new URL('../../../test/fixtures/evaluation/reference-metrics.json', import.meta.url), 'utf8')) as {
  cases: ReferenceCase[];
  normal_tail: { z: number; two_sided_p: number; log_two_sided_p: number }[];
  separation: {
    name: string;
    labels: number[];
    probabilities: number[];
    statsmodels: { outcome: 'PerfectSeparationError' | 'not converged' | 'converged'; slope?: number; intercept?: number };
  }[];
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

describe('two-sided normal p-values against scipy (2·norm.sf, and log 2 + norm.logsf)', () => {
  it.each(reference.normal_tail)('z = $z', ({ z, two_sided_p: p, log_two_sided_p: logP }) => {
    const ours = twoSidedNormalPValue(z);
    // Relative error: a p-value of 5.7e-33 is not "0" (2·(1 − Φ(z)) cancels to 0 beyond z ≈ 8.3).
    if (p > 0) expect(Math.abs(ours.p - p) / p, `p at z = ${z}: ${ours.p} vs ${p}`).toBeLessThanOrEqual(1e-12);
    else expect(ours.p).toBeLessThan(1e-300);
    // The logarithm never underflows, out to z = 100 (p = 10^-2173.6).
    close(ours.log10 * Math.LN10, logP, `log p at z = ${z}`, 1e-12 * Math.max(1, Math.abs(logP)));
  });
});

describe('calibration slope on separated data, against statsmodels Logit', () => {
  it.each(reference.separation)('$name: $statsmodels.outcome', (c) => {
    const p = Float64Array.from(c.probabilities);
    const y = Uint8Array.from(c.labels);
    const fit = calibrationSlopeIntercept(p, y);
    if (c.statsmodels.outcome === 'converged') {
      // A finite maximum-likelihood estimate exists, and it is statsmodels'.
      expect(fit.separation).toBeUndefined();
      close(fit.slope, c.statsmodels.slope!, 'slope', 1e-8);
      close(fit.intercept, c.statsmodels.intercept!, 'intercept', 1e-8);
      return;
    }
    // statsmodels raises PerfectSeparationError (complete) or fails to converge (quasi-complete): there is no estimate.
    expect(fit.separation?.kind).toBe(c.name);
    expect(fit.slope).toBeNaN();
    expect(fit.intercept).toBeNaN();
    for (const method of ['platt', 'temperature'] as const) {
      const logits = Float64Array.from(p, (v) => logit(v));
      expect(() => fitCalibration(method, logits, y)).toThrow(PlatformError);
      expect(() => fitCalibration(method, logits, y)).toThrow(/no maximum-likelihood/);
    }
  });
});
