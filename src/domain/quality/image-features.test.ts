import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { pairwiseSum } from './pairwise-sum.js';
import { computeImageFeatures, IMAGE_FEATURE_NAMES, laplacianVariance, linearPercentiles, percentileOfSorted, type ImageFeatures } from './image-features.js';

/** The straightforward definition: sort a copy, then interpolate (what computeImageFeatures did before selection). */
const sortedPercentiles = (values: ArrayLike<number>, qs: readonly number[]): number[] => {
  const sorted = Float64Array.from(values).sort();
  return qs.map((q) => percentileOfSorted(sorted, q));
};

/** The straightforward definition, in numpy's steps: x.mean(), x.std() (two passes, pairwise sums), sorted percentiles. */
const referenceFeatures = (pixels: Float32Array, width: number, height: number): ImageFeatures => {
  const n = width * height;
  const mean = pairwiseSum(pixels) / n;
  const deviations = Float64Array.from(pixels, (v) => (v - mean) * (v - mean));
  let saturated = 0;
  for (let i = 0; i < n; i++) {
    const v = pixels[i] as number;
    if (v <= 0.5 / 255 || v >= 254.5 / 255) saturated++;
  }
  const squares = pairwiseSum(deviations);
  const sorted = Float64Array.from(pixels).sort();
  const p = (q: number): number => percentileOfSorted(sorted, q);
  return {
    mean,
    std: Math.sqrt(squares / n),
    p01: p(1),
    p05: p(5),
    p25: p(25),
    p50: p(50),
    p75: p(75),
    p95: p(95),
    p99: p(99),
    laplacianVariance: laplacianVariance(pixels, width, height),
    saturatedFraction: saturated / n,
    dynamicRange: p(99) - p(1),
  };
};

const FEATURE_QS = [1, 5, 25, 50, 75, 95, 99];

// Values with many ties (a few distinct levels, as in 8-bit images and saturated regions) or arbitrary doubles.
const tiedValue = fc.constantFrom(0, 1, 0.5, 0.25, -0, 1 / 255, 254 / 255);
const anyValue = fc.double({ noNaN: true });
const valuesArbitrary = fc.oneof(
  fc.array(tiedValue, { minLength: 1, maxLength: 2_000 }),
  fc.array(fc.oneof(tiedValue, fc.double({ min: 0, max: 1, noNaN: true })), { minLength: 1, maxLength: 2_000 }),
  fc.array(anyValue, { minLength: 1, maxLength: 300 }),
);
const qsArbitrary = fc.array(fc.double({ min: 0, max: 100, noNaN: true }), { minLength: 1, maxLength: 9 });

describe('percentileOfSorted', () => {
  it("equals numpy's np.percentile (1.24, method linear) bit for bit, on both sides of t = 0.5", () => {
    // x = [0.1 * ((i * 7919) % 1000) for i in range(1000)]; values from numpy 1.24.2.
    const sorted = Float64Array.from({ length: 1000 }, (_, i) => 0.1 * ((i * 7919) % 1000)).sort();
    expect(percentileOfSorted(sorted, 99.9)).toBe(99.80010000000001);
    expect(percentileOfSorted(sorted, 0.7)).toBe(0.6993);
  });
});

describe('linearPercentiles', () => {
  test.prop([valuesArbitrary, qsArbitrary])('equals sort-then-interpolate exactly (Object.is), ties included', (values, qs) => {
    const got = linearPercentiles(values, qs);
    const expected = sortedPercentiles(values, qs);
    got.forEach((v, i) => expect(v).toBe(expected[i]));
  });

  test.prop([fc.integer({ min: 1, max: 5_000 }), fc.integer({ min: 1, max: 8 }), fc.integer({ min: 0, max: 2 ** 31 - 1 })], { numRuns: 60 })(
    'equals it on Float32 arrays of few levels, small and large, with the features’ percentiles',
    (n, levels, seed) => {
      // Deterministic pseudo-random values from few levels (many ties) scaled into [0, 1].
      let state = seed;
      const values = Float32Array.from({ length: n }, () => {
        state = (Math.imul(state, 1103515245) + 12345) >>> 0;
        return (state % (levels * 31)) / (levels * 31 - 1);
      });
      expect(linearPercentiles(values, FEATURE_QS)).toEqual(sortedPercentiles(values, FEATURE_QS));
    },
  );

  test.prop(
    [
      fc.array(fc.float({ noNaN: true }), { minLength: 1, maxLength: 50 }),
      fc.integer({ min: 4096, max: 9000 }),
      fc.integer({ min: 0, max: 2 ** 31 - 1 }),
      qsArbitrary,
    ],
    { numRuns: 60 },
  )('equals it on Float32 arrays large enough for the bucket pass: signs, ±0, ±Infinity, subnormals, ties', (pool, n, seed, qs) => {
    let state = seed;
    const values = Float32Array.from({ length: n }, () => {
      state = (Math.imul(state, 1103515245) + 12345) >>> 0;
      return pool[state % pool.length] as number;
    });
    const got = linearPercentiles(values, [...qs, ...FEATURE_QS]);
    const expected = sortedPercentiles(values, [...qs, ...FEATURE_QS]);
    got.forEach((v, i) => expect(v).toBe(expected[i]));
  });

  it('returns NaN for no values and the value itself for one', () => {
    expect(linearPercentiles([], [50])).toEqual([Number.NaN]);
    expect(linearPercentiles([0.25], [0, 50, 100])).toEqual([0.25, 0.25, 0.25]);
  });

  it('does not modify its input', () => {
    const values = Float32Array.from([5, 3, 1, 4, 2]);
    linearPercentiles(values, [50]);
    expect(Array.from(values)).toEqual([5, 3, 1, 4, 2]);
  });
});

describe('computeImageFeatures', () => {
  test.prop([fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 40 }), fc.integer({ min: 0, max: 2 ** 31 - 1 }), fc.boolean()], { numRuns: 60 })(
    'equals the sort-based reference bit for bit',
    (width, height, seed, quantised) => {
      let state = seed;
      const pixels = Float32Array.from({ length: width * height }, () => {
        state = (Math.imul(state, 1103515245) + 12345) >>> 0;
        const u = state / 2 ** 32;
        return quantised ? Math.round(u * 255) / 255 : u;
      });
      const got = computeImageFeatures(pixels, width, height);
      const expected = referenceFeatures(pixels, width, height);
      for (const name of IMAGE_FEATURE_NAMES) expect(got[name], name).toBe(expected[name]);
    },
  );

  it('equals the reference on a 224 × 224 image', () => {
    const pixels = Float32Array.from({ length: 224 * 224 }, (_, i) => Math.round(((Math.sin(i * 0.37) + 1) / 2) * 255) / 255);
    expect(computeImageFeatures(pixels, 224, 224)).toEqual(referenceFeatures(pixels, 224, 224));
  });
});
