import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { computeAuroc, computeRocCurve } from './auroc.js';
import { expectedCalibrationError } from './calibration-metrics.js';
import { wilsonInterval } from './proportions.js';

const rows = fc
  .array(
    fc.tuple(
      fc.integer({ min: 0, max: 50 }).map((k) => k / 50),
      fc.boolean(),
    ),
    { minLength: 2, maxLength: 80 },
  )
  .filter((r) => r.some((x) => x[1]) && r.some((x) => !x[1]));

describe('AUROC', () => {
  test.prop([rows])('lies in [0, 1], is unchanged by a strictly increasing transform, and flips with the labels', (r) => {
    const s = r.map((x) => x[0]);
    const y = r.map((x) => (x[1] ? 1 : 0));
    const auc = computeAuroc(s, y);
    expect(auc).toBeGreaterThanOrEqual(0);
    expect(auc).toBeLessThanOrEqual(1);
    expect(
      computeAuroc(
        s.map((v) => Math.exp(3 * v) - 7),
        y,
      ),
    ).toBeCloseTo(auc, 12);
    expect(
      computeAuroc(
        s,
        y.map((v) => 1 - v),
      ),
    ).toBeCloseTo(1 - auc, 12);
  });
  test.prop([rows])('equals the trapezoidal area under the empirical ROC curve', (r) => {
    const s = r.map((x) => x[0]);
    const y = r.map((x) => (x[1] ? 1 : 0));
    const roc = computeRocCurve(s, y);
    let area = 0;
    for (let i = 1; i < roc.length; i++) area += ((roc[i]!.fpr - roc[i - 1]!.fpr) * (roc[i]!.tpr + roc[i - 1]!.tpr)) / 2;
    expect(area).toBeCloseTo(computeAuroc(s, y), 12);
  });
  it('is NaN without both classes', () => expect(computeAuroc([0.1, 0.2], [1, 1])).toBeNaN());
});

describe('ECE and Wilson', () => {
  test.prop([rows, fc.integer({ min: 1, max: 30 })])('ECE stays within [0, 1]', (r, bins) => {
    const e = expectedCalibrationError(
      r.map((x) => x[0]),
      r.map((x) => (x[1] ? 1 : 0)),
      bins,
    );
    expect(e).toBeGreaterThanOrEqual(0);
    expect(e).toBeLessThanOrEqual(1);
  });
  test.prop([fc.integer({ min: 1, max: 5000 }).chain((n) => fc.tuple(fc.integer({ min: 0, max: n }), fc.constant(n)))])(
    'the Wilson interval contains the proportion and stays within [0, 1]',
    ([k, n]) => {
      const ci = wilsonInterval(k, n);
      expect(ci.low).toBeLessThanOrEqual(k / n + 1e-12);
      expect(ci.high).toBeGreaterThanOrEqual(k / n - 1e-12);
      expect(ci.low).toBeGreaterThanOrEqual(-1e-12);
      expect(ci.high).toBeLessThanOrEqual(1 + 1e-12);
    },
  );
});
