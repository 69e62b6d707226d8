import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { testHomogeneity } from '../../src/domain/drift/binned-shift-test.js';
import { chiSquareSurvival } from '../../src/domain/drift/chi-square.js';
import { SeededRandom } from '../../src/domain/evaluation/random.js';

const PYTHON = '/usr/bin/python3';
const hasScipy =
  existsSync(PYTHON) &&
  (() => {
    try {
      execFileSync(PYTHON, ['-c', 'import scipy.stats'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  })();

/** Runs a Python snippet that reads JSON on stdin and prints JSON. */
function python(script: string, input: unknown): unknown {
  return JSON.parse(execFileSync(PYTHON, ['-c', script], { input: JSON.stringify(input), encoding: 'utf8' })) as unknown;
}

describe.skipIf(!hasScipy)('the shift test against scipy (skipped: /usr/bin/python3 with scipy is not installed)', () => {
  it('chiSquareSurvival equals scipy.stats.chi2.sf (and logsf) over a wide range', () => {
    const cases: [number, number][] = [];
    for (const df of [1, 2, 3, 4, 7, 19, 50, 200]) for (const x of [0.001, 0.5, 1, 3, 10, 19, 30, 60, 150, 400, 1500]) cases.push([x, df]);
    const expected = python(
      'import json,sys\nfrom scipy.stats import chi2\nc=json.load(sys.stdin)\nimport math\nprint(json.dumps([[float(chi2.sf(x,d)), (lambda l: l if math.isfinite(l) else None)(float(chi2.logsf(x,d)))] for x,d in c]))',
      cases,
    ) as [number, number | null][];
    cases.forEach(([x, df], i) => {
      const [sf, logsf] = expected[i]!;
      const got = chiSquareSurvival(x, df);
      if (sf > 1e-300) expect(Math.abs(got.p - sf) / sf).toBeLessThan(1e-9);
      // scipy's logsf is log(sf) and underflows to −∞ with it; ours stays finite (checked in the unit test).
      if (logsf !== null) expect(Math.abs(got.log10 * Math.LN10 - logsf)).toBeLessThan(1e-9 * Math.max(1, Math.abs(logsf)));
    });
  });

  it('testHomogeneity equals scipy.stats.chi2_contingency(correction=False) on the merged table', () => {
    const random = new SeededRandom(11);
    const tables: { reference: number[]; evaluated: number[] }[] = [];
    for (let t = 0; t < 30; t++) {
      const k = 2 + random.nextInt(19);
      tables.push({
        reference: Array.from({ length: k }, () => 3 + random.nextInt(60)),
        evaluated: Array.from({ length: k }, () => 3 + random.nextInt(80)),
      });
    }
    const ours = tables.map((t) => testHomogeneity(t.reference, t.evaluated, [...t.reference.slice(1).map((_, i) => i), null]));
    const merged = ours.map((o) => [o.bins.map((b) => b.reference), o.bins.map((b) => b.evaluated)]);
    const expected = python(
      'import json,sys\nfrom scipy.stats import chi2_contingency\nt=json.load(sys.stdin)\nout=[]\nfor m in t:\n  r=chi2_contingency(m, correction=False)\n  out.append([float(r[0]), float(r[1]), int(r[2])])\nprint(json.dumps(out))',
      merged.filter((m) => m[0]!.length >= 2),
    ) as [number, number, number][];
    const testable = ours.filter((o) => o.testable);
    expect(testable.length).toBe(expected.length);
    testable.forEach((o, i) => {
      const [statistic, p, df] = expected[i]!;
      expect(o.df).toBe(df);
      expect(o.statistic).toBeCloseTo(statistic, 9);
      expect(Math.abs(o.pValue - p)).toBeLessThan(1e-9 * Math.max(p, 1e-300) + 1e-15);
    });
  });
});
