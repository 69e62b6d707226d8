import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { bernoulliCusumIncrements, cusumArl, cusumPath, latticeCusumArl, incrementDistribution, siegmundArl } from './cusum.js';
import { designMonitors } from './deployment-monitors.js';
import { buildNormalScorer, normalQuantilePrecise, normalScore } from './normal-score.js';

// Written by scripts/make-monitoring-fixtures.py with Debian's numpy 1.24.2 and scipy 1.10.1.
const reference = JSON.parse(readFileSync(new URL('../../../test/fixtures/monitoring/reference.json', import.meta.url), 'utf8')) as {
  normalQuantile: { p: number[]; ppf: number[] };
  normalScores: { reference: number[]; queries: number[]; scores: number[] };
  cusum: { k: number; h: number; increments: number[]; path: number[]; alarms: number[] };
  bernoulli: { p0: number; oddsRatio: number; p1: number; one: number; zero: number }[];
  arl: {
    k: number;
    empirical: { h: number; states: number; arl: number }[];
    bernoulli: { h: number; states: number; arl: number }[];
    lattice: { up: number; down: number; p: number; states: number; arl: number }[];
  };
  siegmund: { h: number; drift: number; arl: number }[];
};

/** |a − b| ≤ tol · max(1, |b|): absolute near 0, relative for large values (ARLs run to 10⁵). */
function expectClose(actual: number, expected: number, tol = 1e-9): void {
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(expected)));
}

describe('monitoring statistics equal scipy/numpy (test/fixtures/monitoring/reference.json)', () => {
  it('normal quantile = scipy.stats.norm.ppf', () => {
    reference.normalQuantile.p.forEach((p, i) => expectClose(normalQuantilePrecise(p), reference.normalQuantile.ppf[i]!));
  });

  it('normal scores against a reference with ties = norm.ppf of numpy searchsorted mid-ranks', () => {
    const scorer = buildNormalScorer(reference.normalScores.reference);
    reference.normalScores.queries.forEach((x, i) => expectClose(normalScore(scorer, x), reference.normalScores.scores[i]!));
  });

  it('CUSUM recursion with restart after alarms = the numpy loop', () => {
    const { path, alarms } = cusumPath(reference.cusum.increments, reference.cusum.h);
    expect(alarms).toEqual(reference.cusum.alarms);
    reference.cusum.path.forEach((s, i) => expectClose(path[i]!, s));
  });

  it('Bernoulli CUSUM increments and the rate tuned to', () => {
    for (const b of reference.bernoulli) {
      const { p1, one, zero } = bernoulliCusumIncrements(b.p0, b.oddsRatio);
      expectClose(p1, b.p1);
      expectClose(one, b.one);
      expectClose(zero, b.zero);
    }
  });

  it('Markov-chain ARL of the reference normal scores = numpy.linalg.solve on the same chain', () => {
    const scorer = buildNormalScorer(reference.normalScores.reference);
    const increments = reference.normalScores.reference.map((v) => normalScore(scorer, v) - reference.arl.k);
    const d = incrementDistribution(increments);
    for (const c of reference.arl.empirical) expectClose(cusumArl(d, c.h, c.states), c.arl);
  });

  it('Markov-chain ARL of a Bernoulli CUSUM = numpy', () => {
    const b = reference.bernoulli[0]!;
    const d = incrementDistribution([b.one, b.zero], [b.p0, 1 - b.p0]);
    for (const c of reference.arl.bernoulli) expectClose(cusumArl(d, c.h, c.states), c.arl);
  });

  it('exact ARL of a lattice Bernoulli CUSUM (banded elimination) = numpy.linalg.solve on the dense chain', () => {
    for (const c of reference.arl.lattice) expectClose(latticeCusumArl({ step: 1, up: c.up, down: c.down }, c.p, c.states), c.arl);
  });

  it("Siegmund's approximation = numpy", () => {
    for (const c of reference.siegmund) expectClose(siegmundArl(c.h, c.drift), c.arl);
  });

  it('a designed indicator detector uses the Jeffreys-smoothed reference rate and the numpy increments', () => {
    // 36 of 50 cases positive: p0 = 36.5 / 51.
    const plan = designMonitors(new Map([['positive', Array.from({ length: 50 }, (_, i) => (i < 36 ? 1 : 0))]]), { falseAlarmDays: 1, casesPerDay: 100 }, [
      { name: 'positive', label: 'positive rate', kind: 'indicator', directions: ['up'] },
    ]);
    const det = plan.detectors[0]!;
    if (det.kind !== 'indicator') throw new Error('expected an indicator detector');
    const p0 = 36.5 / 51;
    expectClose(det.p0, p0);
    const odds = (p0 / (1 - p0)) * 2;
    expectClose(det.incrementOne, Math.log(odds / (1 + odds) / p0));
  });
});
