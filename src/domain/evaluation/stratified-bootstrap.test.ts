import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { computeAuroc, computeRocCurve } from './auroc.js';
import { confusionAt } from './proportions.js';
import { SeededRandom } from './random.js';
import { bootstrapStratified, percentileInterval, quantileWithInfinities } from './stratified-bootstrap.js';

describe('stratified bootstrap', () => {
  // When every (stratum, label) cell holds one case, every replicate draws each case exactly once,
  // so each replicate must reproduce the plain statistics: this checks the weighted single pass
  // (ties, strata, threshold, ROC grid) against the direct computations.
  test.prop([fc.array(fc.tuple(fc.integer({ min: 0, max: 6 }), fc.integer({ min: 0, max: 6 })), { minLength: 1, maxLength: 40 })])(
    'with one case per cell, every replicate equals the direct statistics',
    (pairs) => {
      const scores: number[] = [];
      const labels: number[] = [];
      const strata: number[] = [];
      pairs.forEach(([pos, neg], s) => {
        scores.push(pos / 6, neg / 6);
        labels.push(1, 0);
        strata.push(s, s);
      });
      const boot = bootstrapStratified({ scores, labels, strata, strataCount: pairs.length, threshold: 0.5, replicates: 3, seed: 7, rocGridPoints: 11 });
      const auc = computeAuroc(scores, labels);
      const conf = confusionAt(scores, labels, 0.5);
      const roc = computeRocCurve(scores, labels);
      for (let r = 0; r < 3; r++) {
        expect(boot.auroc[r]).toBeCloseTo(auc, 12);
        expect(boot.sensitivity[r]).toBeCloseTo(conf.tp / (conf.tp + conf.fn), 12);
        expect(boot.specificity[r]).toBeCloseTo(conf.tn / (conf.tn + conf.fp), 12);
        pairs.forEach(([pos, neg], s) => {
          expect(boot.aurocByStratum[r * pairs.length + s]).toBe(pos > neg ? 1 : pos === neg ? 0.5 : 0);
        });
        boot.rocGrid.forEach((fpr, k) => {
          const best = Math.max(...roc.filter((pt) => pt.fpr <= fpr + 1e-9).map((pt) => pt.tpr));
          expect(boot.rocTpr[r * 11 + k], `tpr at fpr ${fpr}`).toBeCloseTo(best, 12);
        });
      }
    },
  );

  it('is reproducible from its seed, and its interval covers the estimate', () => {
    const random = new SeededRandom(1);
    const n = 2000;
    const labels = Array.from({ length: n }, () => (random.nextFloat() < 0.3 ? 1 : 0));
    const scores = labels.map((y) => y * 0.8 + random.nextFloat());
    const strata = labels.map((_, i) => i % 4);
    const a = bootstrapStratified({ scores, labels, strata, strataCount: 4, threshold: 0.7, replicates: 200, seed: 42 });
    const b = bootstrapStratified({ scores, labels, strata, strataCount: 4, threshold: 0.7, replicates: 200, seed: 42 });
    expect(Array.from(a.auroc)).toEqual(Array.from(b.auroc));
    const ci = percentileInterval(a.auroc);
    const auc = computeAuroc(scores, labels);
    expect(ci.low).toBeLessThan(auc);
    expect(ci.high).toBeGreaterThan(auc);
  });
});

describe('replicate streams', () => {
  it('give the same replicates however the work is split (e.g. between worker threads)', async () => {
    const { allocateReplicates, prepareBootstrap, runReplicates } = await import('./stratified-bootstrap.js');
    const random = new SeededRandom(9);
    const labels = Array.from({ length: 500 }, () => (random.nextFloat() < 0.4 ? 1 : 0));
    const scores = labels.map((y) => Math.round((y * 0.5 + random.nextFloat()) * 20) / 20);
    const strata = labels.map((_, i) => i % 3);
    const prep = prepareBootstrap({ scores, labels, strata, strataCount: 3, threshold: 0.5, replicates: 40, seed: 3, rocGridPoints: 5 });
    const whole = allocateReplicates(3, 40, 5);
    runReplicates(prep, 0, 40, whole);
    const split = allocateReplicates(3, 40, 5);
    runReplicates(prep, 25, 40, split);
    runReplicates(prep, 0, 25, split);
    expect(split).toEqual(whole);
  });
});

describe('quantileWithInfinities', () => {
  it('ranks diverged replicates: an end next to ±∞ is unbounded, one clear of them is interpolated as numpy does', () => {
    expect(quantileWithInfinities([1, 2, 3, Number.POSITIVE_INFINITY], 0.5)).toBe(2.5);
    expect(quantileWithInfinities([1, 2, 3, Number.POSITIVE_INFINITY], 0.975)).toBe(Number.POSITIVE_INFINITY);
    expect(quantileWithInfinities([Number.NEGATIVE_INFINITY, 1, 2, 3], 0.1)).toBe(Number.NEGATIVE_INFINITY);
    expect(quantileWithInfinities([3, 1, 2, Number.NaN], 0.25)).toBe(1.5);
  });
});
