import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { reduceContrast8 } from './acquisition-shift.js';

const meanOf = (p: Uint8Array) => p.reduce((s, v) => s + v, 0) / p.length;
const stdOf = (p: Uint8Array) => {
  const m = meanOf(p);
  return Math.sqrt(p.reduce((s, v) => s + (v - m) ** 2, 0) / p.length);
};

describe('reduceContrast8', () => {
  it('scales each pixel about the mean, rounding and clamping, and leaves the input alone', () => {
    const pixels = Uint8Array.from([0, 50, 100, 150, 200, 250]); // mean 125
    expect(Array.from(reduceContrast8(pixels, 0.7))).toEqual([38, 73, 108, 143, 178, 213]);
    expect(Array.from(pixels)).toEqual([0, 50, 100, 150, 200, 250]);
    expect(Array.from(reduceContrast8(pixels, 1))).toEqual(Array.from(pixels));
    expect(Array.from(reduceContrast8(pixels, 0))).toEqual([125, 125, 125, 125, 125, 125]);
    expect(() => reduceContrast8(pixels, 1.5)).toThrow(RangeError);
  });

  test.prop([fc.uint8Array({ minLength: 16, maxLength: 784 }), fc.double({ min: 0, max: 1, noNaN: true })])(
    'keeps the mean (to rounding) and scales the standard deviation by the factor (to rounding)',
    (pixels, factor) => {
      const out = reduceContrast8(pixels, factor);
      expect(Math.abs(meanOf(out) - meanOf(pixels))).toBeLessThanOrEqual(0.5);
      expect(Math.abs(stdOf(out) - factor * stdOf(pixels))).toBeLessThanOrEqual(0.5);
    },
  );
});
