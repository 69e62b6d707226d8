import { describe, expect, it } from 'vitest';
import { PlatformError } from '../errors.js';
import { evaluateCriteria, parseCriteria } from './acceptance-criteria.js';
import { evaluatePredictions } from './evaluate-predictions.js';
import { SeededRandom } from './random.js';

describe('parseCriteria', () => {
  it('reads the forms of the issue, one per line, with comments', () => {
    const c = parseCriteria(
      '# written before the test\nauroc.ci_low >= 0.90\nsensitivity.ci_low >= 0.90 in every site with n >= 50\nece <= 0.05  # 15 bins\nrefer_rate <= 0.15\nauroc noninferior to reference margin 0.02\n',
    );
    expect(c).toEqual([
      { kind: 'threshold', line: 2, text: 'auroc.ci_low >= 0.90', metric: 'auroc', field: 'ci_low', op: '>=', bound: 0.9 },
      {
        kind: 'threshold',
        line: 3,
        text: 'sensitivity.ci_low >= 0.90 in every site with n >= 50',
        metric: 'sensitivity',
        field: 'ci_low',
        op: '>=',
        bound: 0.9,
        perStratum: { column: 'site', minN: 50 },
      },
      { kind: 'threshold', line: 4, text: 'ece <= 0.05', metric: 'ece', field: 'value', op: '<=', bound: 0.05 },
      { kind: 'threshold', line: 5, text: 'refer_rate <= 0.15', metric: 'refer_rate', field: 'value', op: '<=', bound: 0.15 },
      { kind: 'noninferiority', line: 6, text: 'auroc noninferior to reference margin 0.02', metric: 'auroc', margin: 0.02 },
    ]);
  });
  it('reads a JSON array, or { criteria: [...] }', () => {
    expect(parseCriteria('["ece <= 0.05"]')).toHaveLength(1);
    expect(parseCriteria('{"criteria": ["ece <= 0.05", "auroc > 0.5"]}')).toHaveLength(2);
  });
  it.each([
    ['auroc >= 0.9\nbrier < zero', /line 2 \("brier < zero"\): expected/],
    ['foo >= 1', /line 1 \("foo >= 1"\): unknown metric "foo"/],
    ['ppv >= 0.5 in every site with n >= 10', /unknown metric "ppv" per stratum/],
    ['brier noninferior to reference margin 0.1', /non-inferiority is defined for auroc only/],
    ['# nothing\n', /holds no criterion/],
    ['[1, 2]', /array of strings/],
  ])('refuses %j with CRITERIA_INVALID naming the line', (text, message) => {
    try {
      parseCriteria(text);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(PlatformError);
      expect((e as PlatformError).code).toBe('CRITERIA_INVALID');
      expect((e as PlatformError).message).toMatch(message);
    }
  });
});

describe('evaluateCriteria', () => {
  const random = new SeededRandom(3);
  const n = 400;
  const label = Uint8Array.from({ length: n }, () => (random.nextFloat() < 0.4 ? 1 : 0));
  const probability = Float64Array.from(label, (y) => Math.min(0.999, Math.max(0.001, 0.5 + (y === 1 ? 0.25 : -0.25) + (random.nextFloat() - 0.5) * 0.7)));
  const site = Array.from({ length: n }, (_, i) => (i < 20 ? 'tiny' : i % 2 === 0 ? 'A' : 'B'));
  const metrics = evaluatePredictions(
    { probability, label, strata: new Map([['site', site]]) },
    {
      threshold: 0.5,
      abstainBand: { low: 0.45, high: 0.55 },
      onGateWarn: 'refer',
      prevalence: 0.1,
      eceBins: 10,
      replicates: 100,
      seed: 1,
      minStratumCases: 30,
      minStratumClassCases: 5,
    },
  );

  it('applies per-stratum criteria only to strata with enough cases, and says so', () => {
    const [r] = evaluateCriteria(parseCriteria('sensitivity.ci_low >= 0.5 in every site with n >= 50'), { metrics });
    expect(r?.passed).toBe(true);
    expect(r?.measurements.map((m) => [m.scope, m.passed, m.note])).toEqual([
      ['site=A', true, undefined],
      ['site=B', true, undefined],
      ['site=tiny', true, 'excluded: 20 cases < 50'],
    ]);
    expect(r?.sentence).toMatch(/In every site with at least 50 cases \(2 of 3\)/);
  });
  it('never passes what was not measured: a missing column, a missing reference, or too small a stratum', () => {
    const results = evaluateCriteria(
      parseCriteria(
        'auroc >= 0.5 in every scanner with n >= 10\nauroc noninferior to reference margin 0.1\nauroc >= 0.5 in every site with n >= 10\ngate_reject_rate <= 0.1',
      ),
      { metrics },
    );
    expect(results.map((r) => r.passed)).toEqual([false, false, false, false]);
    expect(results[2]?.measurements.find((m) => m.scope === 'site=tiny')?.note).toMatch(/too small/);
  });
});
