import { fc, test } from '@fast-check/vitest';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SeededRandom } from '../evaluation/random.js';
import {
  createOnlineMmdState,
  designOnlineMmd,
  medianHeuristicSigma,
  mmd2Unbiased,
  mmdPermutationTest,
  onlineMmdReferenceRows,
  onlineMmdWindowRows,
  updateOnlineMmd,
  upperQuantile,
  type OnlineMmdState,
} from './embedding-drift.js';

interface FixtureCase {
  name: string;
  reference: number[][];
  window: number[][];
  permutations: number;
  seed: number;
  sigma: number;
  mmd2: number;
  pValue: number;
}
// Written by scripts/make-embedding-drift-fixtures.py (numpy; permutations by a port of SeededRandom).
const fx = JSON.parse(readFileSync(new URL('../../../test/fixtures/monitoring/embedding-drift.json', import.meta.url), 'utf8')) as { cases: FixtureCase[] };

function gaussian(r: SeededRandom): number {
  const u = 1 - r.nextFloat();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r.nextFloat());
}
/** Principal-component-like summaries: k = 8 independent normals of decreasing spread, the first shifted by `shift` of its SD. */
const SCALES = [2, 1.7, 1.5, 1.2, 1, 0.8, 0.6, 0.5];
const summary = (r: SeededRandom, shift = 0): Float64Array => Float64Array.from(SCALES, (s, j) => s * (gaussian(r) + (j === 0 ? shift : 0)));
const sample = (r: SeededRandom, n: number, shift = 0): Float64Array[] => Array.from({ length: n }, () => summary(r, shift));

describe('MMD against numpy', () => {
  it.each(fx.cases.map((c) => [c.name, c] as const))('%s: bandwidth, unbiased MMD² and permutation p-value (to 1e-9)', (_name, c) => {
    expect(Math.abs(medianHeuristicSigma(c.reference) - c.sigma)).toBeLessThan(1e-9);
    expect(Math.abs(mmd2Unbiased(c.reference, c.window) - c.mmd2)).toBeLessThan(1e-9);
    const test = mmdPermutationTest(c.reference, c.window, { permutations: c.permutations, seed: c.seed });
    expect(Math.abs(test.mmd2 - c.mmd2)).toBeLessThan(1e-9);
    // The same permutations (xoshiro128** ported), so the same count: the p-value is equal, not merely close.
    expect(Math.abs(test.pValue - c.pValue)).toBeLessThan(1e-9);
  });

  it('tells the shifted window from the in-distribution one', () => {
    const [same, shifted] = fx.cases;
    expect(same!.pValue).toBeGreaterThan(0.05);
    expect(shifted!.pValue).toBeLessThan(0.01);
  });

  it('refuses samples it cannot estimate from', () => {
    expect(() => medianHeuristicSigma([[1, 2]])).toThrow(RangeError);
    expect(() => medianHeuristicSigma([[1], [1], [1]])).toThrow(RangeError);
    expect(() => mmd2Unbiased([[0], [1]], [[0]], 1)).toThrow(RangeError);
    expect(() =>
      mmd2Unbiased(
        [[0], [1]],
        [
          [0, 1],
          [1, 0],
        ],
        1,
      ),
    ).toThrow(RangeError);
  });
});

describe('unbiased MMD² under the null', () => {
  test.prop([fc.integer({ min: 1, max: 2 ** 31 - 1 })], { numRuns: 8 })(
    'averages to 0 (within 4 standard errors) over repeated same-distribution samples',
    (seed) => {
      const r = new SeededRandom(seed);
      const sigma = 2; // fixed: the estimate is unbiased for a kernel chosen without the samples
      const values = Array.from({ length: 150 }, () => mmd2Unbiased(sample(r, 25), sample(r, 12), sigma));
      const mean = values.reduce((s, v) => s + v, 0) / values.length;
      const sd = Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / (values.length - 1));
      expect(Math.abs(mean)).toBeLessThan((4 * sd) / Math.sqrt(values.length));
      // and it is not the biased estimate: some values fall below 0
      expect(values.some((v) => v < 0)).toBe(true);
    },
  );
});

describe('upperQuantile', () => {
  it('reads the empirical quantile when enough values lie above it, and extrapolates an exponential tail otherwise', () => {
    const values = Float64Array.from({ length: 1001 }, (_, i) => i / 1000);
    expect(upperQuantile(values, 0.1)).toEqual({ value: 0.9, extrapolated: false });
    // Exponential(1) samples: the 1 − 1e-5 quantile is ln(1e5) = 11.51; 20,000 values resolve only 1 − 5e-4.
    const r = new SeededRandom(3);
    const exp = Float64Array.from({ length: 20_000 }, () => -Math.log(1 - r.nextFloat()));
    const q = upperQuantile(exp, 1e-5);
    expect(q.extrapolated).toBe(true);
    expect(Math.abs(q.value - Math.log(1e5))).toBeLessThan(0.5);
  });
});

/** Mean run length to the first alarm of `runs` in-control runs per reference (each reference freshly drawn). */
function meanRunLength(design: { ert: number; bootstraps: number; windowSize: number; referenceRows: number }, references: number, runs: number): number {
  let total = 0;
  let count = 0;
  for (let rep = 0; rep < references; rep++) {
    const plan = designOnlineMmd(sample(new SeededRandom(1000 + rep), design.referenceRows), { ...design, seed: rep });
    const state = createOnlineMmdState(plan);
    const stream = new SeededRandom(5000 + rep);
    for (let k = 0; k < runs; k++) {
      let n = 0;
      do n++;
      while (!updateOnlineMmd(plan, state, summary(stream)).alarm);
      total += n;
      count++;
    }
  }
  return total / count;
}

describe('the online MMD detector (Cobb et al. 2022, as alibi-detect’s MMDDriftOnline)', () => {
  const plan = designOnlineMmd(sample(new SeededRandom(1), 120), { windowSize: 8, ert: 500, bootstraps: 3000, seed: 4 });

  it('is a split of the reference, deterministic given its seed, with one threshold per step up to W', () => {
    expect(plan.thresholds).toHaveLength(8);
    expect(plan.reference.length / 8).toBe(120 - 15);
    expect(plan.initialWindow).toHaveLength(8 * 8);
    expect(designOnlineMmd(sample(new SeededRandom(1), 120), { windowSize: 8, ert: 500, bootstraps: 3000, seed: 4 })).toEqual(plan);
    expect(() => designOnlineMmd(sample(new SeededRandom(1), 16), { windowSize: 8, ert: 500, bootstraps: 10, seed: 4 })).toThrow(RangeError);
  });

  test.prop([fc.integer({ min: 1, max: 2 ** 31 - 1 }), fc.double({ min: 0, max: 1.5, noNaN: true })], { numRuns: 20 })(
    'its statistic after every update is MMD²ᵤ of its comparison part and its window (to 1e-12), and a state read back from JSON goes on identically',
    (seed, shift) => {
      const r = new SeededRandom(seed);
      let state = createOnlineMmdState(plan);
      const refRows = onlineMmdReferenceRows(plan);
      for (let i = 0; i < 30; i++) {
        const step = updateOnlineMmd(plan, state, summary(r, i > 10 ? shift : 0));
        if (!step.alarm) expect(Math.abs(step.statistic - mmd2Unbiased(refRows, onlineMmdWindowRows(plan, state), plan.sigma))).toBeLessThan(1e-12);
        if (i === 15) state = JSON.parse(JSON.stringify(state)) as OnlineMmdState;
      }
      const a = structuredClone(state);
      const b = JSON.parse(JSON.stringify(state)) as OnlineMmdState;
      const x = summary(r, shift);
      expect(updateOnlineMmd(plan, b, x)).toEqual(updateOnlineMmd(plan, a, x));
      expect(b).toEqual(a);
    },
  );

  it('restarts after an alarm: the run length counts from the restart', () => {
    const state = createOnlineMmdState(plan);
    const r = new SeededRandom(9);
    let first: ReturnType<typeof updateOnlineMmd> | undefined;
    for (let i = 0; i < 500 && first === undefined; i++) {
      const step = updateOnlineMmd(plan, state, summary(r, 3));
      if (step.alarm) first = step;
    }
    if (first === undefined) throw new Error('no alarm on a 3-SD shift');
    expect(state).toMatchObject({ t: 0, runStart: first.index + 1, next: 0 });
    expect(state.window).toEqual(plan.initialWindow);
  });

  it('realises its ERT in control (ERT 200, W = 10, 300 reference rows, 4,000 bootstraps: mean run length of 1,000 runs over 10 references within ±20 %)', () => {
    // Measured 193 (the standard error of the mean is ≈ 3 %; the rest is the reference being a sample).
    const mean = meanRunLength({ ert: 200, bootstraps: 4000, windowSize: 10, referenceRows: 300 }, 10, 100);
    expect(mean).toBeGreaterThan(160);
    expect(mean).toBeLessThan(240);
  });

  it('errs long, not short, where the thresholds are extrapolated (ERT 2,000 from 2,000 bootstraps: mean run length between 0.8 and 3 × ERT)', () => {
    // Measured ≈ 4,100 with 2,000 bootstraps and ≈ 2,800 with 20,000 (≈ 2,440 read empirically from 40,000):
    // the exponential tail fitted above the top 100 values is heavier than the statistic's, so the alarm
    // rate falls below 1/ERT — fewer false alarms than budgeted, at some cost in delay.
    const mean = meanRunLength({ ert: 2000, bootstraps: 2000, windowSize: 10, referenceRows: 200 }, 4, 20);
    expect(mean).toBeGreaterThan(1600);
    expect(mean).toBeLessThan(6000);
  }, 60_000);

  it('detects a mean shift of 1 SD along the first component quickly (ERT 10,000, W = 20: median delay under 60 cases)', () => {
    const shifted = designOnlineMmd(sample(new SeededRandom(2), 400), { windowSize: 20, ert: 10_000, bootstraps: 10_000, seed: 5 });
    const r = new SeededRandom(77);
    const delays: number[] = [];
    for (let run = 0; run < 15; run++) {
      const state = createOnlineMmdState(shifted);
      let n = 0;
      do n++;
      while (!updateOnlineMmd(shifted, state, summary(r, 1)).alarm && n < 10_000);
      delays.push(n);
    }
    delays.sort((a, b) => a - b);
    expect(delays[7]).toBeLessThan(60);
  });
});
