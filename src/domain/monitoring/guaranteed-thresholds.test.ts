import { describe, expect, it } from 'vitest';
import { SeededRandom } from '../evaluation/random.js';
import { calibrateThreshold, incrementDistribution } from './cusum.js';
import { continuousBootstrapThresholds, continuousThresholdInflation, indicatorGuaranteedRate, upperQuantile } from './guaranteed-thresholds.js';
import { buildNormalScorer, normalScore } from './normal-score.js';

const options = { bootstraps: 24, quantile: 0.9, seed: 11 };

describe('continuousThresholdInflation: the bootstrap of thresholds on ranks, shared by every tie-free signal of that size', () => {
  it('equals the per-signal bootstrap (same draws) on a skewed tie-free signal: normal scores depend on ranks only', () => {
    const random = new SeededRandom(3);
    const n = 80;
    const values = Float64Array.from({ length: n }, () => Math.exp(3 * random.nextFloat()) + 1e-6 * random.nextFloat());
    const k = 0.5;
    const target = 3000;
    const states = 50;
    const scorer = buildNormalScorer(values);
    const nominal = calibrateThreshold(incrementDistribution(values.map((v) => normalScore(scorer, v) - k)), target, states).h;
    const perSignal = upperQuantile(continuousBootstrapThresholds(values, 1, k, target, states, options), options.quantile);
    expect(nominal + continuousThresholdInflation(n, k, target, states, options)).toBeCloseTo(perSignal, 10);
  });

  it('is positive, and smaller for a larger reference', () => {
    const small = continuousThresholdInflation(40, 0.5, 3000, 50, options);
    const large = continuousThresholdInflation(400, 0.5, 3000, 50, options);
    expect(small).toBeGreaterThan(0);
    expect(large).toBeGreaterThan(0);
    expect(large).toBeLessThan(small);
  });
});

describe('indicatorGuaranteedRate: a bootstrap confidence bound of a rate', () => {
  it('lies above the smoothed rate upwards and below it downwards, and above it even when no event was seen', () => {
    const p0 = (14 + 0.5) / (262 + 1);
    expect(indicatorGuaranteedRate(14, 262, true, options)).toBeGreaterThan(p0);
    expect(indicatorGuaranteedRate(14, 262, false, options)).toBeLessThan(p0);
    expect(indicatorGuaranteedRate(0, 524, true, { ...options, bootstraps: 200 })).toBeGreaterThan(0.5 / 525);
  });

  it('covers the true rate in about `quantile` of references drawn from it (the guarantee: the chart is designed at or above the truth)', () => {
    const random = new SeededRandom(17);
    const n = 300;
    const pTrue = 0.05;
    let covered = 0;
    const references = 300;
    for (let r = 0; r < references; r++) {
      let ones = 0;
      for (let i = 0; i < n; i++) if (random.nextFloat() < pTrue) ones++;
      if (indicatorGuaranteedRate(ones, n, true, { bootstraps: 200, quantile: 0.9, seed: r }) >= pTrue) covered++;
    }
    expect(covered / references).toBeGreaterThan(0.83);
    expect(covered / references).toBeLessThan(0.97);
  });
});
