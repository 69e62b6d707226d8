import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { wilsonInterval } from '../evaluation/proportions.js';
import { SeededRandom } from '../evaluation/random.js';
import { reviewedPerformance, reviewInclusionProbability, weightedRate, type ReviewedCase } from './reviewed-performance.js';

// Written by scripts/make-monitoring-fixtures.py (numpy 1.24.2, statsmodels 0.13.5).
interface Rate {
  estimate: number;
  standardError: number;
  effectiveN: number;
  low: number;
  high: number;
  reviewed: number;
}
const fixture = (
  JSON.parse(readFileSync(new URL('../../../test/fixtures/monitoring/reference.json', import.meta.url), 'utf8')) as {
    reviewedPerformance: {
      cases: { decision: ReviewedCase['decision']; probability: number | null; findingPresent: boolean; inclusionProbability: number }[];
      calibration: { inTheLarge: number; standardError: number; low: number; high: number; ece: number };
    } & Record<'sensitivity' | 'specificity' | 'ppv' | 'npv' | 'prevalence' | 'referRate', Rate>;
  }
).reviewedPerformance;

function expectClose(actual: number, expected: number, tol = 1e-9): void {
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(expected)));
}

describe('performance from reviews, weighted by inverse inclusion probability, = numpy/statsmodels', () => {
  const cases = fixture.cases.map((c) => ({ ...c, probability: c.probability ?? Number.NaN }));
  const result = reviewedPerformance(cases);

  it.each(['sensitivity', 'specificity', 'ppv', 'npv', 'prevalence', 'referRate'] as const)(
    '%s: estimate, linearization SE, effective n, Wilson interval (statsmodels)',
    (name) => {
      const got = result[name];
      const want = fixture[name];
      expectClose(got.estimate, want.estimate);
      expectClose(got.standardError, want.standardError);
      expectClose(got.effectiveN, want.effectiveN);
      expectClose(got.low, want.low);
      expectClose(got.high, want.high);
      expect(got.reviewed).toBe(want.reviewed);
    },
  );

  it('calibration-in-the-large with its interval, and the weighted ECE', () => {
    expectClose(result.calibration.inTheLarge.estimate, fixture.calibration.inTheLarge);
    expectClose(result.calibration.inTheLarge.standardError, fixture.calibration.standardError);
    expectClose(result.calibration.inTheLarge.low, fixture.calibration.low);
    expectClose(result.calibration.inTheLarge.high, fixture.calibration.high);
    expectClose(result.calibration.ece, fixture.calibration.ece);
  });
});

describe('weightedRate', () => {
  it('is the ordinary Wilson interval of the counts when every weight is equal', () => {
    const y = [1, 1, 0, 1, 0, 1, 1, 1, 0, 1];
    const x = y.map(() => 1);
    const r = weightedRate(
      y,
      x,
      x.map(() => 20),
    );
    const wilson = wilsonInterval(7, 10);
    expectClose(r.estimate, 0.7);
    expectClose(r.effectiveN, 10);
    expectClose(r.low, wilson.low);
    expectClose(r.high, wilson.high);
  });

  it('falls back to Kish’s effective n when the estimate is 0 or 1, and is NaN with no case', () => {
    const r = weightedRate([1, 1, 1], [1, 1, 1], [1, 1, 2]);
    expect(r.estimate).toBe(1);
    expectClose(r.effectiveN, 16 / 6);
    expect(r.high).toBeCloseTo(1, 12);
    expect(Number.isNaN(weightedRate([0], [0], [1]).estimate)).toBe(true);
  });
});

describe('the weights remove the bias of reviewing hard cases more often', () => {
  it('estimates a population’s specificity without bias where the unweighted count of reviews is far off', () => {
    // A population: confident negatives mostly right, referred ones (always reviewed) often wrong.
    const random = new SeededRandom(5);
    const population: { decision: 'negative' | 'refer'; finding: boolean }[] = [];
    for (let i = 0; i < 4000; i++) {
      const referred = random.nextFloat() < 0.1;
      population.push({ decision: referred ? 'refer' : 'negative', finding: random.nextFloat() < (referred ? 0.5 : 0.05) });
    }
    // "Specificity" here: among truly negative cases, the share not referred (decided negative); referrals count as decided positive for this check.
    const truthNegatives = population.filter((c) => !c.finding);
    const populationValue = truthNegatives.filter((c) => c.decision === 'negative').length / truthNegatives.length;
    let weighted = 0;
    let naive = 0;
    const repeats = 200;
    for (let r = 0; r < repeats; r++) {
      const reviewed: ReviewedCase[] = [];
      for (const c of population) {
        const pi = c.decision === 'refer' ? 1 : 0.05;
        if (c.decision === 'refer' || random.nextFloat() < pi) {
          reviewed.push({
            decision: c.decision === 'refer' ? 'positive' : 'negative',
            probability: Number.NaN,
            findingPresent: c.finding,
            inclusionProbability: pi,
          });
        }
      }
      weighted += reviewedPerformance(reviewed).specificity.estimate / repeats;
      const negatives = reviewed.filter((c) => !c.findingPresent);
      naive += negatives.filter((c) => c.decision === 'negative').length / negatives.length / repeats;
    }
    expect(Math.abs(weighted - populationValue)).toBeLessThan(0.005);
    expect(Math.abs(naive - populationValue)).toBeGreaterThan(0.2);
  });
});

describe('reviewInclusionProbability follows the worklist rules', () => {
  const decided = { status: 'decided', gateVerdict: 'pass', gateUnchecked: false, decisions: ['positive'] } as const;
  it('is 1 for what a rule always sends, the sample rate for a confident decision', () => {
    expect(reviewInclusionProbability(decided, 0.05)).toBe(0.05);
    expect(reviewInclusionProbability({ ...decided, decisions: ['refer'] }, 0.05)).toBe(1);
    expect(reviewInclusionProbability({ ...decided, gateVerdict: 'warn' }, 0.05)).toBe(1);
    expect(reviewInclusionProbability({ ...decided, status: 'rejected', gateVerdict: 'reject', decisions: [] }, 0.05)).toBe(1);
    expect(reviewInclusionProbability({ ...decided, status: 'error', gateVerdict: null }, 0.05)).toBe(1);
  });
});
