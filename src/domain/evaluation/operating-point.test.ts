import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { calibrateScore, logit } from '../calibration/calibrate.js';
import { fitCalibration } from './fit-calibration.js';
import { constrainedOperatingPoint, costOptimalOperatingPoint } from './operating-point.js';
import { wilsonInterval } from './proportions.js';

const rows = fc
  .array(
    fc.tuple(
      fc.integer({ min: 1, max: 99 }).map((k) => k / 100),
      fc.boolean(),
    ),
    { minLength: 4, maxLength: 80 },
  )
  .filter((r) => r.filter((x) => x[1]).length >= 2 && r.filter((x) => !x[1]).length >= 2);

describe('operating points', () => {
  test.prop([rows, fc.integer({ min: 1, max: 20 }), fc.double({ min: 0.01, max: 0.99, noNaN: true })])(
    'the cost-optimal threshold costs no more than any observed threshold',
    (r, cfn, prevalence) => {
      const p = r.map((x) => x[0]);
      const y = r.map((x) => (x[1] ? 1 : 0));
      const best = costOptimalOperatingPoint(p, y, { falseNegative: cfn, falsePositive: 1 }, prevalence);
      const P = y.filter((v) => v === 1).length;
      const N = y.length - P;
      for (const t of p) {
        const se = p.filter((v, i) => v >= t && y[i] === 1).length / P;
        const sp = p.filter((v, i) => v < t && y[i] === 0).length / N;
        expect(best.expectedCost).toBeLessThanOrEqual(cfn * prevalence * (1 - se) + (1 - prevalence) * (1 - sp) + 1e-12);
      }
    },
  );
  it('the constrained point meets the Wilson lower bound, or there is none', () => {
    const p = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95];
    const y = [0, 0, 0, 1, 0, 1, 1, 1, 1, 1];
    const point = constrainedOperatingPoint(p, y, 0.5, { falseNegative: 1, falsePositive: 1 }, 0.5);
    expect(point).toBeDefined();
    expect(wilsonInterval(Math.round((point?.sensitivity ?? 0) * 6), 6).low).toBeGreaterThanOrEqual(0.5);
    expect(constrainedOperatingPoint(p, y, 0.99, { falseNegative: 1, falsePositive: 1 }, 0.5)).toBeUndefined();
  });
});

describe('fitted calibrations', () => {
  test.prop([rows, fc.constantFrom('temperature' as const, 'platt' as const, 'isotonic' as const)])(
    'map into [0, 1], keep the order of scores, and do not raise the log loss on the fitting data',
    (r, method) => {
      // Make the scores informative so temperature and Platt have an increasing fit.
      const y = r.map((x) => (x[1] ? 1 : 0));
      const z = r.map((x, i) => logit(x[0]) + (y[i] === 1 ? 2 : -2));
      let fitted;
      try {
        fitted = fitCalibration(method, z, y);
      } catch {
        return; // EVAL_FIT_FAILED is an allowed answer for data that does not rank
      }
      const sorted = [...z].sort((a, b) => a - b);
      const probs = sorted.map((s) => calibrateScore(s, 'logit', fitted));
      probs.forEach((q, i) => {
        expect(q).toBeGreaterThanOrEqual(0);
        expect(q).toBeLessThanOrEqual(1);
        if (i > 0) expect(q).toBeGreaterThanOrEqual(probs[i - 1]! - 1e-12);
      });
    },
  );
});
