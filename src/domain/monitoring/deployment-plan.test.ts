import { describe, expect, it } from 'vitest';
import { SeededRandom } from '../evaluation/random.js';
import { DEFAULT_SIGNALS, designMonitors } from './deployment-monitors.js';
import { designDeploymentPlan } from './deployment-plan.js';

function reference(n: number): Map<string, Float64Array> {
  const random = new SeededRandom(5);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - random.nextFloat())) * Math.cos(2 * Math.PI * random.nextFloat());
  return new Map(
    DEFAULT_SIGNALS.map((s) => [
      s.name,
      Float64Array.from({ length: n }, () => (s.kind === 'indicator' ? (random.nextFloat() < (s.name === 'gateRejected' ? 0.01 : 0.3) ? 1 : 0) : gauss())),
    ]),
  );
}

describe('designDeploymentPlan', () => {
  const ref = reference(500);
  const design = { falseAlarmDays: 90, casesPerDay: 200, states: 60 };

  it('without a guarantee is designMonitors', () => {
    expect(designDeploymentPlan(ref, design).detectors).toEqual(designMonitors(ref, design).detectors);
  });

  it('with a guarantee keeps every detector, its target and order, raises continuous thresholds only, in about a second', () => {
    const plain = designMonitors(ref, design);
    const started = performance.now();
    const guaranteed = designDeploymentPlan(ref, { ...design, guarantee: { bootstraps: 4, quantile: 0.9, seed: 12 } });
    const ms = performance.now() - started;
    console.log(`design: 16 detectors, 500 reference cases, 4 bootstraps (continuous): ${ms.toFixed(0)} ms`);
    expect(guaranteed.detectors.map((d) => [d.id, d.signalIndex])).toEqual(plain.detectors.map((d) => [d.id, d.signalIndex]));
    expect(guaranteed.detectorArl0).toBe(plain.detectorArl0);
    expect(guaranteed.familyArl0).toBe(plain.familyArl0);
    guaranteed.detectors.forEach((d, i) => {
      const p = plain.detectors[i]!;
      if (d.kind === 'indicator') expect(d.h).toBe(p.h);
      else expect(d.h).toBeGreaterThanOrEqual(p.h);
    });
    expect(guaranteed.scorers.map((s) => s?.n ?? null)).toEqual(plain.scorers.map((s) => s?.n ?? null));
  });
});
