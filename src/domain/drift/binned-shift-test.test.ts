import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { SeededRandom } from '../evaluation/random.js';
import { compareWithSketch, countInBins, holmAdjust, sketchDistribution, SKETCH_LEVELS, testHomogeneity } from './binned-shift-test.js';
import { chiSquareSurvival } from './chi-square.js';

function normals(random: SeededRandom, n: number, mean = 0, sd = 1): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    // Box–Muller; 1 − u keeps the logarithm finite.
    const u = 1 - random.nextFloat();
    const v = random.nextFloat();
    out[i] = mean + sd * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }
  return out;
}

/** p of a fresh evaluated sample against a fresh reference sketch. */
function simulatedP(random: SeededRandom, nr: number, ne: number, shift: { mean?: number; sd?: number } = {}): number {
  const sketch = sketchDistribution(normals(random, nr));
  return compareWithSketch(sketch, SKETCH_LEVELS, normals(random, ne, shift.mean ?? 0, shift.sd ?? 1)).pValue;
}

describe('the binned chi-square shift test against a stored sketch', () => {
  it('gives roughly uniform p-values when nothing shifted (seeded simulation, 600 runs)', () => {
    const random = new SeededRandom(20231);
    for (const [nr, ne] of [
      [524, 624],
      [200, 60],
    ] as const) {
      const ps = Array.from({ length: 600 }, () => simulatedP(random, nr, ne));
      const below = (t: number): number => ps.filter((p) => p < t).length / ps.length;
      // 600 runs: a binomial SD of about 0.009 at 5 % and 0.02 at 50 %.
      expect(below(0.05)).toBeGreaterThan(0.025);
      expect(below(0.05)).toBeLessThan(0.08);
      expect(below(0.5)).toBeGreaterThan(0.44);
      expect(below(0.5)).toBeLessThan(0.56);
      // Kolmogorov distance of the p-values from U(0, 1); 1.36/√600 = 0.056 is the 5 % critical value.
      const sorted = [...ps].sort((a, b) => a - b);
      const d = Math.max(...sorted.map((p, i) => Math.max(Math.abs((i + 1) / sorted.length - p), Math.abs(p - i / sorted.length))));
      expect(d).toBeLessThan(0.07);
    }
  });

  it('detects a shift of location and of scale at the sizes of PneumoniaMNIST (524 reference, 624 evaluated)', () => {
    const random = new SeededRandom(7);
    const runs = (shift: { mean?: number; sd?: number }): number[] => Array.from({ length: 40 }, () => simulatedP(random, 524, 624, shift));
    const share = (ps: number[], t: number): number => ps.filter((p) => p < t).length / ps.length;
    // A 20-bin chi-square spends degrees of freedom on every kind of difference, so it is less
    // powerful than a rank test against a pure location shift: measured here, 0.3 SD is found at
    // p < 0.05 in most runs, 0.5 SD at p < 0.001 in nearly all.
    expect(share(runs({ mean: 0.3 }), 0.05)).toBeGreaterThanOrEqual(0.8);
    expect(share(runs({ mean: 0.5 }), 0.001)).toBeGreaterThanOrEqual(0.95);
    expect(share(runs({ sd: 1.4 }), 0.001)).toBeGreaterThanOrEqual(0.95);
  });

  it('says which way a variable moved: superiority above 0.5 and the median higher for a shift up', () => {
    const random = new SeededRandom(3);
    const c = compareWithSketch(sketchDistribution(normals(random, 1000)), SKETCH_LEVELS, normals(random, 1000, 0.5));
    expect(c.superiority).toBeGreaterThan(0.6);
    expect(c.superiority).toBeLessThan(0.7); // Φ(0.5/√2) = 0.638
    expect(c.medianShiftIqr!).toBeGreaterThan(0.25); // 0.5 SD / 1.349 SD = 0.37
    expect(c.medianAtReferenceLevel).toBeGreaterThan(0.6);
    expect(c.psi).toBeGreaterThan(0.1);
  });

  test.prop([fc.integer({ min: 0, max: 2 ** 31 - 1 }), fc.double({ min: -100, max: 100, noNaN: true }), fc.integer({ min: -3, max: 3 })])(
    'is invariant to an increasing affine change of units applied to both sets, and to the order of the evaluated values',
    (seed, offset, exponent) => {
      const random = new SeededRandom(seed);
      const reference = normals(random, 300);
      const evaluated = normals(random, 200, 0.2);
      // A power-of-two scale keeps the arithmetic exact up to the offset's rounding.
      const scale = 2 ** exponent;
      const unit = (x: Float64Array): Float64Array => x.map((v) => offset + scale * v);
      const a = compareWithSketch(sketchDistribution(reference), SKETCH_LEVELS, evaluated);
      const b = compareWithSketch(sketchDistribution(unit(reference)), SKETCH_LEVELS, unit(evaluated));
      const c = compareWithSketch(sketchDistribution(reference), SKETCH_LEVELS, evaluated.slice().reverse());
      expect(b.statistic).toBeCloseTo(a.statistic, 6);
      expect(b.df).toBe(a.df);
      expect(c.statistic).toBe(a.statistic);
      expect(a.pValue).toBeGreaterThanOrEqual(0);
      expect(a.pValue).toBeLessThanOrEqual(1);
    },
  );

  test.prop([
    fc.array(fc.integer({ min: 0, max: 400 }), { minLength: 1, maxLength: 25 }),
    fc.array(fc.integer({ min: 0, max: 400 }), { minLength: 1, maxLength: 25 }),
  ])('merges bins until every expected count is at least 5, keeping every count, and is symmetric in the two samples', (r, e) => {
    const k = Math.min(r.length, e.length);
    const ref = r.slice(0, k);
    const ev = e.slice(0, k);
    const edges = [...Array.from({ length: k - 1 }, (_, i) => i), null];
    const t = testHomogeneity(ref, ev, edges);
    const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);
    expect(sum(t.bins.map((b) => b.reference))).toBe(sum(ref));
    expect(sum(t.bins.map((b) => b.evaluated))).toBe(sum(ev));
    const nr = sum(ref);
    const ne = sum(ev);
    if (t.testable) {
      for (const b of t.bins) expect(((b.reference + b.evaluated) * Math.min(nr, ne)) / (nr + ne)).toBeGreaterThanOrEqual(5 - 1e-9);
    }
    const swapped = testHomogeneity(ev, ref, edges);
    expect(swapped.statistic).toBeCloseTo(t.statistic, 9);
    expect(swapped.df).toBe(t.df);
    expect(t.superiority + swapped.superiority).toBeCloseTo(1, 9);
  });

  it('counts ties into one bin: a variable that is 0 for most images keeps its counts exact', () => {
    const values = [...new Array<number>(90).fill(0), 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1];
    const sketch = sketchDistribution(values);
    expect(sketch.counts.reduce((a, b) => a + b, 0)).toBe(100);
    expect(sketch.counts[0]).toBe(90);
    expect(countInBins([0, 0, 5], [0, 1])).toEqual([2, 0, 1]);
  });

  it('reports a constant variable as not testable (p = 1) rather than as a difference', () => {
    const c = compareWithSketch(sketchDistribution(new Array<number>(200).fill(28)), SKETCH_LEVELS, new Array<number>(50).fill(28));
    expect(c.testable).toBe(false);
    expect(c.pValue).toBe(1);
    expect(c.df).toBe(0);
  });

  it('keeps a finite log10 p where p underflows', () => {
    const r = chiSquareSurvival(5000, 19);
    expect(r.p).toBe(0);
    expect(r.log10).toBeLessThan(-1000);
    expect(Number.isFinite(r.log10)).toBe(true);
  });
});

describe('holmAdjust', () => {
  it('equals statsmodels multipletests(method="holm") on a worked example', () => {
    // statsmodels 0.13.5: multipletests([0.01, 0.04, 0.03, 0.005, 0.5], method='holm')[1]
    expect(holmAdjust([0.01, 0.04, 0.03, 0.005, 0.5])).toEqual([0.04, 0.09, 0.09, 0.025, 0.5].map((x) => expect.closeTo(x, 12) as unknown as number));
  });

  test.prop([fc.array(fc.oneof(fc.double({ min: 0, max: 1, noNaN: true }), fc.constant(Number.NaN)), { maxLength: 30 })])(
    'never lowers a p-value, stays within [0, 1], keeps the order of the raw p-values, and leaves NaN out',
    (ps) => {
      const adjusted = holmAdjust(ps);
      ps.forEach((p, i) => {
        if (Number.isNaN(p)) expect(adjusted[i]).toBeNaN();
        else {
          expect(adjusted[i]!).toBeGreaterThanOrEqual(p);
          expect(adjusted[i]!).toBeLessThanOrEqual(1);
        }
      });
      ps.forEach((p, i) =>
        ps.forEach((q, j) => {
          if (!Number.isNaN(p) && !Number.isNaN(q) && p < q) expect(adjusted[i]!).toBeLessThanOrEqual(adjusted[j]!);
        }),
      );
    },
  );
});
