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
        perStratum: { column: 'site', count: 'n', minN: 50 },
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
  it('never passes what was not measured, and calls it not evaluable: a missing column, reference or measurement', () => {
    const results = evaluateCriteria(
      parseCriteria(
        'auroc >= 0.5 in every scanner with n >= 10\nauroc noninferior to reference margin 0.1\ngate_reject_rate <= 0.1\nauroc >= 0.5 in every site with n >= 10',
      ),
      { metrics },
    );
    expect(results.map((r) => [r.status, r.passed])).toEqual([
      ['not_evaluable', false],
      ['not_evaluable', false],
      ['not_evaluable', false],
      ['passed', true],
    ]);
    expect(results.map((r) => r.sentence.slice(0, 15))).toEqual(['Not evaluable: ', 'Not evaluable: ', 'Not evaluable: ', 'In every site w']);
    // A small stratum is measured (with a wide interval and a warning), not refused.
    expect(results[3]?.measurements.find((m) => m.scope === 'site=tiny')?.estimate?.value).toBeGreaterThan(0.5);
    expect(metrics.strata.find((s) => s.level === 'tiny')?.warning).toMatch(/small stratum: 20 cases/);
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
    expect(results[4]?.sentence).toMatch(/Not evaluable: non-inferiority by paired bootstrap \(400 replicates.*it was not run/);
    expect(results[4]?.status).toBe('not_evaluable');
  });
});

describe('criteria on strata a metric is not defined in (a 5,018-case site without a single case with the finding)', () => {
  // Site C holds only cases without the finding: specificity, refer rate, Brier score and ECE are
  // defined there; sensitivity and AUROC are not.
  const random = new SeededRandom(17);
  const rows: { p: number; y: number; site: string | null }[] = [];
  for (let i = 0; i < 600; i++) {
    const y = random.nextFloat() < 0.4 ? 1 : 0;
    rows.push({ p: Math.min(0.999, Math.max(0.001, (y === 1 ? 0.72 : 0.28) + (random.nextFloat() - 0.5) * 0.6)), y, site: i % 2 === 0 ? 'A' : 'B' });
  }
  for (let i = 0; i < 5018; i++) rows.push({ p: Math.min(0.999, Math.max(0.001, 0.2 + (random.nextFloat() - 0.5) * 0.3)), y: 0, site: 'C' });
  for (let i = 0; i < 40; i++) rows.push({ p: random.nextFloat(), y: i % 2, site: null });
  const metrics = evaluatePredictions(
    {
      probability: Float64Array.from(rows, (r) => r.p),
      label: Uint8Array.from(rows, (r) => r.y),
      strata: new Map([['site', rows.map((r) => r.site)]]),
    },
    {
      threshold: 0.5,
      abstainBand: { low: 0.45, high: 0.55 },
      onGateWarn: 'decide',
      prevalence: 0.3,
      eceBins: 10,
      replicates: 200,
      seed: 3,
      minStratumCases: 30,
      minStratumClassCases: 5,
    },
  );
  const siteC = metrics.strata.find((s) => s.level === 'C')!;

  it('computes every metric the labels allow in that stratum, and says which are not defined and why', () => {
    expect(siteC).toMatchObject({ n: 5018, positives: 0, negatives: 5018 });
    expect(siteC.specificity.notDefined).toBeUndefined();
    expect(siteC.specificity.value).toBeGreaterThan(0.99);
    expect(siteC.specificity.ciLow).toBeLessThan(siteC.specificity.value);
    expect(Number.isFinite(siteC.referRate.value)).toBe(true);
    expect(Number.isFinite(siteC.brier.value)).toBe(true);
    expect(Number.isFinite(siteC.ece.value)).toBe(true);
    expect(siteC.sensitivity.notDefined).toMatch(/no case with the finding/);
    expect(siteC.auroc.notDefined).toMatch(/no case with the finding/);
    expect(siteC.sensitivity.value).toBeNaN();
    expect(siteC.differenceFromOverall.sensitivity.notDefined).toMatch(/no case with the finding/);
    expect(siteC.differenceFromOverall.specificity.notDefined).toBeUndefined();
    expect(siteC.warning).toBeUndefined();
  });

  it('passes or fails specificity and refer-rate criteria there on the numbers, and calls sensitivity there not evaluable', () => {
    const results = evaluateCriteria(
      parseCriteria(
        [
          'specificity.ci_low >= 0.9 in every site with n >= 50',
          'refer_rate <= 0.25 in every site with n >= 50',
          'sensitivity >= 0.5 in every site with n >= 50',
          'sensitivity >= 0.5 in every site with positives >= 50',
          'sensitivity >= 0.99 in every site with n >= 50',
        ].join('\n'),
      ),
      { metrics },
    );
    expect(results.map((r) => r.status)).toEqual(['failed', 'passed', 'not_evaluable', 'passed', 'failed']);
    // Site C passes the specificity criterion; A and B (noisier) do not reach 0.9.
    expect(results[0]?.measurements.find((m) => m.scope === 'site=C')?.status).toBe('passed');
    expect(results[2]?.measurements.find((m) => m.scope === 'site=C')).toMatchObject({ status: 'not_evaluable', passed: false });
    expect(results[2]?.sentence).toMatch(/not evaluable in site=C \(not defined: no case with the finding \(0 positives\)\)/);
    // Counting cases with the finding excludes site C by the criterion's own words, fixed in advance.
    expect(results[3]?.measurements.find((m) => m.scope === 'site=C')).toMatchObject({ status: 'excluded', note: 'excluded: 0 cases with the finding < 50' });
    // A measured failure wins over "not evaluable".
    expect(results[4]?.sentence).toMatch(/NOT met in site=A, site=B; not evaluable in site=C/);
  });

  it('reports cases without a value as the stratum "(missing)", never as a stratum named ""', () => {
    expect(metrics.strata.map((s) => s.level)).toEqual(['A', 'B', 'C', null]);
    const missing = metrics.strata.find((s) => s.level === null)!;
    expect(missing.n).toBe(40);
    const [r] = evaluateCriteria(parseCriteria('brier <= 1 in every site with n >= 10'), { metrics });
    expect(r?.measurements.map((m) => m.scope)).toEqual(['site=A', 'site=B', 'site=C', 'site=(missing)']);
  });
});

describe("criteria against the abstain band's target", () => {
  const random = new SeededRandom(5);
  const n = 2000;
  const label = Uint8Array.from({ length: n }, () => (random.nextFloat() < 0.3 ? 1 : 0));
  const probability = Float64Array.from(label, (y) => Math.min(0.999, Math.max(0.001, (y === 1 ? 0.7 : 0.3) + (random.nextFloat() - 0.5) * 0.8)));
  const options = {
    threshold: 0.5,
    abstainBand: { low: 0.35, high: 0.65 },
    onGateWarn: 'decide' as const,
    prevalence: 0.3,
    eceBins: 10,
    replicates: 200,
    seed: 1,
    minStratumCases: 30,
    minStratumClassCases: 5,
  };
  const cases = { probability, label, strata: new Map<string, (string | null)[]>([['site', Array.from({ length: n }, (_, i) => (i % 2 === 0 ? 'A' : 'B'))]]) };

  it('compares achieved rates with the target, and is not evaluable when the bundle states none', () => {
    const text = 'decided_wrong_rate.ci_low <= target\nmissed_finding_rate <= target\ndecided_wrong_rate <= target in every site with n >= 10';
    const withTarget = evaluatePredictions(cases, { ...options, abstentionTarget: { coverage: 0.9, method: 'split conformal' } });
    const a = evaluateCriteria(parseCriteria(text), { metrics: withTarget });
    const achieved = withTarget.overall.abstention.decidedWrong;
    expect(a[0]?.status).toBe(achieved.ciLow <= 0.1 ? 'passed' : 'failed');
    expect(a[0]?.sentence).toMatch(/must be at most the abstain band's target \(0\.100\)/);
    // A marginal target bounds all cases, not the cases with the finding.
    expect(a[1]?.status).toBe('not_evaluable');
    expect(withTarget.overall.abstention.checks.map((c) => [c.rate, c.target])).toEqual([['decided_wrong_rate', 0.09999999999999998]]);
    const none = evaluateCriteria(parseCriteria(text), { metrics: evaluatePredictions(cases, options) });
    expect(none.map((r) => r.status)).toEqual(['not_evaluable', 'not_evaluable', 'not_evaluable']);
    expect(none[0]?.sentence).toMatch(/states no such target/);
  });

  it('reads class-conditional targets per label, and implies the larger for all cases', () => {
    const metrics = evaluatePredictions(cases, {
      ...options,
      abstentionTarget: { classCoverage: { positive: 0.98, negative: 0.9 }, mondrianColumn: 'site', method: 'x' },
    });
    const checks = metrics.overall.abstention.checks;
    expect(checks.map((c) => c.rate).sort()).toEqual(['decided_wrong_rate', 'false_alarm_rate', 'missed_finding_rate']);
    expect(checks.find((c) => c.rate === 'missed_finding_rate')?.target).toBeCloseTo(0.02, 12);
    expect(checks.find((c) => c.rate === 'decided_wrong_rate')?.target).toBeCloseTo(0.1, 12);
    expect(metrics.strata.every((s) => s.abstention.checks.every((c) => c.guaranteed))).toBe(true);
    // Missed findings, counted by hand: decided negative (below the band) among cases with the finding.
    let missed = 0;
    let pos = 0;
    for (let i = 0; i < n; i++) {
      if (label[i] === 1) {
        pos++;
        if (probability[i]! < 0.35) missed++;
      }
    }
    expect(metrics.overall.abstention.missedFinding.value).toBe(missed / pos);
    expect(parseCriteria('false_alarm_rate.ci_high <= target in every site with negatives >= 100')).toHaveLength(1);
    expect(() => parseCriteria('sensitivity >= target')).toThrow(/"target" is a bound for decided_wrong_rate, missed_finding_rate, false_alarm_rate only/);
  });
});
