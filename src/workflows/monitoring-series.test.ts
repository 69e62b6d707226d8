import { describe, expect, it } from 'vitest';
import { MONITOR_SIGNAL_NAMES } from '../domain/monitoring/case-signals.js';
import { designMonitors } from '../domain/monitoring/deployment-monitors.js';
import { normalScore } from '../domain/monitoring/normal-score.js';
import type { MonitorCase } from '../ports/monitor-store.js';
import { seriesOf } from './monitoring.js';

const SIGNALS = MONITOR_SIGNAL_NAMES.length;
const POSITIVE = MONITOR_SIGNAL_NAMES.indexOf('positive');
const MEAN = MONITOR_SIGNAL_NAMES.indexOf('mean');
const PROBABILITY = MONITOR_SIGNAL_NAMES.indexOf('probability');
const T0 = Date.parse('2026-12-07T10:00:00Z');

/** A case every 10 s: positive on every third, probability NaN on every fifth (a gate-rejected image has none). */
function caseAt(i: number, seqOffset = 100): MonitorCase {
  const values = Array.from({ length: SIGNALS }, () => 0.5);
  values[POSITIVE] = i % 3 === 0 ? 1 : 0;
  values[MEAN] = 100 + (i % 7);
  values[PROBABILITY] = i % 5 === 0 ? Number.NaN : 0.5;
  return {
    seq: seqOffset + 2 * i, // store-wide seqs: another deployment's cases in between
    site: 's',
    versionId: 'v',
    origin: 'production',
    caseId: `c${i}`,
    imageRef: `study/${i}.png`,
    studyKey: `k${i}`,
    timeMs: T0 + i * 10_000,
    device: null,
    values,
  };
}

const series = (s: ReturnType<typeof seriesOf>, name: string) => s.find((x) => x.signal === name)!;

describe('seriesOf', () => {
  const cases = Array.from({ length: 230 }, (_, i) => caseAt(i));

  it('by time: a dense stream (230 cases in 38 minutes) is one hourly point', () => {
    const hourly = seriesOf(cases, undefined, { kind: 'time', ms: 3_600_000 });
    const positive = series(hourly, 'positive');
    expect(positive.buckets).toHaveLength(1);
    expect(positive.buckets[0]).toEqual({
      start: '2026-12-07T10:00:00.000Z',
      n: 230,
      value: 77 / 230,
      firstSeq: 100,
      lastSeq: 100 + 2 * 229,
    });
  });

  it('by cases: one point per 50 cases, counted from the deployment’s first case, each naming its cases by seq', () => {
    // The window's first case is the deployment's 120th (index 120): buckets [100,150) [150,200) … by ordinal.
    const window = cases.slice(20);
    const byCases = seriesOf(window, undefined, { kind: 'cases', size: 50, firstOrdinal: 120 });
    const positive = series(byCases, 'positive');
    // Ordinals 120..329: buckets 2 (120-149), 3, 4, 5, 6 (300-329).
    expect(positive.buckets.map((b) => b.firstSeq)).toEqual([120, 150, 200, 250, 300].map((o) => 100 + 2 * (o - 100)));
    expect(positive.buckets.map((b) => b.lastSeq)).toEqual([149, 199, 249, 299, 329].map((o) => 100 + 2 * (o - 100)));
    expect(positive.buckets.map((b) => b.n)).toEqual([30, 50, 50, 50, 30]);
    // Each bucket's rate is its own cases' (window index i is case i + 20).
    const rate = (from: number, to: number) => window.slice(from, to).filter((c) => c.values[POSITIVE] === 1).length / (to - from);
    expect(positive.buckets.map((b) => b.value)).toEqual([rate(0, 30), rate(30, 80), rate(80, 130), rate(130, 180), rate(180, 210)]);
    expect(positive.buckets[0]!.start).toBe(new Date(window[0]!.timeMs).toISOString());
    // A signal missing on some cases: n counts those that have it; every bucket is still listed.
    const probability = series(byCases, 'probability');
    expect(probability.buckets).toHaveLength(5);
    expect(probability.buckets[1]!.n).toBe(40);
    // No plan yet: continuous signals have no normal scores, so no value.
    expect(probability.buckets.every((b) => b.value === null)).toBe(true);
  });

  it('by cases, with a plan: the mean normal score of the bucket’s cases against the reference', () => {
    const reference = new Map(
      MONITOR_SIGNAL_NAMES.map((name, s) => [name, Float64Array.from({ length: 200 }, (_, i) => (s === MEAN ? 95 + (i % 15) : i % 2))]),
    );
    const plan = designMonitors(reference, { falseAlarmDays: 10, casesPerDay: 50, states: 40 });
    const byCases = seriesOf(cases, plan, { kind: 'cases', size: 50, firstOrdinal: 0 });
    const mean = series(byCases, 'mean');
    const scorer = plan.scorers[MEAN]!;
    const expected = cases.slice(50, 100).reduce((sum, c) => sum + normalScore(scorer, c.values[MEAN]!), 0) / 50;
    expect(mean.buckets[1]!.value).toBeCloseTo(expected, 12);
    expect(mean.measure).toBe('mean-normal-score');
    const positive = plan.detectors.find((d) => d.signal === 'positive');
    expect(positive?.kind === 'indicator' ? positive.p0 : undefined).toBeGreaterThan(0);
    expect(series(byCases, 'positive').reference).toBe(positive?.kind === 'indicator' ? positive.p0 : undefined);
  });
});
