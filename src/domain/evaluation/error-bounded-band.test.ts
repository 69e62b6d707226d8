import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { bayesOperatingPoint, errorBoundedBand } from './error-bounded-band.js';
import { isInBand } from './conformal.js';

const cases = fc
  .array(fc.tuple(fc.double({ min: 0, max: 1, noNaN: true }), fc.boolean()), { minLength: 1, maxLength: 300 })
  .map((rows) => ({ p: Float64Array.from(rows, (r) => r[0]), y: Uint8Array.from(rows, (r) => (r[1] ? 1 : 0)) }));

const errorOutside = (p: Float64Array, y: Uint8Array, t: number, band: { low: number; high: number }): number => {
  let kept = 0;
  let wrong = 0;
  p.forEach((v, i) => {
    if (isInBand(v, band)) return;
    kept++;
    if ((v >= t ? 1 : 0) !== y[i]) wrong++;
  });
  return kept === 0 ? Number.NaN : wrong / kept;
};

describe('bayesOperatingPoint', () => {
  it('puts the threshold at C_FP / (C_FP + C_FN) whatever the data', () => {
    const point = bayesOperatingPoint([0.1, 0.9], [0, 1], { falseNegative: 5, falsePositive: 1 }, 0.7);
    expect(point.threshold).toBe(1 / 6);
    expect(point.sensitivity).toBe(1);
    expect(point.specificity).toBe(1);
    expect(point.expectedCost).toBe(0);
  });
});

describe('errorBoundedBand', () => {
  test.prop([cases, fc.double({ min: 0.05, max: 0.95, noNaN: true }), fc.double({ min: 0, max: 0.3, noNaN: true })])(
    'returns the narrowest grid band around the threshold that meets the target',
    ({ p, y }, t, maxError) => {
      const band = errorBoundedBand(p, y, t, maxError);
      if (band === undefined) return;
      expect(band.low).toBeLessThanOrEqual(t);
      expect(band.high).toBeGreaterThanOrEqual(t);
      expect(errorOutside(p, y, t, band)).toBeLessThanOrEqual(maxError);
      expect(band.errorRateNotReferred).toBe(errorOutside(p, y, t, band));
      if (band.halfWidthLogit > 0) {
        // One grid step narrower misses the target.
        const w = band.halfWidthLogit - 0.01;
        const centre = Math.log(t / (1 - t));
        const narrower = { low: Math.floor((1 / (1 + Math.exp(-(centre - w)))) * 1e6) / 1e6, high: Math.ceil((1 / (1 + Math.exp(-(centre + w)))) * 1e6) / 1e6 };
        expect(errorOutside(p, y, t, narrower)).toBeGreaterThan(maxError);
      }
    },
  );

  it('refers the cases near the threshold until those decided are right often enough', () => {
    // Three errors close to 0.5 and many right answers far from it.
    const p = [0.49, 0.51, 0.52, ...Array.from({ length: 20 }, () => 0.05), ...Array.from({ length: 20 }, () => 0.95)];
    const y = [1, 0, 0, ...Array.from({ length: 20 }, () => 0), ...Array.from({ length: 20 }, () => 1)];
    const band = errorBoundedBand(p, y, 0.5, 0)!;
    expect(band.referred).toBe(3);
    expect(band.low).toBeLessThanOrEqual(0.49);
    expect(band.high).toBeGreaterThanOrEqual(0.52);
    expect(band.halfWidthLogit).toBe(0.09);
  });
});
