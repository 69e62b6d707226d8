import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { SeededRandom } from '../evaluation/random.js';
import { createMonitorState, designMonitors, recomputeMonitors, updateMonitors, type SignalSpec } from './deployment-monitors.js';

const SIGNALS: readonly SignalSpec[] = [
  { name: 'probability', label: 'calibrated probability', kind: 'continuous', directions: ['up', 'down'] },
  { name: 'positive', label: 'positive rate', kind: 'indicator', directions: ['up', 'down'] },
  { name: 'mean', label: 'mean intensity', kind: 'continuous', directions: ['up', 'down'] },
];

function referenceOf(seed: number, n = 300): Map<string, Float64Array> {
  const random = new SeededRandom(seed);
  const gauss = (): number => Math.sqrt(-2 * Math.log(1 - random.nextFloat())) * Math.cos(2 * Math.PI * random.nextFloat());
  const probability = Float64Array.from({ length: n }, () => 1 / (1 + Math.exp(-2 * gauss())));
  return new Map([
    ['probability', probability],
    ['positive', probability.map((p) => (p >= 0.5 ? 1 : 0))],
    ['mean', Float64Array.from({ length: n }, () => 0.5 + 0.05 * gauss())],
  ]);
}

/** Columns of n cases drawn from the reference, the mean intensity shifted by `shift` reference SDs from case `from` on. */
function streamOf(reference: Map<string, Float64Array>, n: number, seed: number, shift = 0, from = 0): Float64Array[] {
  const random = new SeededRandom(seed);
  const columns = SIGNALS.map(() => new Float64Array(n));
  const m = reference.get('probability')!.length;
  for (let t = 0; t < n; t++) {
    const i = random.nextInt(m);
    columns[0]![t] = reference.get('probability')![i]!;
    columns[1]![t] = reference.get('positive')![i]!;
    columns[2]![t] = reference.get('mean')![i]! + (t >= from ? shift * 0.05 : 0);
  }
  // A case without a probability (rejected by the gate) now and then.
  for (let t = 5; t < n; t += 37) {
    columns[0]![t] = Number.NaN;
    columns[1]![t] = Number.NaN;
  }
  return columns;
}

describe('designMonitors', () => {
  it('gives every detector the Bonferroni share of the family ARL, and thresholds that reach it', () => {
    const plan = designMonitors(referenceOf(1), { falseAlarmDays: 10, casesPerDay: 50 }, SIGNALS);
    expect(plan.detectors.map((d) => d.id)).toEqual(['probability:up', 'probability:down', 'positive:up', 'positive:down', 'mean:up', 'mean:down']);
    expect(plan.familyArl0).toBe(500);
    expect(plan.detectorArl0).toBe(3000);
    for (const d of plan.detectors) {
      expect(d.arl0).toBeGreaterThanOrEqual(3000);
      // A Bernoulli CUSUM's statistic lives on a lattice, so its ARL jumps as h crosses a lattice point and
      // cannot always land on the target: it is the first h at or above it. Continuous signals land within 1 %.
      if (d.kind === 'continuous') expect(d.arl0).toBeLessThan(3000 * 1.01);
    }
  });
});

describe('updateMonitors / recomputeMonitors', () => {
  const reference = referenceOf(2);
  const plan = designMonitors(reference, { falseAlarmDays: 2, casesPerDay: 100 }, SIGNALS);

  test.prop([fc.integer({ min: 0, max: 2 ** 31 - 1 }), fc.double({ min: -3, max: 3, noNaN: true })])(
    'recomputing over stored values equals feeding the cases one by one',
    (seed, shift) => {
      const columns = streamOf(reference, 600, seed, shift, 200);
      const { state, alerts } = recomputeMonitors(plan, columns);
      const incremental = createMonitorState(plan);
      const raised = [];
      for (let t = 0; t < 600; t++)
        raised.push(
          ...updateMonitors(
            plan,
            incremental,
            columns.map((c) => c[t]!),
          ),
        );
      expect(raised).toEqual(alerts);
      expect(Array.from(incremental.statistic)).toEqual(Array.from(state.statistic));
      for (const s of state.statistic) expect(s).toBeGreaterThanOrEqual(0);
    },
  );

  it('raises an alert that names the signal, the direction, the window and the effect, soon after a 2-SD shift', () => {
    const from = 300;
    const columns = streamOf(reference, 1500, 11, 2, from);
    const times = Float64Array.from({ length: 1500 }, (_, t) => Date.UTC(2026, 0, 1) + t * 432_000);
    const { alerts } = recomputeMonitors(plan, columns, times);
    const first = alerts.find((a) => a.alarmCase >= from);
    expect(first).toBeDefined();
    expect(first!.detector).toBe('mean:up');
    expect(first!.alarmCase - from).toBeLessThan(40);
    expect(first!.windowStartCase).toBeGreaterThanOrEqual(from - 10);
    expect(first!.windowStartTime).toBe(times[first!.windowStartCase]);
    expect(first!.statistic).toBeGreaterThanOrEqual(first!.threshold);
    expect(first!.effect.kind).toBe('mean-normal-score');
    if (first!.effect.kind === 'mean-normal-score') expect(first!.effect.value).toBeGreaterThan(1);
    expect(first!.runLength).toBeGreaterThan(first!.alarmCase - first!.windowStartCase);
  });

  it('is monotone in the shift: a larger shift never raises the mean:up statistic later', () => {
    const delays = [0.5, 1, 2, 3].map((shift) => {
      const { alerts } = recomputeMonitors(plan, streamOf(reference, 4000, 5, shift, 0));
      return alerts.find((a) => a.detector === 'mean:up')?.alarmCase ?? Number.POSITIVE_INFINITY;
    });
    for (let i = 1; i < delays.length; i++) expect(delays[i]!).toBeLessThanOrEqual(delays[i - 1]!);
  });

  it('keeps the realised false-alarm rate near its target on in-control bootstrap streams', () => {
    // Family target: 1 per 200 cases. 200 streams of 2,000 cases: ≈ 2,000 expected alarms at the target.
    let alarms = 0;
    const n = 2000;
    for (let seed = 0; seed < 200; seed++) alarms += recomputeMonitors(plan, streamOf(reference, n, 1000 + seed)).alerts.length;
    const perFamilyArl = alarms / ((200 * n) / plan.familyArl0);
    // Bonferroni is conservative for the correlated probability/positive detectors: at or below 1, not far below.
    expect(perFamilyArl).toBeLessThan(1.1);
    expect(perFamilyArl).toBeGreaterThan(0.5);
  });
});

describe('designMonitors with a guarantee for the estimated reference (Gandy & Kvaløy 2013)', () => {
  it('raises the continuous thresholds, designs indicators at a confidence bound of the rate, and keeps the ARL under the reference at or above target', () => {
    const reference = referenceOf(3, 120);
    const design = { falseAlarmDays: 1, casesPerDay: 100, states: 40 };
    const plain = designMonitors(reference, design, SIGNALS);
    const guaranteed = designMonitors(reference, { ...design, guarantee: { bootstraps: 12, quantile: 0.9, seed: 5 } }, SIGNALS);
    guaranteed.detectors.forEach((d, i) => {
      const p = plain.detectors[i]!;
      expect(d.arl0).toBeGreaterThanOrEqual(plain.detectorArl0);
      if (d.kind === 'continuous') expect(d.h).toBeGreaterThan(p.h);
      else if (p.kind === 'indicator') {
        expect(d.p0).toBe(p.p0);
        // Designed at a rate the truth stays below (up) or above (down) with probability ≈ 0.9: p₁ moves the same way.
        if (d.direction === 'up') expect(d.p1).toBeGreaterThan(p.p1);
        else expect(d.p1).toBeLessThan(p.p1);
      }
    });
  });
});

describe('designMonitors controlled together with detectors outside the plan (familyDetectors)', () => {
  it('gives each detector the share of a larger family, and refuses a family smaller than the plan', () => {
    const reference = referenceOf(4, 200);
    const design = { falseAlarmDays: 1, casesPerDay: 100, states: 40 };
    const own = designMonitors(reference, design, SIGNALS);
    const shared = designMonitors(reference, { ...design, familyDetectors: 8 }, SIGNALS);
    expect(own.detectorArl0).toBe(6 * 100);
    expect(shared.detectorArl0).toBe(8 * 100);
    shared.detectors.forEach((d, i) => {
      expect(d.h).toBeGreaterThanOrEqual(own.detectors[i]!.h);
      expect(d.arl0).toBeGreaterThanOrEqual(800);
    });
    expect(() => designMonitors(reference, { ...design, familyDetectors: 5 }, SIGNALS)).toThrow(RangeError);
  });
});
