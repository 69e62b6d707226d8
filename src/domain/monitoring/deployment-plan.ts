import {
  DEFAULT_SIGNALS,
  designMonitors,
  EMBEDDING_DETECTOR_ID,
  EMBEDDING_LABEL,
  EMBEDDING_SIGNAL,
  type MonitorDesign,
  type MonitorPlan,
  type SignalSpec,
} from './deployment-monitors.js';
import { designOnlineMmd } from './embedding-drift.js';
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
 * The online MMD's window W: cases compared with the reference at each step. 20 trades speed against
 * sensitivity as measured in embedding-drift.test.ts and by simulation at the server's ERT (≈ 3·10⁵, 524
 * reference rows): a mean shift of 2 SD along the first component is found in a median 16 cases, 1 SD in
 * 51, ½ SD in ≈ 1,900 (smaller windows answer sooner to large shifts and miss small ones).
 */
export const EMBEDDING_DRIFT_WINDOW = 20;
/**
 * Bootstrap splits the online MMD's thresholds are set on. Its per-step thresholds at the server's ERT lie
 * past what any feasible count resolves, so they come from the exponential tail fitted above the top 1 %
 * (embedding-drift.ts `upperQuantile`), which errs long: 20,000 gave a realised run length ≈ 1.4 × ERT at
 * ERT 2,000 (2,000 gave ≈ 2 ×). Design cost O(bootstraps·W²): ≈ 0.2–0.5 s at W = 20.
 */
export const EMBEDDING_DRIFT_BOOTSTRAPS = 20_000;

/** The embedding reference an online MMD is designed on: the version's reference images' summaries. */
export interface EmbeddingDriftRequest {
  readonly rows: readonly ArrayLike<number>[];
  readonly windowSize?: number;
  readonly bootstraps?: number;
  readonly seed?: number;
}

/** Whether `rows` can carry an online MMD with window W: a comparison part of at least 2W + 1 rows beyond the 2W − 1 the bootstrap windows take. */
export function hasEnoughEmbeddingRows(rows: number, windowSize: number = EMBEDDING_DRIFT_WINDOW): boolean {
  return rows >= 4 * windowSize;
}

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
 * With `review`, the review detectors (review-monitors.ts) follow the label-free ones, and with `embedding`
 * the online MMD joins them, all controlled together: the family counts every one (`familyDetectors`), and
 * the review charts take the same guarantee.
 */
export function designDeploymentPlan(
  reference: ReadonlyMap<string, ArrayLike<number>>,
  design: Omit<MonitorDesign, 'guarantee'>,
  guarantee: { readonly kind: ReferenceKind; readonly bootstraps: number; readonly seed?: number },
  signals: readonly SignalSpec[] = DEFAULT_SIGNALS,
  embedding?: EmbeddingDriftRequest,
  review?: ReviewPlanDesign,
): MonitorPlan {
  // The whole family shares the budget: the label-free detectors, the review detectors, and the online MMD
  // on the embedding (its ERT is K·T like each CUSUM's ARL₀).
  const g =
    guarantee.bootstraps <= 0 ? undefined : { bootstraps: guarantee.bootstraps, quantile: GUARANTEE_QUANTILE[guarantee.kind], seed: guarantee.seed ?? 12 };
  const own = signals.reduce((sum, s) => sum + s.directions.length, 0);
  const familyDetectors = (design.familyDetectors ?? own) + (review?.strata.length ?? 0) + (embedding === undefined ? 0 : 1);
  const labelFree = designMonitors(
    reference,
    {
      ...design,
      ...(g === undefined ? {} : { guarantee: g }),
      ...(familyDetectors === own && design.familyDetectors === undefined ? {} : { familyDetectors }),
    },
    signals,
  );
  const plan =
    review === undefined
      ? labelFree
      : withReviewMonitors(
          labelFree,
          designReviewMonitors(review.strata, {
            falseAlarmDays: design.falseAlarmDays,
            casesPerDay: design.casesPerDay,
            sampleRate: review.sampleRate,
            familyDetectors,
            oddsRatio: review.oddsRatio ?? REVIEW_ODDS_RATIO,
            ...(g === undefined ? {} : { guarantee: g }),
          }),
        );
  if (embedding === undefined) return plan;
  const mmd = designOnlineMmd(embedding.rows, {
    windowSize: embedding.windowSize ?? EMBEDDING_DRIFT_WINDOW,
    ert: plan.detectorArl0,
    bootstraps: embedding.bootstraps ?? EMBEDDING_DRIFT_BOOTSTRAPS,
    seed: embedding.seed ?? 13,
  });
  return { ...plan, embedding: { id: EMBEDDING_DETECTOR_ID, signal: EMBEDDING_SIGNAL, label: EMBEDDING_LABEL, mmd } };
}
