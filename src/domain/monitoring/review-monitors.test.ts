import { describe, expect, it } from 'vitest';
import { SeededRandom } from '../evaluation/random.js';
import { cusumPath } from './cusum.js';
import { createMonitorState, designMonitors, recomputeMonitors, updateMonitors, type SignalSpec } from './deployment-monitors.js';
import { MONITOR_SIGNAL_NAMES, reviewStratumOfValues, reviewWrongOf } from './case-signals.js';
import { reviewReferenceOf } from './monitoring-reference-file.js';
import { designReviewMonitors, reviewStrataOfReference, reviewStrataOfValidationMetrics, reviewStratumOf, withReviewMonitors } from './review-monitors.js';

const SIGNALS: readonly SignalSpec[] = [{ name: 'positive', label: 'positive rate', kind: 'indicator', directions: ['up', 'down'] }];
const positives = Float64Array.from({ length: 400 }, (_, i) => (i % 10 < 7 ? 1 : 0));
// Of the 280 confident positives, 12 wrong; of the 120 negatives, 10 wrong.
const strata = [
  reviewStratumOf(
    'reviewWrong:confidentPositive',
    'false positives by review',
    positives,
    Float64Array.from(positives, (p, i) => (p === 1 && i % 35 === 0 ? 1 : 0)),
  ),
  reviewStratumOf(
    'reviewWrong:confidentNegative',
    'false negatives by review',
    positives.map((p) => 1 - p),
    Float64Array.from(positives, (p, i) => (p === 0 && i % 40 === 9 ? 1 : 0)),
  ),
];
const design = { falseAlarmDays: 10, casesPerDay: 100 };

describe('designReviewMonitors: Bernoulli CUSUMs on review errors, in reviewed-case units, sharing the deployment budget', () => {
  it('counts the strata and calibrates each to K·T·rate·share reviews (its rate per case is the label-free detectors’)', () => {
    expect(strata[0]).toMatchObject({ referenceCases: 280, referenceWrong: 12, share: 0.7 });
    expect(strata[1]).toMatchObject({ referenceCases: 120, referenceWrong: 10, share: 0.3 });
    const review = designReviewMonitors(strata, { ...design, sampleRate: 0.1, familyDetectors: 4 });
    review.detectors.forEach((d, i) => {
      const target = 4 * 1000 * 0.1 * strata[i]!.share;
      expect(d.reviewsPerCase).toBeCloseTo(0.1 * strata[i]!.share, 12);
      expect(d.reviewArl0).toBeGreaterThanOrEqual(target);
      expect(d.arl0).toBeCloseTo(d.reviewArl0 / d.reviewsPerCase, 6);
      expect(d.p0).toBeCloseTo((strata[i]!.referenceWrong + 0.5) / (strata[i]!.referenceCases + 1), 12);
    });
  });

  it('has the in-control run length it states (simulated reviews at p₀, with restarts)', () => {
    const review = designReviewMonitors([strata[0]!], { falseAlarmDays: 1, casesPerDay: 100, sampleRate: 1, familyDetectors: 2 });
    const d = review.detectors[0]!;
    const random = new SeededRandom(9);
    const n = 400_000;
    const increments = Float64Array.from({ length: n }, () => (random.nextFloat() < d.p0 ? d.incrementOne : d.incrementZero));
    const { alarms } = cusumPath(
      increments.map((x) => x),
      d.h,
    );
    // cusumPath floors at 0; the lattice chart floors at half a step, the same states.
    const simulatedArl = n / alarms.length;
    expect(simulatedArl / d.reviewArl0).toBeGreaterThan(0.85);
    expect(simulatedArl / d.reviewArl0).toBeLessThan(1.15);
  });

  it('with a guarantee, is designed at an upper bound of the error rate and keeps the ARL under p₀ above target', () => {
    const plain = designReviewMonitors(strata, { ...design, sampleRate: 0.1, familyDetectors: 4 });
    const guaranteed = designReviewMonitors(strata, { ...design, sampleRate: 0.1, familyDetectors: 4, guarantee: { bootstraps: 100, quantile: 0.9, seed: 1 } });
    guaranteed.detectors.forEach((d, i) => {
      expect(d.p1).toBeGreaterThan(plain.detectors[i]!.p1);
      expect(d.reviewArl0).toBeGreaterThanOrEqual(4 * 1000 * 0.1 * strata[i]!.share);
    });
  });
});

describe('withReviewMonitors: one plan for label-free and review detectors', () => {
  const reference = new Map([['positive', positives]]);
  const plan = designMonitors(reference, { ...design, familyDetectors: 4 }, SIGNALS);
  const review = designReviewMonitors(strata, { ...design, sampleRate: 0.2, familyDetectors: 4 });
  const both = withReviewMonitors(plan, review);

  it('refuses a label-free plan designed without room for the review detectors', () => {
    expect(() => withReviewMonitors(designMonitors(reference, design, SIGNALS), review)).toThrow(RangeError);
  });

  it('leaves the label-free detectors as they were when no review arrives, and alarms on a rise of wrong confident positives', () => {
    const random = new SeededRandom(21);
    const n = 3000;
    const positive = Float64Array.from({ length: n }, () => (random.nextFloat() < 0.7 ? 1 : 0));
    const none = new Float64Array(n).fill(Number.NaN);
    const alone = recomputeMonitors(plan, [positive]).alerts;
    const together = recomputeMonitors(both, [positive, none, none]).alerts;
    expect(together).toEqual(alone);

    // From case 1000 on, a third of confident positives are wrong (p₀ ≈ 0.04); 20 % of them reviewed.
    const state = createMonitorState(both);
    let alarmAt = -1;
    for (let t = 0; t < n && alarmAt < 0; t++) {
      const p = positive[t]!;
      const reviewed = random.nextFloat() < 0.2;
      const wrong = random.nextFloat() < (t >= 1000 ? 0.33 : 0.03) ? 1 : 0;
      const alerts = updateMonitors(both, state, [p, reviewed && p === 1 ? wrong : Number.NaN, Number.NaN]);
      const hit = alerts.find((a) => a.detector === 'reviewWrong:confidentPositive:up');
      if (hit !== undefined) {
        alarmAt = t;
        expect(hit.effect.kind).toBe('rate');
      }
    }
    expect(alarmAt).toBeGreaterThanOrEqual(1000);
    expect(alarmAt).toBeLessThan(1400);
  });
});

describe('review strata of a reference', () => {
  it('counts confident positives and negatives (not referred, warned or rejected) and those the label contradicts', () => {
    const n = 10;
    const col = (xs: number[]) => Float64Array.from(xs);
    const columns = new Map<string, Float64Array>(MONITOR_SIGNAL_NAMES.map((name) => [name, new Float64Array(n)]));
    // Cases 0–5 positive (5 referred, 4 warned), 6–8 negative, 9 rejected (no decision).
    columns.set('positive', col([1, 1, 1, 1, 1, 1, 0, 0, 0, Number.NaN]));
    columns.set('referred', col([0, 0, 0, 0, 0, 1, 0, 0, 0, Number.NaN]));
    columns.set('gateWarned', col([0, 0, 0, 0, 1, 0, 0, 0, 0, 0]));
    columns.set('gateRejected', col([0, 0, 0, 0, 0, 0, 0, 0, 0, 1]));
    const labels = col([1, 0, 1, Number.NaN, 0, 0, 0, 1, 0, 1]);
    expect(reviewStrataOfReference(columns, labels)).toEqual([
      // Case 3 has no label: in the share, not in the error rate.
      { name: 'reviewWrong:confidentPositive', label: 'confident positives reviewed wrong', referenceCases: 3, referenceWrong: 1, share: 0.4 },
      { name: 'reviewWrong:confidentNegative', label: 'confident negatives reviewed wrong', referenceCases: 3, referenceWrong: 1, share: 0.3 },
    ]);
  });

  it("takes the demo manifest's val confusion counts when the bundle has no labelled reference, and refuses what they do not say", () => {
    const metrics = { val: { n: 524, notReferred: { n: 519, tp: 385, fp: 7, tn: 124, fn: 3 } } };
    expect(reviewStrataOfValidationMetrics(metrics)).toEqual([
      { name: 'reviewWrong:confidentPositive', label: 'confident positives reviewed wrong', referenceCases: 392, referenceWrong: 7, share: 392 / 524 },
      { name: 'reviewWrong:confidentNegative', label: 'confident negatives reviewed wrong', referenceCases: 127, referenceWrong: 3, share: 127 / 524 },
    ]);
    expect(reviewStrataOfValidationMetrics(undefined)).toBeUndefined();
    expect(reviewStrataOfValidationMetrics({ val: { n: 10, notReferred: { tp: 9, fp: 2, tn: 0, fn: 0 } } })).toBeUndefined();
    expect(reviewStrataOfValidationMetrics({ val: { n: 524, notReferred: { tp: 1.5, fp: 0, tn: 0, fn: 0 } } })).toBeUndefined();
    const file = reviewReferenceOf(undefined, metrics);
    expect(file.kind === 'strata' ? file.source : file.reason).toMatch(/metrics\.val\.notReferred/);
    expect(reviewReferenceOf(undefined, {})).toMatchObject({ kind: 'none' });
  });

  it("finds an image's stratum from its stored values and whether the read contradicts the decision", () => {
    const vector = (over: Record<string, number>) => Float64Array.from(MONITOR_SIGNAL_NAMES, (name) => over[name] ?? 0);
    expect(reviewStratumOfValues(vector({ positive: 1 }))).toBe('reviewWrong:confidentPositive');
    expect(reviewStratumOfValues(vector({ positive: 0 }))).toBe('reviewWrong:confidentNegative');
    expect(reviewStratumOfValues(vector({ positive: 1, referred: 1 }))).toBeNull();
    expect(reviewStratumOfValues(vector({ positive: 1, gateWarned: 1 }))).toBeNull();
    expect(reviewStratumOfValues(vector({ positive: Number.NaN, gateRejected: 1 }))).toBeNull();
    expect(reviewWrongOf('reviewWrong:confidentPositive', false)).toBe(1);
    expect(reviewWrongOf('reviewWrong:confidentPositive', true)).toBe(0);
    expect(reviewWrongOf('reviewWrong:confidentNegative', true)).toBe(1);
    expect(reviewWrongOf('reviewWrong:confidentNegative', false)).toBe(0);
  });
});
