import { describe, expect, it } from 'vitest';
import { SeededRandom } from '../evaluation/random.js';
import { buildReferenceDistribution, compareDatasetShift, SHIFT_FEATURES, type ShiftSample } from './dataset-shift.js';

const SOURCE = { dataset: 'synthetic', sha256: 'a'.repeat(64), declaration: 'none', computedAt: '2026-01-01T00:00:00.000Z', computedBy: 'test' };

/** A synthetic dataset: every variable normal around 0.5, contrast (std) shifted by `contrastShift`. */
function sample(seed: number, n: number, contrastShift = 0, under = 'policy-A'): ShiftSample {
  const random = new SeededRandom(seed);
  const normal = (): number => Math.sqrt(-2 * Math.log(1 - random.nextFloat())) * Math.cos(2 * Math.PI * random.nextFloat());
  const features = new Map<string, Float64Array>(
    SHIFT_FEATURES.map(([name]) => [
      name,
      Float64Array.from({ length: n }, () => (name === 'rows' ? 28 : 0.5 + 0.1 * normal() + (name === 'std' ? contrastShift : 0))),
    ]),
  );
  const probability = Float64Array.from({ length: n }, () => random.nextFloat());
  return {
    features,
    gate: { n, rejected: 0, warned: Math.round(n * 0.04) },
    outputs: { finding: 'pneumonia', computedUnder: under, probability, positive: Math.round(n * 0.7), referred: Math.round(n * 0.05) },
  };
}

describe('compareDatasetShift', () => {
  const reference = buildReferenceDistribution(sample(1, 600), SOURCE);

  it('finds no shift in a fresh sample of the same population, and names the variable that moved in a shifted one', () => {
    const same = compareDatasetShift(reference, sample(2, 500), { sameData: false });
    expect(same.status).toBe('compared');
    if (same.status !== 'compared') return;
    expect(same.shifted).toBe(false);
    expect(same.verdict).toMatch(/^No shift detected/);

    const shifted = compareDatasetShift(reference, sample(3, 500, 0.05), { sameData: false });
    if (shifted.status !== 'compared') throw new Error('not compared');
    expect(shifted.shifted).toBe(true);
    expect(shifted.rows.filter((r) => r.differs).map((r) => r.name)).toEqual(['std']);
    expect(shifted.verdict).toMatch(/^Differs from the reference in 1 of \d+ variables: contrast \(standard deviation\) \(higher in \d+ % of pairs/);
    const std = shifted.rows.find((r) => r.name === 'std')!;
    expect(std.superiority).toBeGreaterThan(0.55);
    expect(std.adjustedPValue!).toBeGreaterThanOrEqual(std.pValue);
  });

  it('does not compare outputs computed under another calibration or policy, and says why', () => {
    const c = compareDatasetShift(reference, sample(2, 500, 0, 'policy-B'), { sameData: false });
    if (c.status !== 'compared') throw new Error('not compared');
    expect(c.outputsNotCompared).toMatch(/calibration or decision policy/);
    expect(c.rows.some((r) => r.name === 'probability' || r.name === 'positiveRate')).toBe(false);
    expect(c.rows.some((r) => r.name === 'gateWarnRate')).toBe(true);
  });

  it('says so when the evaluated set is the reference data itself, and reports a constant variable as not tested', () => {
    const c = compareDatasetShift(reference, sample(1, 600), { sameData: true });
    if (c.status !== 'compared') throw new Error('not compared');
    expect(c.shifted).toBe(false);
    expect(c.verdict).toMatch(/is the data the reference was computed on/);
    const rows = c.rows.find((r) => r.name === 'rows')!;
    expect(rows.adjustedPValue).toBeNull();
    expect(rows.notTested).toMatch(/no variation/);
  });
});
