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
