import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { SeededRandom } from '../evaluation/random.js';
import {
  calibrateLatticeThreshold,
  calibrateThreshold,
  cusumArl,
  latticeIncrements,
  cusumPath,
  cusumStep,
  incrementDistribution,
  siegmundArl,
} from './cusum.js';
import { buildNormalScorer, normalScore } from './normal-score.js';

const increments = fc.array(fc.double({ min: -5, max: 5, noNaN: true }), { minLength: 1, maxLength: 200 });

describe('CUSUM recursion', () => {
  test.prop([increments, fc.double({ min: 0.1, max: 20, noNaN: true })])('is never negative and stays below h after a restart', (xs, h) => {
    const { path, alarms } = cusumPath(xs, h);
    for (const s of path) expect(s).toBeGreaterThanOrEqual(0);
    // Every value at or above h is an alarm, and the next step starts again from 0.
    path.forEach((s, t) => expect(s >= h).toBe(alarms.includes(t)));
    for (const t of alarms) if (t + 1 < xs.length) expect(path[t + 1]).toBe(cusumStep(0, xs[t + 1]!));
  });

  test.prop([increments, fc.double({ min: 0, max: 2, noNaN: true })])(
    'is monotone in the shift: adding c ≥ 0 to every increment never lowers the path',
    (xs, c) => {
      const h = Number.POSITIVE_INFINITY;
      const base = cusumPath(xs, h).path;
      const shifted = cusumPath(
        xs.map((x) => x + c),
        h,
      ).path;
      base.forEach((s, t) => expect(shifted[t]!).toBeGreaterThanOrEqual(s - 1e-12));
    },
  );

  test.prop([fc.array(fc.double({ min: -3, max: -0.01, noNaN: true }), { minLength: 1, maxLength: 50 })])(
    'stays at 0 while every increment is negative',
    (xs) => {
      expect(Array.from(cusumPath(xs, 1).path).every((s) => s === 0)).toBe(true);
    },
  );
});

describe('Markov-chain ARL and calibration', () => {
  // Standard-normal increments minus k, as a fine discrete distribution (5,001 atoms, weights ∝ density).
  const grid = Array.from({ length: 5001 }, (_, i) => -6 + (12 * i) / 5000);
  const weights = grid.map((x) => Math.exp(-(x * x) / 2));

  it("agrees with Siegmund's approximation for normal increments (within 3 %)", () => {
    for (const [k, h] of [
      [0.5, 4],
      [0.5, 8],
      [0.25, 10],
    ] as const) {
      const arl = cusumArl(
        incrementDistribution(
          grid.map((x) => x - k),
          weights,
        ),
        h,
        300,
      );
      expect(Math.abs(arl / siegmundArl(h, -k) - 1)).toBeLessThan(0.03);
    }
  });

  test.prop([fc.double({ min: 0.3, max: 6, noNaN: true }), fc.double({ min: 0.01, max: 3, noNaN: true })])('grows with h', (h, dh) => {
    const d = incrementDistribution(
      grid.map((x) => x - 0.5),
      weights,
    );
    expect(cusumArl(d, h + dh, 100)).toBeGreaterThanOrEqual(cusumArl(d, h, 100) * (1 - 1e-9));
  });

  it('calibrates h to the target ARL, and simulated run lengths on bootstrap resamples of the reference match it', () => {
    // A skewed reference (lognormal), standardized by normal scores, watched upwards with k = 0.5.
    const random = new SeededRandom(7);
    const gauss = (): number => Math.sqrt(-2 * Math.log(1 - random.nextFloat())) * Math.cos(2 * Math.PI * random.nextFloat());
    const reference = Array.from({ length: 400 }, () => Math.exp(gauss()));
    const scorer = buildNormalScorer(reference);
    const z = reference.map((v) => normalScore(scorer, v));
    const target = 300;
    const { h, arl } = calibrateThreshold(incrementDistribution(z.map((v) => v - 0.5)), target);
    expect(arl).toBeGreaterThanOrEqual(target);
    expect(arl).toBeLessThan(target * 1.01);
    // 4,000 run lengths, each case a draw (with replacement) from the reference.
    let total = 0;
    const runs = 4000;
    for (let r = 0; r < runs; r++) {
      let s = 0;
      let t = 0;
      do {
        s = cusumStep(s, z[random.nextInt(z.length)]! - 0.5);
        t++;
      } while (s < h);
      total += t;
    }
    // The run length is roughly geometric (SD ≈ ARL), so the mean of 4,000 has a standard error of ≈ 1.6 %.
    expect(Math.abs(total / runs / arl - 1)).toBeLessThan(0.06);
  });

  it('calibrates a lattice Bernoulli CUSUM exactly: simulated run lengths match its ARL', () => {
    const random = new SeededRandom(3);
    const p = 0.05;
    const lattice = latticeIncrements(Math.log(2), Math.log(0.95 / 0.975));
    const { states, arl } = calibrateLatticeThreshold(lattice, p, 400);
    expect(arl).toBeGreaterThanOrEqual(400);
    let total = 0;
    const runs = 4000;
    for (let r = 0; r < runs; r++) {
      let s = 0;
      let t = 0;
      do {
        s = random.nextFloat() < p ? s + lattice.up : Math.max(0, s - lattice.down);
        t++;
      } while (s < states);
      total += t;
    }
    expect(Math.abs(total / runs / arl - 1)).toBeLessThan(0.06);
  });
});
