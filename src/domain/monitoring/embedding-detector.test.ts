import { describe, expect, it } from 'vitest';
import { SeededRandom } from '../evaluation/random.js';
import { createMonitorState, DEFAULT_SIGNALS, EMBEDDING_DETECTOR_ID, recomputeMonitors, updateMonitors, type MonitorAlert } from './deployment-monitors.js';
import { designDeploymentPlan, hasEnoughEmbeddingRows } from './deployment-plan.js';
import { mmd2Unbiased, onlineMmdReferenceRows } from './embedding-drift.js';
import { decodeMonitorPlan, decodeMonitorState, encodeMonitorPlan, encodeMonitorState } from './monitor-snapshot.js';

// The embedding detector as a member of a deployment's plan: one more detector in the family budget,
// fed each case's summary beside its signal values, its alarms alerts like the CUSUMs', its state JSON.

const gaussian = (r: SeededRandom): number => Math.sqrt(-2 * Math.log(1 - r.nextFloat())) * Math.cos(2 * Math.PI * r.nextFloat());
const SCALES = [2, 1.7, 1.5, 1.2, 1, 0.8, 0.6, 0.5];
const summary = (r: SeededRandom, shift = 0): Float32Array => Float32Array.from(SCALES, (s, j) => s * (gaussian(r) + (j === 0 ? shift : 0)));

function signalReference(n: number, seed: number): Map<string, Float64Array> {
  const r = new SeededRandom(seed);
  return new Map(
    DEFAULT_SIGNALS.map((s) => [s.name, Float64Array.from({ length: n }, () => (s.kind === 'indicator' ? (r.nextFloat() < 0.2 ? 1 : 0) : gaussian(r)))]),
  );
}
const design = { falseAlarmDays: 5, casesPerDay: 40, states: 40 };
const rows = (() => {
  const r = new SeededRandom(8);
  return Array.from({ length: 300 }, () => summary(r));
})();
const signals = signalReference(300, 9);
const plan = designDeploymentPlan(signals, design, { kind: 'version', bootstraps: 0 }, DEFAULT_SIGNALS, { rows, windowSize: 10, bootstraps: 2000 });
const without = designDeploymentPlan(signals, design, { kind: 'version', bootstraps: 0 });

/** A stream of `n` cases: in-control signal values; summaries in control, then shifted by `shift` SD from case `from`; every 7th case without one (as a gate-rejected image). */
function stream(n: number, from: number, shift: number, seed: number) {
  const r = new SeededRandom(seed);
  const columns = DEFAULT_SIGNALS.map((s) => Float64Array.from({ length: n }, () => (s.kind === 'indicator' ? (r.nextFloat() < 0.2 ? 1 : 0) : gaussian(r))));
  const summaries = Array.from({ length: n }, (_, t) => (t % 7 === 3 ? null : summary(r, t >= from ? shift : 0)));
  return { columns, summaries, times: Float64Array.from({ length: n }, (_, t) => 1000 + t) };
}

describe('a plan with the embedding detector', () => {
  it('counts it in the family (K + 1) and gives it the per-detector ARL₀ as its ERT', () => {
    expect(without.embedding).toBeUndefined();
    expect(plan.design.familyDetectors).toBe(without.detectors.length + 1);
    expect(plan.detectorArl0).toBe((without.detectors.length + 1) * plan.familyArl0);
    expect(plan.embedding?.id).toBe(EMBEDDING_DETECTOR_ID);
    expect(plan.embedding?.mmd.ert).toBe(plan.detectorArl0);
    // The CUSUMs' thresholds rise to make room for it (a larger per-detector ARL₀).
    plan.detectors.forEach((d, i) => expect(d.h).toBeGreaterThanOrEqual(without.detectors[i]!.h));
    expect(hasEnoughEmbeddingRows(79, 20)).toBe(false);
    expect(hasEnoughEmbeddingRows(80, 20)).toBe(true);
  });

  it('alarms on a shifted embedding as an alert of its own (window, run length, ERT, MMD² above the threshold), skipping cases without a summary', () => {
    const s = stream(600, 200, 2, 21);
    const { alerts } = recomputeMonitors(plan, s.columns, s.times, s.summaries);
    const mmd = alerts.filter((a) => a.detector === EMBEDDING_DETECTOR_ID);
    expect(mmd.length).toBeGreaterThan(0);
    const first = mmd[0]!;
    expect(first.alarmCase).toBeGreaterThanOrEqual(200);
    expect(first.alarmCase).toBeLessThan(260);
    expect(first).toMatchObject({ signal: 'embedding', direction: 'up', arl0: plan.detectorArl0 });
    expect(first.statistic).toBeGreaterThan(first.threshold);
    expect(first.effect).toMatchObject({ kind: 'embedding-mmd', value: first.statistic, windowSize: 10 });
    expect(first.effect.cases).toBeLessThanOrEqual(10);
    // The window's first case and time are those of the oldest summary in it, after the case index order.
    expect(first.windowStartCase).toBeLessThanOrEqual(first.alarmCase);
    expect(first.windowStartTime).toBe(1000 + first.windowStartCase);
    // Cases without a summary are not counted in its run.
    expect(first.runLength).toBeLessThanOrEqual(first.alarmCase + 1);
  });

  it('stays quiet in control over a long stream, and its statistic is MMD²ᵤ of its window', () => {
    const s = stream(1500, Number.POSITIVE_INFINITY, 0, 22);
    const state = createMonitorState(plan);
    const alerts: MonitorAlert[] = [];
    for (let t = 0; t < 1500; t++)
      alerts.push(
        ...updateMonitors(
          plan,
          state,
          s.columns.map((c) => c[t]!),
          t,
          s.summaries[t],
        ),
      );
    expect(alerts.filter((a) => a.detector === EMBEDDING_DETECTOR_ID)).toEqual([]);
    const mmd = plan.embedding!.mmd;
    const window = s.summaries.filter((x) => x !== null).slice(-mmd.windowSize);
    expect(Math.abs(state.embedding!.mmd.statistic - mmd2Unbiased(onlineMmdReferenceRows(mmd), window, mmd.sigma))).toBeLessThan(1e-12);
  });

  it('round-trips plan and state through their JSON documents; recomputing equals the per-case updates', () => {
    const decoded = decodeMonitorPlan(encodeMonitorPlan(plan));
    expect(encodeMonitorPlan(decoded)).toBe(encodeMonitorPlan(plan));
    expect(decoded.embedding).toEqual(plan.embedding);
    const s = stream(500, 250, 1.5, 23);
    const state = createMonitorState(decoded);
    let restored = state;
    const incremental: MonitorAlert[] = [];
    for (let t = 0; t < 500; t++) {
      incremental.push(
        ...updateMonitors(
          decoded,
          restored,
          s.columns.map((c) => c[t]!),
          s.times[t],
          s.summaries[t],
        ),
      );
      if (t % 37 === 0) restored = decodeMonitorState(decoded, encodeMonitorState(restored));
    }
    const batch = recomputeMonitors(plan, s.columns, s.times, s.summaries);
    expect(incremental).toEqual(batch.alerts);
    expect(encodeMonitorState(restored)).toBe(encodeMonitorState(batch.state));
    expect(() => decodeMonitorState(plan, encodeMonitorState(createMonitorState(without)))).toThrow(RangeError);
  });
});
