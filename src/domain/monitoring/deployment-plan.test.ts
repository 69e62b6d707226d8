import { describe, expect, it } from 'vitest';
import { SeededRandom } from '../evaluation/random.js';
import { DEFAULT_SIGNALS, designMonitors } from './deployment-monitors.js';
import { designDeploymentPlan, GUARANTEE_QUANTILE } from './deployment-plan.js';

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
  const ref = reference(1000);
  const design = { falseAlarmDays: 90, casesPerDay: 200, states: 60 };

  it('without bootstraps is designMonitors', () => {
    expect(designDeploymentPlan(ref, design, { kind: 'baseline', bootstraps: 0 }).detectors).toEqual(designMonitors(ref, design).detectors);
  });

  it('guarantees every detector (continuous and indicator) at the quantile measured for the reference kind', () => {
    const plain = designMonitors(ref, design);
    const times: number[] = [];
    const plans = (['baseline', 'baseline', 'version'] as const).map((kind) => {
      const started = performance.now();
      const plan = designDeploymentPlan(ref, design, { kind, bootstraps: 200 });
      times.push(performance.now() - started);
      return plan;
    });
    console.log(
      `design, 16 detectors, 1,000 cases, 200 bootstraps: first ${times[0]!.toFixed(0)} ms, cached ${times[1]!.toFixed(0)} ms; q 0.99 first ${times[2]!.toFixed(0)} ms`,
    );
    const [baseline, again, version] = plans as [typeof plain, typeof plain, typeof plain];
    expect(again.detectors).toEqual(baseline.detectors);
    expect(baseline.design.guarantee?.quantile).toBe(GUARANTEE_QUANTILE.baseline);
    expect(version.design.guarantee?.quantile).toBe(GUARANTEE_QUANTILE.version);
    expect(baseline.detectors.map((d) => [d.id, d.signalIndex])).toEqual(plain.detectors.map((d) => [d.id, d.signalIndex]));
    expect(baseline.detectorArl0).toBe(plain.detectorArl0);
    baseline.detectors.forEach((d, i) => {
      const p = plain.detectors[i]!;
      const v = version.detectors[i]!;
      if (d.kind === 'continuous') {
        // Every continuous threshold rises, and more at q 0.99.
        expect(d.h).toBeGreaterThan(p.h);
        expect(v.h).toBeGreaterThan(d.h);
      } else if (d.kind === 'indicator' && p.kind === 'indicator' && v.kind === 'indicator') {
        // An indicator is designed at a bound of its rate (further out at q 0.99): its ARL under the reference rate reaches the target.
        expect(d.p0).toBe(p.p0);
        expect(d.arl0).toBeGreaterThanOrEqual(plain.detectorArl0);
        expect(v.arl0).toBeGreaterThanOrEqual(d.arl0 * 0.999);
      }
    });
    // At least one indicator's design moved (the guarantee reaches the indicators too).
    expect(baseline.detectors.some((d, i) => d.kind === 'indicator' && d.h !== plain.detectors[i]!.h)).toBe(true);
  }, 120_000);
});

describe('designDeploymentPlan with review detectors', () => {
  it('appends one review CUSUM per stratum, the family counting them, designed at the same guarantee', () => {
    const strata = [
      { name: 'reviewWrong:confidentPositive', label: 'confident positives reviewed wrong', referenceCases: 377, referenceWrong: 7, share: 0.72 },
      { name: 'reviewWrong:confidentNegative', label: 'confident negatives reviewed wrong', referenceCases: 119, referenceWrong: 3, share: 0.23 },
    ];
    const design = { falseAlarmDays: 90, casesPerDay: 200, states: 60 };
    const plain = designDeploymentPlan(reference(300), design, { kind: 'version', bootstraps: 0 });
    const plan = designDeploymentPlan(reference(300), design, { kind: 'version', bootstraps: 0 }, undefined, undefined, { strata, sampleRate: 0.2 });
    expect(plan.detectors.map((d) => d.id).slice(16)).toEqual(['reviewWrong:confidentPositive:up', 'reviewWrong:confidentNegative:up']);
    expect(plan.signals.map((s) => s.name).slice(10)).toEqual(strata.map((s) => s.name));
    expect(plan.design.familyDetectors).toBe(18);
    expect(plan.detectorArl0).toBe(18 * 90 * 200);
    // More detectors share the budget: each label-free threshold rises.
    expect(plan.detectors[0]!.h).toBeGreaterThan(plain.detectors[0]!.h);
    const cp = plan.detectors[16]!;
    // Its ARL in cases (reviews / (rate × share)) reaches the per-detector target.
    expect(cp.arl0).toBeGreaterThanOrEqual(18 * 90 * 200);
    const guaranteed = designDeploymentPlan(reference(300), design, { kind: 'version', bootstraps: 50 }, undefined, undefined, { strata, sampleRate: 0.2 });
    expect(guaranteed.detectors[16]!.h).toBeGreaterThan(cp.h);
  });
});
