import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { computeAuroc } from './auroc.js';
import { delongAuroc, delongComponents, delongPaired } from './delong.js';

describe('DeLong variance of the AUROC', () => {
  it('matches a hand-computed case with a tie (DeLong et al. 1988, eqs. 2–5)', () => {
    // Positives X = 0.9, 0.6, 0.4; negatives Y = 0.6, 0.3. Kernel ψ(X, Y) = 1 if X > Y, 1/2 if equal, 0 if below.
    //   V10(X) = mean over Y of ψ: 0.9 → (1 + 1)/2 = 1; 0.6 → (0.5 + 1)/2 = 0.75; 0.4 → (0 + 1)/2 = 0.5
    //   V01(Y) = mean over X of ψ: 0.6 → (1 + 0.5 + 0)/3 = 0.5; 0.3 → (1 + 1 + 1)/3 = 1
    //   AUROC = mean V10 = 0.75; S10 = var(1, 0.75, 0.5) = 0.0625; S01 = var(0.5, 1) = 0.125 (ddof 1)
    //   Var = S10/m + S01/n = 0.0625/3 + 0.125/2 = 1/12
    const scores = [0.9, 0.6, 0.4, 0.6, 0.3];
    const labels = [1, 1, 1, 0, 0];
    const c = delongComponents(scores, labels);
    expect(Array.from(c.v10)).toEqual([1, 0.75, 0.5]);
    expect(Array.from(c.v01)).toEqual([0.5, 1]);
    const d = delongAuroc(scores, labels);
    expect(d.auroc).toBe(0.75);
    expect(d.variance).toBeCloseTo(1 / 12, 15);
    expect(d.ciLow).toBeCloseTo(0.75 - 1.959963984540054 * Math.sqrt(1 / 12), 12);
    expect(d.ciHigh).toBe(1); // clipped
  });

  it('a paired comparison of a model with itself has zero difference and zero SE', () => {
    const scores = [0.1, 0.4, 0.35, 0.8, 0.7, 0.2];
    const labels = [0, 0, 1, 1, 1, 0];
    const p = delongPaired(scores, scores, labels);
    expect(p.difference).toBe(0);
    expect(p.se).toBe(0);
    expect(p.pValue).toBe(1);
  });

  const dataset = fc
    .array(fc.tuple(fc.integer({ min: 0, max: 20 }), fc.integer({ min: 0, max: 20 }), fc.boolean()), { minLength: 4, maxLength: 60 })
    .filter((rows) => rows.filter((r) => r[2]).length >= 2 && rows.filter((r) => !r[2]).length >= 2);

  test.prop([dataset])('AUROC from the structural components equals Mann–Whitney; paired parts agree with unpaired', (rows) => {
    const a = rows.map((r) => r[0] / 20);
    const b = rows.map((r) => r[1] / 20);
    const y = rows.map((r) => (r[2] ? 1 : 0));
    const da = delongAuroc(a, y);
    expect(da.auroc).toBeCloseTo(computeAuroc(a, y), 12);
    const paired = delongPaired(a, b, y);
    expect(paired.aurocA).toBeCloseTo(da.auroc, 12);
    expect(paired.aurocB).toBeCloseTo(computeAuroc(b, y), 12);
    // The SE of a difference never exceeds the sum of the SEs (Cauchy–Schwarz).
    expect(paired.se).toBeLessThanOrEqual(da.se + delongAuroc(b, y).se + 1e-12);
  });
});
