import { describe, expect, it } from 'vitest';
import { PlatformError } from '../errors.js';
import { evaluateCriteria, pairedBootstrapSettings, parseCriteria } from './acceptance-criteria.js';
import { delongPaired } from './delong.js';
import { evaluatePredictions } from './evaluate-predictions.js';
import { pairedBootstrapAurocDifference } from './paired-bootstrap.js';
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
      { kind: 'noninferiority', line: 6, text: 'auroc noninferior to reference margin 0.02', metric: 'auroc', margin: 0.02, method: 'delong' },
    ]);
  });
  it('reads the non-inferiority method: paired DeLong by default, or the paired bootstrap with its replicates and seed', () => {
    expect(
      parseCriteria(
        'auroc noninferior to reference margin 0.02 method delong\nauroc noninferior to reference margin 0.03 method paired-bootstrap\nauroc noninferior to reference margin 0.05 method paired-bootstrap replicates 5000 seed 7',
      ).map((c) => (c.kind === 'noninferiority' ? [c.margin, c.method, c.replicates, c.seed] : [])),
    ).toEqual([
      [0.02, 'delong', undefined, undefined],
      [0.03, 'paired-bootstrap', undefined, undefined],
      [0.05, 'paired-bootstrap', 5000, 7],
    ]);
    // The JSON object form reads as the line form, and the report shows that line.
    const [c] = parseCriteria(
      '{"criteria": [{"criterion": "auroc noninferior to reference margin 0.02", "method": "paired-bootstrap", "replicates": 2000, "seed": 11}]}',
    );
    expect(c).toEqual({
      kind: 'noninferiority',
      line: 1,
      text: 'auroc noninferior to reference margin 0.02 method paired-bootstrap replicates 2000 seed 11',
      metric: 'auroc',
      margin: 0.02,
      method: 'paired-bootstrap',
      replicates: 2000,
      seed: 11,
    });
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
    ['auroc noninferior to reference margin 0.02 method bayes', /unknown non-inferiority method "bayes"/],
    ['auroc noninferior to reference margin 0.02 method delong replicates 500', /apply to method paired-bootstrap only/],
    ['auroc noninferior to reference margin 0.02 method paired-bootstrap replicates 50', /replicates must be between 200 and 100000/],
    ['auroc noninferior to reference margin 0.02 method paired-bootstrap seed 4294967296', /seed must be an integer/],
    ['[{"criterion": "ece <= 0.05", "level": 0.9}]', /array of strings \(or of/],
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

  it('decides non-inferiority on the interval of the method the criterion names, and says which, with replicates and seed', () => {
    // A reference that ranks slightly better: the candidate's AUROC is a little lower.
    const reference = Float64Array.from(probability, (p, i) => p + (label[i] === 1 ? 0.05 : -0.05));
    const delong = delongPaired(probability, reference, label);
    const boot = (replicates: number, seed: number) => {
      const b = pairedBootstrapAurocDifference(probability, reference, label, { replicates, seed });
      return { replicates, seed, difference: { value: b.difference, ciLow: b.ciLow, ciHigh: b.ciHigh, method: 'paired bootstrap' } };
    };
    const criteria = parseCriteria(
      [
        'auroc noninferior to reference margin 0.1',
        'auroc noninferior to reference margin 0.1 method paired-bootstrap',
        'auroc noninferior to reference margin 0.1 method paired-bootstrap replicates 300 seed 9',
        'auroc noninferior to reference margin 0.0001 method paired-bootstrap replicates 300 seed 9',
        'auroc noninferior to reference margin 0.1 method paired-bootstrap replicates 400 seed 9',
      ].join('\n'),
    );
    // The workflow runs one bootstrap per distinct (replicates, seed), the evaluation's own by default (100, seed 1).
    expect(pairedBootstrapSettings(criteria, metrics.options)).toEqual([
      { replicates: 100, seed: 1 },
      { replicates: 300, seed: 9 },
      { replicates: 400, seed: 9 },
    ]);
    const results = evaluateCriteria(criteria, {
      metrics,
      comparison: {
        reference: 'ref 1.0',
        difference: { value: delong.difference, ciLow: delong.ciLow, ciHigh: delong.ciHigh, method: 'paired DeLong' },
        pairedBootstrap: [boot(100, 1), boot(300, 9)],
      },
    });
    expect(results.map((r) => r.passed)).toEqual([true, true, true, false, false]);
    expect(results[0]?.measurements[0]?.estimate?.ciLow).toBe(delong.ciLow);
    expect(results[0]?.sentence).toMatch(/by paired DeLong; non-inferiority with margin 0.1 requires the lower bound above −0.1: met/);
    expect(results[1]?.sentence).toMatch(
      /by paired bootstrap \(100 replicates of the cases, resampled within each label and shared by both models, seed 1; percentile interval\)/,
    );
    expect(results[2]?.measurements[0]?.estimate?.ciLow).toBe(boot(300, 9).difference.ciLow);
    expect(results[2]?.measurements[0]?.estimate?.ciLow).toBeLessThan(0);
    expect(results[3]?.sentence).toMatch(/NOT met/);
    expect(results[4]?.sentence).toMatch(/Not evaluated: non-inferiority by paired bootstrap \(400 replicates.*it was not run/);
  });
});
