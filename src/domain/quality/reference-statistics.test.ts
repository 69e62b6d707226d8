import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { IMAGE_FEATURE_NAMES, type ImageFeatures } from './image-features.js';
import { mahalanobisDistance } from './ood.js';
import { CONSTANT_STD, deriveQualityThresholds, deriveReferenceStatistics, invertMatrix, REFERENCE_FEATURES, round6 } from './reference-statistics.js';

/** Features of n made-up images: each feature a value in (0, 1) from a seeded generator, a little correlated. */
function syntheticFeatures(n: number, seed: number): ImageFeatures[] {
  let state = seed >>> 0 || 1;
  const next = (): number => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return (state + 0.5) / 2 ** 32;
  };
  return Array.from({ length: n }, () => {
    const base = next();
    return Object.fromEntries(IMAGE_FEATURE_NAMES.map((name, j) => [name, (base + next() * (j + 1)) / (j + 2)])) as ImageFeatures;
  });
}

const multiply = (a: readonly (readonly number[])[], b: readonly (readonly number[])[]): number[][] =>
  a.map((row) => b[0]!.map((_, j) => row.reduce((s, v, l) => s + v * b[l]![j]!, 0)));

describe('invertMatrix', () => {
  it('inverts a matrix that needs a row exchange', () => {
    expect(
      invertMatrix([
        [0, 2],
        [4, 0],
      ]),
    ).toEqual([
      [0, 0.25],
      [0.5, 0],
    ]);
  });

  it('refuses a singular matrix', () => {
    expect(() =>
      invertMatrix([
        [1, 2],
        [2, 4],
      ]),
    ).toThrow(RangeError);
  });

  test.prop([
    fc
      .integer({ min: 1, max: 8 })
      .chain((k) => fc.array(fc.array(fc.double({ min: -1, max: 1, noNaN: true }), { minLength: k, maxLength: k }), { minLength: k, maxLength: k })),
  ])('gives A·A⁻¹ = I for a symmetric positive definite A = B·Bᵀ + I', (b) => {
    const k = b.length;
    const a = multiply(
      b,
      b[0]!.map((_, j) => b.map((row) => row[j]!)),
    ).map((row, i) => row.map((v, j) => v + (i === j ? 1 : 0)));
    const product = multiply(a, invertMatrix(a));
    product.forEach((row, i) => row.forEach((v, j) => expect(Math.abs(v - (i === j ? 1 : 0))).toBeLessThan(1e-9 * k)));
  });
});

describe('deriveReferenceStatistics', () => {
  test.prop([fc.integer({ min: 40, max: 400 }), fc.integer({ min: 1, max: 2 ** 31 })])(
    'holds the features’ means, a symmetric precision, and thresholds the images themselves pass',
    (n, seed) => {
      const features = syntheticFeatures(n, seed);
      const stats = deriveReferenceStatistics(features, `the ${n} images`);
      expect(stats.features).toEqual(REFERENCE_FEATURES);
      expect(stats.n).toBe(n);
      REFERENCE_FEATURES.forEach((name, j) => expect(stats.mean[j]).toBeCloseTo(features.reduce((s, f) => s + f[name], 0) / n, 12));
      stats.precision.forEach((row, a) => row.forEach((v, b) => expect(v).toBe(stats.precision[b]![a])));
      // The gate's own distance (domain/quality/ood.ts) with these statistics: the mean is at 0, every
      // image is at most the largest distance, which the reject bound exceeds by half.
      const meanImage = Object.fromEntries(IMAGE_FEATURE_NAMES.map((name) => [name, 0])) as Record<string, number>;
      REFERENCE_FEATURES.forEach((name, j) => (meanImage[name] = stats.mean[j]!));
      expect(mahalanobisDistance(meanImage as ImageFeatures, stats)).toBeCloseTo(0, 9);
      const distances = features.map((f) => mahalanobisDistance(f, stats));
      const largest = Math.max(...distances);
      expect(stats.distance.reject).toBeCloseTo(1.5 * largest, 5);
      expect(stats.distance.warn).toBeLessThanOrEqual(round6(largest) + 1e-6);
      // At most 1 % of the images (rounded up, plus rounding of the bound) lie beyond the warning.
      expect(distances.filter((d) => d > stats.distance.warn + 1e-6).length).toBeLessThanOrEqual(Math.ceil(0.01 * n));
    },
  );
});

describe('deriveQualityThresholds', () => {
  test.prop([fc.integer({ min: 40, max: 400 }), fc.integer({ min: 1, max: 2 ** 31 })])(
    'orders warn and reject as each check reads them, and rounds to 6 decimals',
    (n, seed) => {
      const q = deriveQualityThresholds(syntheticFeatures(n, seed), `the ${n} images`);
      expect(q.saturatedFraction.reject).toBeGreaterThanOrEqual(0.5);
      expect(q.saturatedFraction.reject).toBeGreaterThanOrEqual(q.saturatedFraction.warn);
      for (const bound of [q.dynamicRange, q.laplacianVariance]) {
        expect(bound.reject).toBeLessThanOrEqual(bound.warn);
        expect(round6(bound.warn)).toBe(bound.warn);
        expect(bound.source).toContain(`the ${n} images`);
      }
      expect(q.constantStd).toBe(CONSTANT_STD);
    },
  );

  it('takes the 1st and 0.1th percentiles with numpy’s linear interpolation', () => {
    // 1001 images whose dynamic range is 0.000, 0.001, …, 1.000: the 1st percentile is 0.01, the 0.1th 0.001.
    const features = Array.from(
      { length: 1001 },
      (_, i) => Object.fromEntries(IMAGE_FEATURE_NAMES.map((name) => [name, name === 'dynamicRange' ? i / 1000 : 0.5])) as ImageFeatures,
    );
    const q = deriveQualityThresholds(features, 'x');
    expect(q.dynamicRange.warn).toBe(0.01);
    expect(q.dynamicRange.reject).toBe(0.0005);
  });
});

describe('round6', () => {
  test.prop([fc.double({ min: -1e6, max: 1e6, noNaN: true })])('is within half a millionth and idempotent', (x) => {
    expect(Math.abs(round6(x) - x)).toBeLessThanOrEqual(5e-7 + Math.abs(x) * Number.EPSILON);
    expect(round6(round6(x))).toBe(round6(x));
  });
});
