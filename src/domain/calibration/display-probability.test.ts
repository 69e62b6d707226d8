import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { displayProbability, PROBABILITY_STEPS, probabilityStep, reportedCalibrationError } from './display-probability.js';

const probability = fc.double({ min: 0, max: 1, noNaN: true });
const error = fc.oneof(fc.constant(undefined), fc.double({ min: 0, max: 1, noNaN: true }));

describe('displayProbability', () => {
  it('shows the demo model (test ECE 0.095) in tenths, and never 1 or 0', () => {
    expect(displayProbability(1, 0.095).text).toBe('> 0.95');
    expect(displayProbability(0.9997, 0.095).text).toBe('> 0.95');
    expect(displayProbability(0.874, 0.095).text).toBe('≈ 0.9');
    expect(displayProbability(0.5, 0.095).text).toBe('≈ 0.5');
    expect(displayProbability(0.02, 0.095).text).toBe('< 0.05');
    expect(displayProbability(0, 0.095).text).toBe('< 0.05');
  });
  it('shows a better calibrated model more finely, and an unknown one coarsely', () => {
    expect(displayProbability(0.874, 0.015).text).toBe('≈ 0.88');
    expect(displayProbability(0.874, 0.004).text).toBe('≈ 0.87');
    expect(displayProbability(0.999, 0.004).text).toBe('> 0.995');
    expect(displayProbability(0.874, 0.04).text).toBe('≈ 0.85');
    expect(displayProbability(0.874, undefined).text).toBe('≈ 0.8');
    expect(displayProbability(0.95, undefined).text).toBe('> 0.9');
    expect(displayProbability(Number.NaN, 0.01).text).toBe('unknown');
  });
  test.prop([probability, error])('the shown interval holds the probability, and is no finer than the calibration error', (p, e) => {
    const shown = displayProbability(p, e);
    expect(shown.low).toBeLessThanOrEqual(p + 1e-12);
    expect(shown.high).toBeGreaterThanOrEqual(p - 1e-12);
    expect(shown.high - shown.low).toBeLessThanOrEqual(shown.step + 1e-12);
    if (e !== undefined && e <= 0.2) expect(shown.step).toBeGreaterThanOrEqual(e);
    // Never certainty, and never more decimals than the step has.
    expect(shown.text).not.toMatch(/^≈ (1|0)(\.0+)?$/);
    const decimals = /\.(\d+)$/.exec(shown.text)?.[1]?.length ?? 0;
    expect(decimals).toBeLessThanOrEqual(shown.step >= 0.1 ? 2 : 3);
  });
  test.prop([probability, probability, error])('keeps the order of probabilities (a higher one is never shown lower)', (a, b, e) => {
    const [lo, hi] = a <= b ? [a, b] : [b, a];
    const x = displayProbability(lo, e);
    const y = displayProbability(hi, e);
    expect(x.low).toBeLessThanOrEqual(y.low + 1e-12);
  });
  test.prop([error])('the step is one of the round steps, and grows with the error', (e) => {
    expect(PROBABILITY_STEPS).toContain(probabilityStep(e));
    if (e !== undefined) expect(probabilityStep(e)).toBeLessThanOrEqual(probabilityStep(Math.min(1, e + 0.01)));
  });
});

describe('reportedCalibrationError', () => {
  it('takes the worst held-out ECE after calibration, ignoring the training split', () => {
    expect(reportedCalibrationError({ metrics: { train: { eceAfter: 0.5 }, val: { eceAfter: 0.02 }, test: { eceAfter: 0.095 } } })).toBe(0.095);
    expect(reportedCalibrationError({ metrics: { test: { ece: 0.03 } } })).toBe(0.03);
    expect(reportedCalibrationError({ calibration: { method: 'temperature', fit: { eceAfter: 0.02 } } })).toBe(0.02);
    expect(reportedCalibrationError({ metrics: { notes: 'x' }, calibration: { method: 'none' } })).toBeUndefined();
    expect(reportedCalibrationError({})).toBeUndefined();
  });
});
