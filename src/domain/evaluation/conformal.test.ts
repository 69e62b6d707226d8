import { describe, expect, it } from 'vitest';
import { sigmoid } from '../calibration/calibrate.js';
import { classConditionalConformalBand, isInBand, mondrianConformalBands, splitConformalBand } from './conformal.js';
import { SeededRandom } from './random.js';

function normal(random: SeededRandom): number {
  // Box–Muller.
  const u = 1 - random.nextFloat();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random.nextFloat());
}

/** A population where stratum "hard" is noisier than "easy", so a pooled band under-covers it. */
function draw(random: SeededRandom, n: number): { p: number[]; y: number[]; s: string[] } {
  const p: number[] = [];
  const y: number[] = [];
  const s: string[] = [];
  for (let i = 0; i < n; i++) {
    const hard = random.nextFloat() < 0.3;
    const label = random.nextFloat() < 0.4 ? 1 : 0;
    const z = (label === 1 ? 1.5 : -1.5) + (hard ? 2.5 : 1) * normal(random);
    p.push(sigmoid(z));
    y.push(label);
    s.push(hard ? 'hard' : 'easy');
  }
  return { p, y, s };
}

const covered = (p: number, y: number, band: { low: number; high: number }, t: number): boolean => isInBand(p, band) || (p >= t ? 1 : 0) === y;

describe('split conformal abstain band (simulation)', () => {
  const alpha = 0.1;
  const threshold = 0.3;
  const trials = 300;
  const nCal = 300;
  const nTest = 500;

  it('covers 1 − α on average over many random splits, within binomial error (and not much more)', () => {
    const random = new SeededRandom(20231124);
    let hits = 0;
    for (let t = 0; t < trials; t++) {
      const cal = draw(random, nCal);
      const band = splitConformalBand(cal.p, cal.y, threshold, alpha);
      const test = draw(random, nTest);
      for (let i = 0; i < nTest; i++) if (covered(test.p[i]!, test.y[i]!, band, threshold)) hits++;
    }
    const coverage = hits / (trials * nTest);
    // Theory: 1 − α ≤ E[coverage] ≤ 1 − α + 1/(n + 1). Per-trial coverage varies with the calibration
    // draw (Beta, variance ≈ α(1 − α)/(n + 2)) and the test draw (binomial); 4 SE of the mean of trials.
    const se = Math.sqrt((alpha * (1 - alpha)) / (nCal + 2) / trials + (alpha * (1 - alpha)) / (trials * nTest));
    expect(coverage).toBeGreaterThan(1 - alpha - 4 * se);
    expect(coverage).toBeLessThan(1 - alpha + 1 / (nCal + 1) + 4 * se);
  });

  it('the Mondrian variant covers 1 − α within each stratum; the pooled band does not in the hard one', () => {
    const random = new SeededRandom(7);
    const hits = { pooled: { easy: 0, hard: 0 }, mondrian: { easy: 0, hard: 0 } };
    const counts = { easy: 0, hard: 0 };
    for (let t = 0; t < 150; t++) {
      const cal = draw(random, 600);
      const pooled = splitConformalBand(cal.p, cal.y, threshold, alpha);
      const bands = mondrianConformalBands(cal.p, cal.y, cal.s, threshold, alpha);
      const test = draw(random, nTest);
      for (let i = 0; i < nTest; i++) {
        const s = test.s[i] as 'easy' | 'hard';
        counts[s]++;
        if (covered(test.p[i]!, test.y[i]!, pooled, threshold)) hits.pooled[s]++;
        if (covered(test.p[i]!, test.y[i]!, bands.get(s)!, threshold)) hits.mondrian[s]++;
      }
    }
    for (const s of ['easy', 'hard'] as const) expect(hits.mondrian[s] / counts[s]).toBeGreaterThan(1 - alpha - 0.01);
    expect(hits.pooled.hard / counts.hard).toBeLessThan(1 - alpha - 0.01);
  });

  it('says when the calibration set is too small for the guarantee', () => {
    const band = splitConformalBand([0.2, 0.8], [0, 1], 0.5, 0.1);
    expect(band.attainable).toBe(false);
    expect([band.low, band.high]).toEqual([0, 1]);
  });

  it('class-conditional bands bound missed findings and false alarms each at its own rate; the marginal band does not', () => {
    // Positives are rarer and noisier than negatives here, so a marginal band lets missed findings
    // run far above α among cases with the finding while meeting α over all cases.
    const random = new SeededRandom(11);
    const drawSkewed = (n: number) => {
      const p: number[] = [];
      const y: number[] = [];
      for (let i = 0; i < n; i++) {
        const label = random.nextFloat() < 0.2 ? 1 : 0;
        p.push(sigmoid(label === 1 ? 1 + 2.5 * normal(random) : -2 + 0.8 * normal(random)));
        y.push(label);
      }
      return { p, y };
    };
    const alphaPositive = 0.05;
    const alphaNegative = 0.03;
    const t = 0.3;
    const counts = { positives: 0, negatives: 0 };
    const missed = { classConditional: 0, marginal: 0 };
    const falseAlarms = { classConditional: 0 };
    for (let trial = 0; trial < 200; trial++) {
      const cal = drawSkewed(1000);
      const band = classConditionalConformalBand(cal.p, cal.y, t, alphaPositive, alphaNegative);
      expect(band.low).toBeLessThanOrEqual(t);
      expect(band.high).toBeGreaterThanOrEqual(t);
      const marginal = splitConformalBand(cal.p, cal.y, t, alphaPositive);
      const test = drawSkewed(500);
      for (let i = 0; i < test.p.length; i++) {
        const p = test.p[i]!;
        if (test.y[i] === 1) {
          counts.positives++;
          if (!isInBand(p, band) && p < t) missed.classConditional++;
          if (!isInBand(p, marginal) && p < t) missed.marginal++;
        } else {
          counts.negatives++;
          if (!isInBand(p, band) && p >= t) falseAlarms.classConditional++;
        }
      }
    }
    // Each bound holds (within 4 standard errors of the pooled trials), and is used (not far below).
    const se = (a: number, n: number) => 4 * Math.sqrt((a * (1 - a)) / n);
    expect(missed.classConditional / counts.positives).toBeLessThan(alphaPositive + se(alphaPositive, counts.positives));
    expect(missed.classConditional / counts.positives).toBeGreaterThan(alphaPositive - 0.02);
    expect(falseAlarms.classConditional / counts.negatives).toBeLessThan(alphaNegative + se(alphaNegative, counts.negatives));
    expect(falseAlarms.classConditional / counts.negatives).toBeGreaterThan(alphaNegative - 0.01);
    expect(missed.marginal / counts.positives).toBeGreaterThan(2 * alphaPositive);
  });

  it('opens one side fully when a label has too few calibration cases for its α', () => {
    const band = classConditionalConformalBand([0.1, 0.2, 0.3, 0.9], [0, 0, 0, 1], 0.5, 0.1, 0.9);
    expect(band.positive.attainable).toBe(false);
    expect(band.low).toBe(0);
    expect(band.negative.attainable).toBe(true);
  });
});
