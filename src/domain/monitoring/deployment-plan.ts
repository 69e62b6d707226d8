import { DEFAULT_SIGNALS, designMonitors, type MonitorDesign, type MonitorPlan, type SignalSpec } from './deployment-monitors.js';

/** Where a deployment's reference comes from: its version's validation images, or its own first production cases. */
export type ReferenceKind = 'version' | 'baseline';

/**
 * The guarantee quantile by reference kind, as measured (docs/monitoring.md, "Goals after the second
 * round", cross-fitted false alarms per 90 days at 200/day, target ≤ 1): a version reference is a few
 * hundred validation images (262–524), which needs q = 0.99 (0.46; q = 0.9 gave 2.33); a production
 * baseline of 1,000 cases needs only q = 0.9 (0.44).
 */
export const GUARANTEE_QUANTILE: Readonly<Record<ReferenceKind, number>> = { version: 0.99, baseline: 0.9 };

/** The bootstrap resamples the proof measured those rates with. */
export const GUARANTEE_BOOTSTRAPS = 200;

/**
 * A deployment's plan for the server: `designMonitors` over every signal with the bootstrap guarantee
 * (guaranteed-thresholds.ts: continuous signals by the cached rank bootstrap, indicators designed at a
 * bootstrap confidence bound of the rate), at the quantile measured for its reference kind. With
 * `bootstraps` 0 the thresholds treat the reference as the population (tests, or an operator's choice).
 */
export function designDeploymentPlan(
  reference: ReadonlyMap<string, ArrayLike<number>>,
  design: Omit<MonitorDesign, 'guarantee'>,
  guarantee: { readonly kind: ReferenceKind; readonly bootstraps: number; readonly seed?: number },
  signals: readonly SignalSpec[] = DEFAULT_SIGNALS,
): MonitorPlan {
  if (guarantee.bootstraps <= 0) return designMonitors(reference, design, signals);
  return designMonitors(
    reference,
    { ...design, guarantee: { bootstraps: guarantee.bootstraps, quantile: GUARANTEE_QUANTILE[guarantee.kind], seed: guarantee.seed ?? 12 } },
    signals,
  );
}
