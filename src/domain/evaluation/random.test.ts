import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { SeededRandom, shuffledIndices, stratifiedHalves } from './random.js';

describe('SeededRandom', () => {
  it('is reproducible from its seed and differs between seeds', () => {
    const a = Array.from(
      { length: 5 },
      (
        (r) => () =>
          r.nextUint32()
      )(new SeededRandom(1)),
    );
    const b = Array.from(
      { length: 5 },
      (
        (r) => () =>
          r.nextUint32()
      )(new SeededRandom(1)),
    );
    const c = Array.from(
      { length: 5 },
      (
        (r) => () =>
          r.nextUint32()
      )(new SeededRandom(2)),
    );
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
  });
  it('gives roughly uniform integers (chi-square over 10 cells, 100,000 draws)', () => {
    const r = new SeededRandom(42);
    const counts = new Array<number>(10).fill(0);
    for (let i = 0; i < 100_000; i++) counts[r.nextInt(10)]!++;
    const chi2 = counts.reduce((s, c) => s + (c - 10_000) ** 2 / 10_000, 0);
    expect(chi2).toBeLessThan(27.9); // 99.9th percentile of chi-square with 9 degrees of freedom
  });
  test.prop([fc.integer({ min: 0, max: 200 }), fc.integer({ min: 0, max: 2 ** 32 - 1 })])('shuffles are permutations', (n, seed) => {
    expect([...shuffledIndices(n, new SeededRandom(seed))].sort((x, y) => x - y)).toEqual(Array.from({ length: n }, (_, i) => i));
  });
  test.prop([fc.array(fc.integer({ min: 0, max: 1 }), { maxLength: 200 }), fc.integer({ min: 0, max: 1000 })])(
    'stratified halves are disjoint, cover every case, and split each label evenly',
    (labels, seed) => {
      const { a, b } = stratifiedHalves(labels, seed);
      expect([...a, ...b].sort((x, y) => x - y)).toEqual(labels.map((_, i) => i));
      for (const cls of [0, 1]) {
        const inA = a.filter((i) => labels[i] === cls).length;
        const inB = b.filter((i) => labels[i] === cls).length;
        expect(inA - inB === 0 || inA - inB === 1).toBe(true);
      }
    },
  );
});
