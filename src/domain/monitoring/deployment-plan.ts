import { DEFAULT_SIGNALS, designMonitors, type MonitorDesign, type MonitorPlan, type SignalSpec } from './deployment-monitors.js';

/**
 * A deployment's plan for the server: `designMonitors` over every signal, with the bootstrap guarantee
 * (Gandy & Kvaløy) applied to the continuous signals only. The indicators' guarantee resamples p₀ and
 * solves each resample's exact lattice chain, whose size grows as p₀ falls (a 1 % gate-reject rate
 * needs thousands of states and a dense solve each): minutes per design, measured in docs/monitoring.md,
 * where a server designs while judging. The indicators keep their plain thresholds (Jeffreys-smoothed
 * p₀ from the baseline), which is where the cross-fitted false alarms came from; that remains open.
 *
 * Family control is unchanged: the continuous and indicator parts are designed separately with the
 * false-alarm days scaled so that each detector's target is still K·T for the K detectors of the whole
 * set (Bonferroni over all of them), and the two parts are joined in `signals` order.
 */
export function designDeploymentPlan(
  reference: ReadonlyMap<string, ArrayLike<number>>,
  design: MonitorDesign,
  signals: readonly SignalSpec[] = DEFAULT_SIGNALS,
): MonitorPlan {
  if (design.guarantee === undefined) return designMonitors(reference, design, signals);
  const total = signals.reduce((sum, s) => sum + s.directions.length, 0);
  const part = (kind: SignalSpec['kind'], guaranteed: boolean): MonitorPlan | undefined => {
    const subset = signals.filter((s) => s.kind === kind);
    const count = subset.reduce((sum, s) => sum + s.directions.length, 0);
    if (count === 0) return undefined;
    const { guarantee, ...plain } = design;
    // Each detector's target K·T with K the whole set's count: falseAlarmDays × total / count.
    const scaled = { ...plain, falseAlarmDays: (design.falseAlarmDays * total) / count };
    return designMonitors(reference, guaranteed && guarantee !== undefined ? { ...scaled, guarantee } : scaled, subset);
  };
  const continuous = part('continuous', true);
  const indicator = part('indicator', false);
  const partOf = (s: SignalSpec) => (s.kind === 'continuous' ? continuous : indicator)!;
  const scorers = signals.map((s) => {
    const p = partOf(s);
    return p.scorers[p.signals.findIndex((x) => x.name === s.name)]!;
  });
  const detectors = signals.flatMap((s, signalIndex) =>
    partOf(s)
      .detectors.filter((d) => d.signal === s.name)
      .map((d) => ({ ...d, signalIndex })),
  );
  const familyArl0 = design.falseAlarmDays * design.casesPerDay;
  return {
    signals,
    scorers,
    detectors,
    design: { ...(continuous ?? indicator)!.design, falseAlarmDays: design.falseAlarmDays, guarantee: design.guarantee },
    familyArl0,
    detectorArl0: total * familyArl0,
  };
}
