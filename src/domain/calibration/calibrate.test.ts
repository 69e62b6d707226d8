import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import type { Calibration } from '../model/model-manifest.js';
import { calibrateScore, interpolate, logit, sigmoid } from './calibrate.js';

const calibrations = fc.oneof(
  fc.constant<Calibration>({ method: 'none' }),
  fc.double({ min: 0.05, max: 20, noNaN: true }).map((temperature): Calibration => ({ method: 'temperature', temperature })),
  fc
    .tuple(fc.double({ min: 0.01, max: 10, noNaN: true }), fc.double({ min: -5, max: 5, noNaN: true }))
    .map(([a, b]): Calibration => ({ method: 'platt', a, b })),
  fc
    .array(fc.tuple(fc.double({ min: -20, max: 20, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true })), { minLength: 2, maxLength: 20 })
    .map((pairs): Calibration => {
      const xs = [...new Set(pairs.map(([x]) => x))].sort((a, b) => a - b);
      const ys = pairs
        .map(([, y]) => y)
        .sort((a, b) => a - b)
        .slice(0, xs.length);
      while (ys.length < xs.length) ys.push(1);
      if (xs.length < 2) return { method: 'isotonic', x: [0, 1], y: [0, 1] };
      return { method: 'isotonic', x: xs, y: ys };
    }),
);

describe('calibrateScore', () => {
  test.prop([calibrations, fc.double({ min: -50, max: 50, noNaN: true })])('stays within [0, 1]', (calibration, score) => {
    const p = calibrateScore(score, 'logit', calibration);
    expect(p).toBeGreaterThanOrEqual(0);
    expect(p).toBeLessThanOrEqual(1);
  });
  test.prop([calibrations, fc.double({ min: -50, max: 50, noNaN: true }), fc.double({ min: -50, max: 50, noNaN: true })])(
    'keeps the order of scores (monotone non-decreasing)',
    (calibration, a, b) => {
      const [lo, hi] = a <= b ? [a, b] : [b, a];
      expect(calibrateScore(lo, 'logit', calibration)).toBeLessThanOrEqual(calibrateScore(hi, 'logit', calibration));
    },
  );
  it('temperature scaling divides the logit', () => {
    expect(calibrateScore(2, 'logit', { method: 'temperature', temperature: 2 })).toBeCloseTo(sigmoid(1), 12);
  });
  it('a probability output is mapped through its logit', () => {
    expect(calibrateScore(0.8, 'probability', { method: 'temperature', temperature: 1 })).toBeCloseTo(0.8, 9);
    expect(logit(sigmoid(3))).toBeCloseTo(3, 9);
  });
  it('sigmoid does not overflow', () => {
    expect(sigmoid(-1000)).toBe(0);
    expect(sigmoid(1000)).toBe(1);
  });
  it('isotonic interpolates between knots and clips beyond', () => {
    expect(interpolate([0, 1, 2], [0, 0.5, 0.7], 0.5)).toBeCloseTo(0.25, 12);
    expect(interpolate([0, 1, 2], [0, 0.5, 0.7], -3)).toBe(0);
    expect(interpolate([0, 1, 2], [0, 0.5, 0.7], 9)).toBe(0.7);
  });
});
