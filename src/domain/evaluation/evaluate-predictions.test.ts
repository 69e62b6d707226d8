import { describe, expect, it } from 'vitest';
import { evaluatePredictions, type EvaluationOptions } from './evaluate-predictions.js';
import { SeededRandom } from './random.js';
import { minimumBootstrapReplicates } from './stratified-bootstrap.js';

const OPTIONS: EvaluationOptions = {
  threshold: 0.5,
  abstainBand: { low: 0.5, high: 0.5 },
  onGateWarn: 'decide',
  prevalence: 0.3,
  eceBins: 15,
  replicates: 200,
  seed: 1,
  minStratumCases: 30,
  minStratumClassCases: 5,
};

function cases(n: number, seed: number, separated: boolean) {
  const random = new SeededRandom(seed);
  const label = Uint8Array.from({ length: n }, () => (random.nextFloat() < 0.4 ? 1 : 0));
  const probability = Float64Array.from(label, (y) =>
    separated
      ? y === 1
        ? 0.6 + 0.39 * random.nextFloat()
        : 0.01 + 0.39 * random.nextFloat()
      : Math.min(0.99, Math.max(0.01, (y === 1 ? 0.65 : 0.35) + (random.nextFloat() - 0.5) * 0.7)),
  );
  return { probability, label, strata: new Map<string, (string | null)[]>() };
}

describe('evaluatePredictions: what the cases cannot define, it says so', () => {
  it('reports no calibration slope on a perfectly separable set (no maximum-likelihood estimate), instead of a large finite one', () => {
    const m = evaluatePredictions(cases(300, 4, true), OPTIONS);
    expect(m.overall.auroc.value).toBe(1);
    for (const e of [m.overall.calibrationSlope, m.overall.calibrationIntercept]) {
      expect(e.value).toBeNaN();
      expect(e.notDefined).toMatch(/^not estimable: every positive case scores above every negative one: the classes are perfectly separated/);
      expect(e.notDefined).toMatch(/no maximum-likelihood estimate/);
    }
  });

  it('explains a missing calibration interval by its real reason (too few replicates), not by a case count', () => {
    const m = evaluatePredictions(cases(300, 5, false), { ...OPTIONS, replicates: 10 });
    expect(m.overall.ece.ciLow).toBeNaN();
    expect(m.overall.ece.method).toMatch(/no interval: 10 bootstrap replicates are fewer than the 200 a 95% percentile interval needs/);
    expect(m.overall.ece.method).not.toMatch(/200,000/);
    expect(m.overall.calibrationSlope.method).toMatch(/10 bootstrap replicates are fewer/);
    // With enough replicates the interval is there.
    const ok = evaluatePredictions(cases(300, 5, false), OPTIONS);
    expect(ok.overall.ece.ciLow).toBeLessThan(ok.overall.ece.value);
    expect(ok.overall.calibrationSlope.ciLow).toBeLessThan(ok.overall.calibrationSlope.value);
  });

  it('evaluates a cohort without a single case with the finding: specificity and calibration, not sensitivity or AUROC', () => {
    const c = cases(200, 6, false);
    c.label.fill(0);
    const m = evaluatePredictions(c, OPTIONS);
    expect(m.overall.specificity.notDefined).toBeUndefined();
    expect(m.overall.specificity.ciLow).toBeLessThan(m.overall.specificity.value);
    expect(m.overall.sensitivity.notDefined).toMatch(/no case with the finding/);
    expect(m.overall.auroc.notDefined).toMatch(/no case with the finding/);
    expect(m.overall.aurocBootstrap.notDefined).toMatch(/no case with the finding/);
    expect(m.overall.calibrationSlope.notDefined).toMatch(/only negative cases/);
    expect(m.overall.roc).toEqual([]);
    expect(Number.isFinite(m.overall.brier.value)).toBe(true);
    expect(m.overall.abstention.falseAlarm.value).toBe(1 - m.overall.specificity.value);
  });

  it('refuses an empty evaluation', () => {
    expect(() => evaluatePredictions({ probability: new Float64Array(0), label: new Uint8Array(0), strata: new Map() }, OPTIONS)).toThrow(
      /no case to evaluate/,
    );
  });
});

describe('minimumBootstrapReplicates', () => {
  it('asks for 5 replicates beyond each end of the percentile interval', () => {
    expect([0.9, 0.95, 0.99].map((level) => minimumBootstrapReplicates(level))).toEqual([100, 200, 1000]);
  });
});

describe('calibration slope interval when some bootstrap replicates separate the classes', () => {
  it('ranks a separated replicate at +∞ instead of dropping it or withholding the interval', () => {
    // Nearly separable: one positive below one negative. Some replicates miss both and are separated.
    const n = 120;
    const label = Uint8Array.from({ length: n }, (_, i) => i % 2);
    const probability = Float64Array.from(label, (y, i) => (y === 1 ? 0.55 + (i / n) * 0.4 : 0.05 + (i / n) * 0.4));
    probability[1] = 0.3; // a positive among the negatives
    probability[0] = 0.7; // a negative among the positives
    const m = evaluatePredictions({ probability, label, strata: new Map() }, OPTIONS);
    const slope = m.overall.calibrationSlope;
    expect(slope.notDefined).toBeUndefined();
    expect(slope.method).toMatch(/(\d+) of 200 replicates separate the classes perfectly/);
    const separated = Number(/(\d+) of 200 replicates separate/.exec(slope.method)![1]);
    // 33 of 200 here: more than 2.5% of the replicates sit at +∞, so the upper end is unbounded (and says so by being infinite).
    expect(separated).toBeGreaterThan(5);
    expect(Number.isFinite(slope.ciLow)).toBe(true);
    expect(slope.ciHigh).toBe(Number.POSITIVE_INFINITY);
    expect(m.overall.calibrationIntercept.method).toMatch(/intercept as −∞ for the lower end, \+∞ for the upper/);
  });
});
