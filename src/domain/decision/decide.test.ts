import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import type { DecisionPolicy } from '../model/model-manifest.js';
import { costOptimalThreshold, decideFinding } from './decide.js';

const policy: DecisionPolicy = {
  threshold: 0.2,
  abstainBand: { low: 0.1, high: 0.4 },
  costFalseNegative: 4,
  costFalsePositive: 1,
  prevalence: 0.3,
  onGateWarn: 'refer',
  source: 'test',
};

describe('decideFinding', () => {
  it('refers inside the abstain band, decides outside', () => {
    expect(decideFinding(0.05, policy, 'pass')).toEqual({ decision: 'negative', reason: 'below_threshold' });
    expect(decideFinding(0.1, policy, 'pass').decision).toBe('refer');
    expect(decideFinding(0.4, policy, 'pass').decision).toBe('refer');
    expect(decideFinding(0.41, policy, 'pass')).toEqual({ decision: 'positive', reason: 'above_threshold' });
  });
  it('refers what the gate warned about when the policy says so', () => {
    expect(decideFinding(0.99, policy, 'warn')).toEqual({ decision: 'refer', reason: 'gate_warned' });
    expect(decideFinding(0.99, { ...policy, onGateWarn: 'decide' }, 'warn').decision).toBe('positive');
  });
  it('refers a NaN probability rather than deciding it', () => {
    expect(decideFinding(Number.NaN, policy, 'pass').decision).toBe('refer');
  });
  test.prop([fc.double({ min: 0, max: 1, noNaN: true })])('never decides positive below the threshold or negative at or above it', (p) => {
    const { decision } = decideFinding(p, policy, 'pass');
    if (decision === 'positive') expect(p).toBeGreaterThanOrEqual(policy.threshold);
    if (decision === 'negative') expect(p).toBeLessThan(policy.threshold);
  });
});

describe('costOptimalThreshold', () => {
  it('is C_FP / (C_FP + C_FN)', () => {
    expect(costOptimalThreshold(5, 1)).toBeCloseTo(1 / 6, 12);
    expect(costOptimalThreshold(1, 1)).toBe(0.5);
  });
});
