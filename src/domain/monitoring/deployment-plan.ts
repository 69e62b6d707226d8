import { DEFAULT_SIGNALS, designMonitors, type MonitorDesign, type MonitorPlan, type SignalSpec } from './deployment-monitors.js';
import { designReviewMonitors, withReviewMonitors, type ReviewStratum } from './review-monitors.js';

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
 * The odds ratio the server's review charts are tuned to: 4, the faster of the two the second round
 * measured (docs/monitoring.md, "Detection from reviews": at q 0.99 and 20 % reviews, median 327 images
 * against 489 for 2), with the family's false alarms within target either way.
 */
export const REVIEW_ODDS_RATIO = 4;

/** The review detectors of a plan: the strata (p₀ from the version's labels) and the rate confident decisions are reviewed at. */
export interface ReviewPlanDesign {
  readonly strata: readonly ReviewStratum[];
  readonly sampleRate: number;
  readonly oddsRatio?: number;
}

/**
 * A deployment's plan for the server: `designMonitors` over every signal with the bootstrap guarantee
 * (guaranteed-thresholds.ts: continuous signals by the cached rank bootstrap, indicators designed at a
 * bootstrap confidence bound of the rate), at the quantile measured for its reference kind. With
 * `bootstraps` 0 the thresholds treat the reference as the population (tests, or an operator's choice).
 * With `review`, the review detectors (review-monitors.ts) follow the label-free ones, controlled together:
 * the family counts both (`familyDetectors`), and the review charts take the same guarantee.
 */
export function designDeploymentPlan(
  reference: ReadonlyMap<string, ArrayLike<number>>,
  design: Omit<MonitorDesign, 'guarantee'>,
  guarantee: { readonly kind: ReferenceKind; readonly bootstraps: number; readonly seed?: number },
  signals: readonly SignalSpec[] = DEFAULT_SIGNALS,
  review?: ReviewPlanDesign,
): MonitorPlan {
  const g = guarantee.bootstraps <= 0 ? undefined : { bootstraps: guarantee.bootstraps, quantile: GUARANTEE_QUANTILE[guarantee.kind], seed: guarantee.seed ?? 12 };
  const own = signals.reduce((sum, s) => sum + s.directions.length, 0);
  const familyDetectors = review === undefined ? undefined : own + review.strata.length;
  const plan = designMonitors(
    reference,
    { ...design, ...(g === undefined ? {} : { guarantee: g }), ...(familyDetectors === undefined ? {} : { familyDetectors }) },
    signals,
  );
  if (review === undefined || familyDetectors === undefined) return plan;
  return withReviewMonitors(
    plan,
    designReviewMonitors(review.strata, {
      falseAlarmDays: design.falseAlarmDays,
      casesPerDay: design.casesPerDay,
      sampleRate: review.sampleRate,
      familyDetectors,
      oddsRatio: review.oddsRatio ?? REVIEW_ODDS_RATIO,
      ...(g === undefined ? {} : { guarantee: g }),
    }),
  );
}
