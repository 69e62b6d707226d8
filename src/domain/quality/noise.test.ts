import { describe, expect, it } from 'vitest';
import { SeededRandom } from '../evaluation/random.js';
import { estimateNoiseSigma } from './noise.js';

describe('estimateNoiseSigma (Immerkær 1996)', () => {
  const size = 128;
  const image = (f: (x: number, y: number) => number): Float64Array => Float64Array.from({ length: size * size }, (_, i) => f(i % size, Math.floor(i / size)));

  it('is 0 on a constant image and on a plane (the mask cancels structure up to second order)', () => {
    expect(
      estimateNoiseSigma(
        image(() => 0.4),
        size,
        size,
      ),
    ).toBe(0);
    expect(
      estimateNoiseSigma(
        image((x, y) => 0.1 + 0.002 * x + 0.003 * y),
        size,
        size,
      ),
    ).toBeCloseTo(0, 12);
  });

  it('recovers the standard deviation of added Gaussian noise within 5 %', () => {
    const random = new SeededRandom(5);
    const gaussian = (): number => Math.sqrt(-2 * Math.log(1 - random.nextFloat())) * Math.cos(2 * Math.PI * random.nextFloat());
    for (const sigma of [0.01, 0.05]) {
      const noisy = image((x) => 0.3 + 0.001 * x + sigma * gaussian());
      expect(Math.abs(estimateNoiseSigma(noisy, size, size) / sigma - 1)).toBeLessThan(0.05);
    }
  });

  it('returns 0 for an image too small for the 3 × 3 mask', () => {
    expect(estimateNoiseSigma(new Float64Array(4), 2, 2)).toBe(0);
  });
});
