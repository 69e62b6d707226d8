import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SeededRandom } from '../evaluation/random.js';
import { labelFreePerformance, type EstimatedRate, type LabelFreeCase } from './label-free-performance.js';

interface Fixture {
  readonly z: number;
  readonly windows: readonly {
    readonly cases: readonly LabelFreeCase[];
    readonly expected: Record<'sensitivity' | 'specificity' | 'ppv' | 'npv' | 'prevalence', Omit<EstimatedRate, 'cases'>> & {
      readonly expected: { tp: number; fp: number; fn: number; tn: number };
      readonly decided: number;
    };
  }[];
}
// Made by scripts/make-label-free-fixtures.py (numpy).
const fixture = JSON.parse(readFileSync(new URL('../../../test/fixtures/monitoring/label-free.json', import.meta.url), 'utf8')) as Fixture;

describe('labelFreePerformance (CBPE)', () => {
  it('equals numpy to 1e-9 on the committed windows: expected confusion matrix, rates, standard errors and intervals', () => {
    for (const w of fixture.windows) {
      const got = labelFreePerformance(w.cases, fixture.z);
      expect(got.decided).toBe(w.expected.decided);
      for (const k of ['tp', 'fp', 'fn', 'tn'] as const) expect(got.expected[k]).toBeCloseTo(w.expected.expected[k], 9);
      for (const name of ['sensitivity', 'specificity', 'ppv', 'npv', 'prevalence'] as const) {
        for (const field of ['estimate', 'low', 'high', 'standardError'] as const) {
          expect(Math.abs(got[name][field] - w.expected[name][field]), `${name}.${field}`).toBeLessThan(1e-9);
        }
      }
    }
  });

  it('reads a confident positive at 0.9 as 0.9 of a true positive; leaves referred and rejected cases out of the rates', () => {
    const p = labelFreePerformance([
      { decision: 'positive', probability: 0.9 },
      { decision: 'negative', probability: 0.1 },
      { decision: 'refer', probability: 0.5 },
      { decision: 'none', probability: Number.NaN },
    ]);
    expect(p.expected).toEqual({ tp: 0.9, fp: 0.09999999999999998, fn: 0.1, tn: 0.9 });
    expect(p.ppv.estimate).toBeCloseTo(0.9, 12);
    expect(p.sensitivity.estimate).toBeCloseTo(0.9, 12);
    expect(p.decided).toBe(2);
    expect(p.prevalence.cases).toBe(3); // the referred case has a probability
    expect(p.prevalence.estimate).toBeCloseTo(0.5, 12);
  });

  it('has no estimate (NaN) where no case is in the denominator', () => {
    const p = labelFreePerformance([{ decision: 'refer', probability: 0.5 }]);
    expect(p.ppv.estimate).toBeNaN();
    expect(p.sensitivity.estimate).toBeNaN();
    expect(p.sensitivity.cases).toBe(0);
    expect(labelFreePerformance([]).prevalence.estimate).toBeNaN();
  });

  it('is unbiased for perfectly calibrated scores: the realised rates, labels drawn as Bernoulli(p), average to the estimate', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 31 - 1 }), (seed) => {
        const random = new SeededRandom(seed);
        const cases: LabelFreeCase[] = Array.from({ length: 300 }, () => {
          const p = random.nextFloat() ** 2;
          return { decision: p >= 0.3 ? 'positive' : 'negative', probability: p };
        });
        const estimate = labelFreePerformance(cases);
        let ppv = 0;
        let npv = 0;
        const draws = 400;
        for (let d = 0; d < draws; d++) {
          let tp = 0;
          let pos = 0;
          let tn = 0;
          let neg = 0;
          for (const c of cases) {
            const y = random.nextFloat() < c.probability;
            if (c.decision === 'positive') {
              pos++;
              if (y) tp++;
            } else {
              neg++;
              if (!y) tn++;
            }
          }
          ppv += tp / pos / draws;
          npv += tn / neg / draws;
        }
        // Monte Carlo error of a mean of 400 draws: a few tenths of the standard error.
        expect(Math.abs(ppv - estimate.ppv.estimate)).toBeLessThan(0.25 * estimate.ppv.standardError + 1e-9);
        expect(Math.abs(npv - estimate.npv.estimate)).toBeLessThan(0.25 * estimate.npv.standardError + 1e-9);
      }),
      { numRuns: 10 },
    );
  });

  it('covers the realised rates at about 95 % when the scores are calibrated (the interval is for the labels’ sampling, given the scores)', () => {
    const random = new SeededRandom(20261208);
    const cases: LabelFreeCase[] = Array.from({ length: 500 }, () => {
      const p = random.nextFloat();
      return { decision: p >= 1 / 6 ? 'positive' : 'negative', probability: p };
    });
    const estimate = labelFreePerformance(cases);
    const draws = 2_000;
    const covered = { sensitivity: 0, specificity: 0, ppv: 0, npv: 0 };
    for (let d = 0; d < draws; d++) {
      let tp = 0;
      let fp = 0;
      let fn = 0;
      let tn = 0;
      for (const c of cases) {
        const y = random.nextFloat() < c.probability;
        if (c.decision === 'positive') {
          if (y) tp++;
          else fp++;
        } else if (y) fn++;
        else tn++;
      }
      const realised = { sensitivity: tp / (tp + fn), specificity: tn / (tn + fp), ppv: tp / (tp + fp), npv: tn / (tn + fn) };
      for (const k of Object.keys(covered) as (keyof typeof covered)[]) if (realised[k] >= estimate[k].low && realised[k] <= estimate[k].high) covered[k]++;
    }
    for (const k of Object.keys(covered) as (keyof typeof covered)[]) {
      // 95 % nominal; 2,000 draws give a Monte Carlo SD of 0.5 %.
      expect(covered[k] / draws, k).toBeGreaterThan(0.93);
      expect(covered[k] / draws, k).toBeLessThan(0.97);
    }
  });

  it('is fooled when calibration breaks (its stated limit): scores unchanged, labels from a shifted P(y | x), the estimate stays put', () => {
    const random = new SeededRandom(7);
    const cases: LabelFreeCase[] = Array.from({ length: 1_000 }, () => {
      const p = random.nextFloat();
      return { decision: p >= 0.5 ? 'positive' : 'negative', probability: p };
    });
    const estimate = labelFreePerformance(cases).specificity.estimate;
    // Concept shift: the same images are now positive only half as often as their scores say.
    let tn = 0;
    let fp = 0;
    for (const c of cases) {
      const y = random.nextFloat() < c.probability / 2;
      if (y) continue;
      if (c.decision === 'negative') tn++;
      else fp++;
    }
    const realised = tn / (tn + fp);
    expect(realised).toBeLessThan(estimate - 0.15);
  });
});
