import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { pairwiseSum } from './pairwise-sum.js';

describe('pairwiseSum', () => {
  it("equals numpy's np.add.reduce bit for bit (numpy 1.24.2), where a sum in order differs", () => {
    // np.add.reduce(1.0 / np.arange(1, n + 1)); the in-order sums are 7.485470860550343 and 9.034340331731043.
    const harmonic = (n: number): Float64Array => Float64Array.from({ length: n }, (_, i) => 1 / (i + 1));
    expect(pairwiseSum(harmonic(7))).toBe(2.5928571428571425);
    expect(pairwiseSum(harmonic(100))).toBe(5.187377517639621);
    expect(pairwiseSum(harmonic(1000))).toBe(7.485470860550345);
    expect(pairwiseSum(harmonic(4708))).toBe(9.03434033173107);
  });

  it('sums a strided column of a row-major table as numpy sums along axis 0', () => {
    const table = Float64Array.from({ length: 300 * 3 }, (_, i) => (i % 3) + 1 / (i + 1));
    const column = Float64Array.from({ length: 300 }, (_, i) => table[i * 3 + 1]!);
    expect(pairwiseSum(table, 1, 300, 3)).toBe(pairwiseSum(column));
  });

  test.prop([fc.array(fc.integer({ min: -1e6, max: 1e6 }), { maxLength: 3000 })])('is exact on integers (any order adds them exactly)', (values) => {
    expect(pairwiseSum(values)).toBe(values.reduce((a, b) => a + b, 0));
  });

  test.prop([fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 3000 })])(
    'stays within n·ε of the exact sum of non-negative values',
    (values) => {
      const inOrder = values.reduce((a, b) => a + b, 0);
      expect(Math.abs(pairwiseSum(values) - inOrder)).toBeLessThanOrEqual(values.length * Number.EPSILON * inOrder + 1e-300);
    },
  );
});
