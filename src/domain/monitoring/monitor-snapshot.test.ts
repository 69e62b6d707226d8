import { describe, expect, it } from 'vitest';
import { SeededRandom } from '../evaluation/random.js';
import { signalVectorOf } from './case-signals.js';
import { createMonitorState, DEFAULT_SIGNALS, designMonitors, recomputeMonitors, updateMonitors } from './deployment-monitors.js';
import { decodeMonitorPlan, decodeMonitorState, encodeMonitorPlan, encodeMonitorState } from './monitor-snapshot.js';

function reference(n: number, seed: number): Map<string, Float64Array> {
  const random = new SeededRandom(seed);
  const columns = new Map<string, Float64Array>();
  for (const s of DEFAULT_SIGNALS) {
    columns.set(
      s.name,
      Float64Array.from({ length: n }, () => (s.kind === 'indicator' ? (random.nextFloat() < 0.2 ? 1 : 0) : random.nextFloat() * 3)),
    );
  }
  return columns;
}

describe('monitor plan and state documents', () => {
  const plan = designMonitors(reference(200, 1), { falseAlarmDays: 5, casesPerDay: 20, states: 40 });

  it('round-trips a plan exactly: the decoded plan runs the same detectors', () => {
    const decoded = decodeMonitorPlan(encodeMonitorPlan(plan));
    expect(encodeMonitorPlan(decoded)).toBe(encodeMonitorPlan(plan));
    expect(decoded.detectors).toEqual(plan.detectors);
    const stream = reference(400, 2);
    const columns = DEFAULT_SIGNALS.map((s) => stream.get(s.name)!.map((v) => v + (s.name === 'mean' ? 0.8 : 0)));
    expect(recomputeMonitors(decoded, columns).alerts).toEqual(recomputeMonitors(plan, columns).alerts);
  });

  it('round-trips a running state (NaN times included) and continues where it stopped', () => {
    const state = createMonitorState(plan);
    const stream = reference(300, 3);
    const row = (t: number) => DEFAULT_SIGNALS.map((s) => stream.get(s.name)![t]!);
    for (let t = 0; t < 150; t++) updateMonitors(plan, state, row(t));
    const restored = decodeMonitorState(plan, encodeMonitorState(state));
    expect(encodeMonitorState(restored)).toBe(encodeMonitorState(state));
    const a: unknown[] = [];
    const b: unknown[] = [];
    for (let t = 150; t < 300; t++) {
      a.push(...updateMonitors(plan, state, row(t), t));
      b.push(...updateMonitors(plan, restored, row(t), t));
    }
    expect(b).toEqual(a);
    expect(Array.from(restored.statistic)).toEqual(Array.from(state.statistic));
  });

  it('refuses a state of another plan', () => {
    const other = designMonitors(reference(200, 1), { falseAlarmDays: 5, casesPerDay: 20, states: 40 }, DEFAULT_SIGNALS.slice(0, 2));
    expect(() => decodeMonitorState(other, encodeMonitorState(createMonitorState(plan)))).toThrow(RangeError);
  });
});

describe('signalVectorOf', () => {
  const base = { mean: 0.5, std: 0.2, laplacianVariance: 0.01, noise: 0.003, oodDistance: 4 };
  it('maps a decided image and a rejected one as the monitoring proof does', () => {
    expect(Array.from(signalVectorOf({ status: 'decided', gateVerdict: 'warn', probability: 0.7, decision: 'refer', ...base }))).toEqual([
      0.7, 0, 1, 0, 1, 0.5, 0.2, 0.01, 0.003, 4,
    ]);
    expect(Array.from(signalVectorOf({ status: 'rejected', gateVerdict: 'reject', ...base, oodDistance: Number.NaN }))).toEqual([
      Number.NaN,
      Number.NaN,
      Number.NaN,
      1,
      0,
      0.5,
      0.2,
      0.01,
      0.003,
      Number.NaN,
    ]);
  });
});
