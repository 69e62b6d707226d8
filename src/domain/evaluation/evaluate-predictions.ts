import { decideFinding, type FindingDecision } from '../decision/decide.js';
import { PlatformError } from '../errors.js';
import { computeRocCurve, type RocPoint } from './auroc.js';
import { brierScore, calibrationSlopeIntercept, expectedCalibrationError, reliabilityBins, type ReliabilityBin } from './calibration-metrics.js';
import { DECISION_CURVE_THRESHOLDS, decisionCurve, type NetBenefitPoint } from './decision-curve.js';
import { delongAuroc } from './delong.js';
import { Z_975 } from './normal.js';
import { confusionAt, predictiveValueIntervals, predictiveValuesAtPrevalence, wilsonInterval, type Confusion } from './proportions.js';
import { SeededRandom } from './random.js';
import { bootstrapStratified, minimumBootstrapReplicates, percentileInterval, quantile, quantileWithInfinities, strideColumn } from './stratified-bootstrap.js';

/**
 * A number with its 95% interval and how both were obtained. NaN bounds mean "no interval" (the
 * method says why); an infinite bound (null in JSON, ∞ in the HTML) means that end is unbounded. A metric the cases cannot define (sensitivity without a single case with the
 * finding, a calibration slope on perfectly separated data) has a NaN value and `notDefined`.
 */
export interface Estimate {
  readonly value: number;
  readonly ciLow: number;
  readonly ciHigh: number;
  readonly method: string;
  /** Why this metric has no value on these cases; absent when it has one. */
  readonly notDefined?: string;
}

export interface EvaluationCases {
  /** Calibrated probability of the finding, per case. */
  readonly probability: Float64Array;
  readonly label: Uint8Array;
  /** Strata columns: column name → value per case; null where the case has no value (missing, never a stratum named ""). */
  readonly strata: ReadonlyMap<string, readonly (string | null)[]>;
  /** 1 where the gate warned about the case (referred when the policy says onGateWarn = refer). */
  readonly gateWarned?: Uint8Array;
}

/**
 * What the bundle's abstain band promises, as `vigil policy` recorded it (decisionPolicy.conformal):
 * a split-conformal band with marginal coverage 1 − α bounds P(decided and wrong) by α; a
 * class-conditional one bounds P(decided and wrong | label) per label, i.e. missed findings among
 * cases with the finding and false alarms among cases without, separately.
 */
export interface AbstentionTarget {
  readonly coverage?: number;
  readonly classCoverage?: { readonly positive: number; readonly negative: number };
  /** The band was calibrated per stratum of this column (Mondrian): the targets hold within each of its strata. */
  readonly mondrianColumn?: string;
  readonly method: string;
}

export interface EvaluationOptions {
  readonly threshold: number;
  readonly abstainBand: { readonly low: number; readonly high: number };
  readonly onGateWarn: 'refer' | 'decide';
  /** Deployment prevalence for PPV/NPV (not the sample's). */
  readonly prevalence: number;
  readonly eceBins: number;
  readonly replicates: number;
  readonly seed: number;
  /** Strata below this many cases, or with fewer than minStratumClassCases of a class they hold, carry a warning that their intervals are wide. */
  readonly minStratumCases: number;
  readonly minStratumClassCases: number;
  /** The abstain band's stated target, when the bundle records one. */
  readonly abstentionTarget?: AbstentionTarget;
}

export const DEFAULT_EVALUATION_OPTIONS = {
  eceBins: 15,
  replicates: 2000,
  seed: 20231,
  minStratumCases: 30,
  minStratumClassCases: 5,
} as const;

/** The rates an abstain band controls, by name as criteria use them. */
export type AbstentionRate = 'decided_wrong_rate' | 'missed_finding_rate' | 'false_alarm_rate';

/** An achieved rate set against the band's target. */
export interface AbstentionCheck {
  readonly rate: AbstentionRate;
  /** The most the target allows (α). */
  readonly target: number;
  readonly achieved: Estimate;
  /**
   * `within`: the achieved rate is at most the target; `above-within-interval`: above it, but the
   * 95% interval includes it (not conclusive); `exceeded`: the whole interval lies above it;
   * `not-defined`: the rate has no value here (no case of the class).
   */
  readonly verdict: 'within' | 'above-within-interval' | 'exceeded' | 'not-defined';
  /** True when the band's guarantee applies at this scope (overall, or a stratum of the Mondrian column). */
  readonly guaranteed: boolean;
}

export interface AbstentionMetrics {
  /** Decided (not referred) and wrong, among all evaluated cases: what a marginal band bounds. */
  readonly decidedWrong: Estimate;
  /** Decided negative among the cases with the finding: what a class-conditional band bounds for positives. */
  readonly missedFinding: Estimate;
  /** Decided positive among the cases without the finding. */
  readonly falseAlarm: Estimate;
  readonly checks: readonly AbstentionCheck[];
}

export interface OverallMetrics {
  readonly n: number;
  readonly positives: number;
  readonly negatives: number;
  readonly auroc: Estimate;
  readonly aurocBootstrap: Estimate;
  readonly threshold: number;
  readonly confusion: Confusion;
  readonly sensitivity: Estimate;
  readonly specificity: Estimate;
  readonly ppv: Estimate;
  readonly npv: Estimate;
  readonly accuracy: Estimate;
  readonly prevalence: number;
  readonly ppvAtPrevalence: Estimate;
  readonly npvAtPrevalence: Estimate;
  readonly brier: Estimate;
  readonly ece: Estimate;
  readonly calibrationSlope: Estimate;
  readonly calibrationIntercept: Estimate;
  readonly reliability: readonly ReliabilityBin[];
  readonly decisionCurve: readonly NetBenefitPoint[];
  readonly abstainBand: { readonly low: number; readonly high: number };
  readonly referred: number;
  readonly referRate: Estimate;
  readonly nonReferred: {
    readonly n: number;
    readonly confusion: Confusion;
    readonly sensitivity: Estimate;
    readonly specificity: Estimate;
    readonly errorRate: Estimate;
  };
  /** The abstain band's target, when stated, and the rates it controls, achieved. */
  readonly abstention: AbstentionMetrics & { readonly target: AbstentionTarget | null };
  readonly roc: readonly RocPoint[];
  /** Pointwise 95% bootstrap band of TPR at fixed FPR (vertical averaging); empty when the ROC curve is not defined. */
  readonly rocBand: readonly { readonly fpr: number; readonly tprLow: number; readonly tprHigh: number }[];
}

export interface StratumMetrics {
  readonly column: string;
  /** The stratum's value; null for the cases whose value is missing (shown as "(missing)"). */
  readonly level: string | null;
  readonly n: number;
  readonly positives: number;
  readonly negatives: number;
  /** Set when the stratum is small: its numbers stand, with wide intervals. */
  readonly warning?: string;
  readonly auroc: Estimate;
  readonly sensitivity: Estimate;
  readonly specificity: Estimate;
  readonly brier: Estimate;
  readonly ece: Estimate;
  readonly referRate: Estimate;
  readonly abstention: AbstentionMetrics;
  /** Stratum minus overall, with a stratified-bootstrap percentile interval. */
  readonly differenceFromOverall: { readonly auroc: Estimate; readonly sensitivity: Estimate; readonly specificity: Estimate };
}

export interface EvaluationMetrics {
  readonly overall: OverallMetrics;
  readonly strata: readonly StratumMetrics[];
  readonly options: EvaluationOptions;
  readonly methods: Readonly<Record<string, string>>;
}

/** How a missing stratum value reads in the report and in criteria scopes. */
export const MISSING_LEVEL_TEXT = '(missing)';

/** "column=level", a missing value as "column=(missing)": how reports and criteria name a stratum. */
export function stratumScope(column: string, level: string | null): string {
  return `${column}=${level ?? MISSING_LEVEL_TEXT}`;
}

const WILSON = 'Wilson score 95% interval';
const NO_POSITIVES = 'not defined: no case with the finding (0 positives)';
const NO_NEGATIVES = 'not defined: no case without the finding (0 negatives)';

function notDefined(reason: string, method: string): Estimate {
  return { value: Number.NaN, ciLow: Number.NaN, ciHigh: Number.NaN, method, notDefined: reason };
}

function wilsonEstimate(count: number, nobs: number, whenEmpty: string): Estimate {
  if (nobs === 0) return notDefined(whenEmpty, WILSON);
  const ci = wilsonInterval(count, nobs);
  return { value: count / nobs, ciLow: ci.low, ciHigh: ci.high, method: WILSON };
}

function meanEstimate(values: Float64Array, what: string): Estimate {
  const n = values.length;
  if (n === 0) return notDefined('not defined: no case', what);
  let mean = 0;
  for (let i = 0; i < n; i++) mean += values[i]!;
  mean /= n;
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (values[i]! - mean) ** 2;
  const se = n > 1 ? Math.sqrt(ss / (n - 1) / n) : Number.NaN;
  return {
    value: mean,
    ciLow: mean - Z_975 * se,
    ciHigh: mean + Z_975 * se,
    method: `${what}; 95% interval mean ± 1.96·SD/√n${n > 1 ? '' : ' (no interval from one case)'}`,
  };
}

function subset<T extends Float64Array | Uint8Array>(array: T, idx: readonly number[]): T {
  const out = new (array.constructor as new (n: number) => T)(idx.length);
  idx.forEach((i, k) => (out[k] = array[i]!));
  return out;
}

/** AUROC with DeLong's interval, or why there is none. */
function aurocEstimate(p: Float64Array, y: Uint8Array, positives: number, negatives: number, method: string): Estimate {
  if (positives === 0) return notDefined(NO_POSITIVES, method);
  if (negatives === 0) return notDefined(NO_NEGATIVES, method);
  const d = delongAuroc(p, y);
  const noInterval = !Number.isFinite(d.ciLow);
  return {
    value: d.auroc,
    ciLow: d.ciLow,
    ciHigh: d.ciHigh,
    method: noInterval ? `${method}; no interval: DeLong's variance needs at least 2 cases of each class` : method,
  };
}

type CalibrationInterval = { readonly low: number; readonly high: number } | { readonly reason: string };

/**
 * Bootstrap (case resampling, stratified by label) of statistics that need the cases themselves:
 * ECE and the calibration slope and intercept. Capped at 500 replicates (each refits a logistic
 * regression) and skipped beyond 200,000 cases; each interval says why when it is missing.
 */
function bootstrapCalibration(
  p: Float64Array,
  y: Uint8Array,
  bins: number,
  replicates: number,
  seed: number,
): { ece: CalibrationInterval; slope: CalibrationInterval; intercept: CalibrationInterval; method: string; separationNote?: string } {
  const n = y.length;
  const R = Math.min(replicates, 500);
  const minimum = minimumBootstrapReplicates(0.95);
  const skip = (reason: string) => ({ ece: { reason }, slope: { reason }, intercept: { reason }, method: 'no case bootstrap' });
  if (n > 200_000) return skip('over 200,000 cases: the case bootstrap of ECE and the calibration slope is skipped, its cost grows with cases × replicates');
  if (R < minimum) return skip(`${R} bootstrap replicates are fewer than the ${minimum} a 95% percentile interval needs`);
  const pos: number[] = [];
  const neg: number[] = [];
  for (let i = 0; i < n; i++) (y[i] === 1 ? pos : neg).push(i);
  const random = new SeededRandom(seed ^ 0x5bd1e995);
  const bp = new Float64Array(n);
  const by = new Uint8Array(n);
  const eces = new Float64Array(R);
  const slopes = new Float64Array(R);
  const intercepts = new Float64Array(R);
  let separated = 0;
  for (let r = 0; r < R; r++) {
    let k = 0;
    for (const cell of [pos, neg]) {
      for (let d = 0; d < cell.length; d++) {
        const i = cell[random.nextInt(cell.length)]!;
        bp[k] = p[i]!;
        by[k] = y[i]!;
        k++;
      }
    }
    eces[r] = expectedCalibrationError(bp, by, bins);
    const fit = calibrationSlopeIntercept(bp, by);
    if (fit.separation === undefined) {
      slopes[r] = fit.slope;
      intercepts[r] = fit.intercept;
    } else {
      // No maximum-likelihood fit in this replicate: the slope diverges towards ±∞ (its direction is
      // known); the intercept diverges too, with a sign that depends on where the classes part.
      separated++;
      slopes[r] = fit.separation.direction === -1 ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
      intercepts[r] = Number.NaN;
    }
  }
  // Diverged replicates stay in the ranking (leaving them out would bias the percentiles): the slope
  // at its infinite limit; the intercept, whose sign is unknown, at −∞ for the lower end and +∞ for
  // the upper, which can only widen the interval. An end that lands on them is unbounded.
  const finiteIntercepts = intercepts.filter((v) => !Number.isNaN(v));
  const withInfinite = (value: number) => Float64Array.from([...finiteIntercepts, ...Array.from({ length: separated }, () => value)]);
  const note =
    separated === 0
      ? ''
      : `; ${separated} of ${R} replicates separate the classes perfectly (no maximum-likelihood fit): their slope counts as ±∞ and their intercept as −∞ for the lower end, +∞ for the upper`;
  return {
    ece: percentileInterval(eces),
    slope: { low: quantileWithInfinities(slopes, 0.025), high: quantileWithInfinities(slopes, 0.975) },
    intercept: {
      low: quantileWithInfinities(withInfinite(Number.NEGATIVE_INFINITY), 0.025),
      high: quantileWithInfinities(withInfinite(Number.POSITIVE_INFINITY), 0.975),
    },
    method: `stratified (by label) percentile bootstrap, ${R} replicates, seed ${seed}`,
    separationNote: note,
  };
}

/** The estimate with its bootstrap interval (`how`: the bootstrap's method), or with the reason there is none. */
function withInterval(value: number, interval: CalibrationInterval, what: string, how: string): Estimate {
  if ('reason' in interval) return { value, ciLow: Number.NaN, ciHigh: Number.NaN, method: `${what}; no interval: ${interval.reason}` };
  return { value, ciLow: interval.low, ciHigh: interval.high, method: `${what}; ${how}` };
}

/**
 * The decision for each case, by the same rule as in use (decideFinding): referred when the gate
 * warned and the policy refers warnings, or when the probability lies in the abstain band;
 * otherwise positive at or above the threshold.
 */
export function decideCases(cases: EvaluationCases, options: Pick<EvaluationOptions, 'threshold' | 'abstainBand' | 'onGateWarn'>): FindingDecision[] {
  return Array.from(cases.probability, (p, i) => decideFinding(p, options, cases.gateWarned?.[i] === 1 ? 'warn' : 'pass').decision);
}

/** The most each rate may be under the band's target; a class-conditional target implies max(α₊, α₋) for all cases. */
export function abstentionTargets(target: AbstentionTarget | undefined): Partial<Record<AbstentionRate, number>> {
  if (target === undefined) return {};
  const out: Partial<Record<AbstentionRate, number>> = {};
  if (target.classCoverage !== undefined) {
    out.missed_finding_rate = 1 - target.classCoverage.positive;
    out.false_alarm_rate = 1 - target.classCoverage.negative;
    out.decided_wrong_rate = Math.max(out.missed_finding_rate, out.false_alarm_rate);
  }
  if (target.coverage !== undefined) out.decided_wrong_rate = 1 - target.coverage;
  return out;
}

function abstentionMetrics(
  decisions: readonly FindingDecision[],
  y: Uint8Array,
  idx: readonly number[] | undefined,
  target: AbstentionTarget | undefined,
  guaranteed: boolean,
): AbstentionMetrics {
  let n = 0;
  let positives = 0;
  let missed = 0;
  let falseAlarms = 0;
  const visit = (i: number): void => {
    n++;
    const d = decisions[i]!;
    if (y[i] === 1) {
      positives++;
      if (d === 'negative') missed++;
    } else if (d === 'positive') falseAlarms++;
  };
  if (idx === undefined) for (let i = 0; i < y.length; i++) visit(i);
  else for (const i of idx) visit(i);
  const rates: Record<AbstentionRate, Estimate> = {
    decided_wrong_rate: wilsonEstimate(missed + falseAlarms, n, 'not defined: no case'),
    missed_finding_rate: wilsonEstimate(missed, positives, NO_POSITIVES),
    false_alarm_rate: wilsonEstimate(falseAlarms, n - positives, NO_NEGATIVES),
  };
  const checks = Object.entries(abstentionTargets(target)).map(([rate, alpha]): AbstentionCheck => {
    const achieved = rates[rate as AbstentionRate];
    const verdict =
      achieved.notDefined !== undefined ? 'not-defined' : achieved.value <= alpha ? 'within' : achieved.ciLow <= alpha ? 'above-within-interval' : 'exceeded';
    return { rate: rate as AbstentionRate, target: alpha, achieved, verdict, guaranteed };
  });
  return { decidedWrong: rates.decided_wrong_rate, missedFinding: rates.missed_finding_rate, falseAlarm: rates.false_alarm_rate, checks };
}

function downsampleRoc(points: RocPoint[], max: number): RocPoint[] {
  if (points.length <= max) return points;
  const step = (points.length - 1) / (max - 1);
  return Array.from({ length: max }, (_, k) => points[Math.round(k * step)]!);
}

/** A stratum's levels in report order: the values sorted, then missing (null) last. */
function levelsOf(values: readonly (string | null)[]): (string | null)[] {
  const present = [...new Set(values.filter((v): v is string => v !== null))].sort();
  return values.includes(null) ? [...present, null] : present;
}

function smallStratumWarning(n: number, positives: number, negatives: number, options: EvaluationOptions): string | undefined {
  const notes: string[] = [];
  if (n < options.minStratumCases) notes.push(`${n} cases (fewer than ${options.minStratumCases})`);
  if (positives > 0 && positives < options.minStratumClassCases) notes.push(`${positives} with the finding`);
  if (negatives > 0 && negatives < options.minStratumClassCases) notes.push(`${negatives} without`);
  return notes.length === 0 ? undefined : `small stratum: ${notes.join(', ')}; its intervals are wide`;
}

/**
 * Every metric of the report, overall and per stratum, from calibrated probabilities and labels.
 * Pure and seeded. Each metric is computed wherever its labels allow it, and says why where they do
 * not: a stratum without a single case with the finding has specificity, refer rate, Brier score
 * and ECE, and sensitivity and AUROC "not defined: no case with the finding".
 */
export function evaluatePredictions(cases: EvaluationCases, options: EvaluationOptions): EvaluationMetrics {
  const { probability: p, label: y } = cases;
  const n = y.length;
  if (n === 0) throw new PlatformError('EVAL_INSUFFICIENT_DATA', 'There is no case to evaluate', { n });
  let positives = 0;
  for (let i = 0; i < n; i++) positives += y[i]!;
  const negatives = n - positives;
  const t = options.threshold;

  // Strata: the first column drives the overall bootstrap's stratification; every column gets its own run.
  const columns = [...cases.strata.keys()];
  const runs = (columns.length === 0 ? [undefined] : columns).map((column, c) => {
    const values = column === undefined ? undefined : cases.strata.get(column)!;
    const levels = values === undefined ? ['all'] : levelsOf(values);
    const index = new Map<string | null, number>(levels.map((l, k) => [l, k]));
    const strata = values === undefined ? undefined : Uint16Array.from(values, (v) => index.get(v)!);
    const boot = bootstrapStratified({
      scores: p,
      labels: y,
      ...(strata === undefined ? {} : { strata, strataCount: levels.length }),
      threshold: t,
      replicates: options.replicates,
      seed: options.seed + c,
      rocGridPoints: c === 0 ? 51 : 0,
    });
    return { column, levels, strata, boot };
  });
  const first = runs[0]!.boot;
  const bothClasses = positives > 0 && negatives > 0;
  const oneClassReason = positives === 0 ? NO_POSITIVES : NO_NEGATIVES;

  const aurocMethod = 'Mann–Whitney AUROC; DeLong (1988) variance, fast algorithm of Sun & Xu (2014), normal 95% interval';
  const auroc = aurocEstimate(p, y, positives, negatives, aurocMethod);
  const bootMethod = `stratified (stratum × label) percentile bootstrap, ${options.replicates} replicates, seed ${options.seed}`;
  const bootAuroc = percentileInterval(first.auroc);
  const confusion = confusionAt(p, y, t);
  const sens = wilsonEstimate(confusion.tp, confusion.tp + confusion.fn, NO_POSITIVES);
  const spec = wilsonEstimate(confusion.tn, confusion.tn + confusion.fp, NO_NEGATIVES);
  const atPrevalence = `Bayes' rule at prevalence ${options.prevalence}; interval from the Wilson bounds of sensitivity and specificity`;
  const pv = predictiveValuesAtPrevalence(sens.value, spec.value, options.prevalence);
  const pvCi = predictiveValueIntervals({ low: sens.ciLow, high: sens.ciHigh }, { low: spec.ciLow, high: spec.ciHigh }, options.prevalence);
  const squared = Float64Array.from({ length: n }, (_, i) => (p[i]! - y[i]!) ** 2);
  const calibrationBoot = bootstrapCalibration(p, y, options.eceBins, options.replicates, options.seed);
  const slopeFit = calibrationSlopeIntercept(p, y);
  const decisions = decideCases(cases, options);
  let referredCount = 0;
  const kept: number[] = [];
  for (let i = 0; i < n; i++) {
    if (decisions[i] === 'refer') referredCount++;
    else kept.push(i);
  }
  const keptConfusion = confusionAt(subset(p, kept), subset(y, kept), t);
  const keptErrors = keptConfusion.fp + keptConfusion.fn;
  const eceMethod = `${options.eceBins} equal-width bins of the probability (edges i/${options.eceBins}, as sklearn calibration_curve strategy="uniform"), Σ (count/n)·|mean p − fraction positive|`;
  const slopeMethod = "logistic regression of the label on logit(p) (Newton's method)";
  const slopeNotEstimable =
    slopeFit.separation === undefined
      ? undefined
      : `not estimable: ${slopeFit.separation.description}, so the logistic regression has no maximum-likelihood estimate (Albert & Anderson 1984)`;
  const target = options.abstentionTarget;

  const overall: OverallMetrics = {
    n,
    positives,
    negatives,
    auroc,
    aurocBootstrap: bothClasses
      ? { value: auroc.value, ciLow: bootAuroc.low, ciHigh: bootAuroc.high, method: bootMethod }
      : notDefined(oneClassReason, bootMethod),
    threshold: t,
    confusion,
    sensitivity: sens,
    specificity: spec,
    ppv: wilsonEstimate(confusion.tp, confusion.tp + confusion.fp, 'not defined: no case was called positive'),
    npv: wilsonEstimate(confusion.tn, confusion.tn + confusion.fn, 'not defined: no case was called negative'),
    accuracy: wilsonEstimate(confusion.tp + confusion.tn, n, 'not defined: no case'),
    prevalence: options.prevalence,
    ppvAtPrevalence: bothClasses
      ? { value: pv.ppv, ciLow: pvCi.ppv.low, ciHigh: pvCi.ppv.high, method: atPrevalence }
      : notDefined(oneClassReason, atPrevalence),
    npvAtPrevalence: bothClasses
      ? { value: pv.npv, ciLow: pvCi.npv.low, ciHigh: pvCi.npv.high, method: atPrevalence }
      : notDefined(oneClassReason, atPrevalence),
    brier: { ...meanEstimate(squared, 'mean of (p − y)²'), value: brierScore(p, y) },
    ece: withInterval(expectedCalibrationError(p, y, options.eceBins), calibrationBoot.ece, eceMethod, calibrationBoot.method),
    calibrationSlope:
      slopeNotEstimable === undefined
        ? withInterval(slopeFit.slope, calibrationBoot.slope, slopeMethod, `${calibrationBoot.method}${calibrationBoot.separationNote ?? ''}`)
        : notDefined(slopeNotEstimable, slopeMethod),
    calibrationIntercept:
      slopeNotEstimable === undefined
        ? withInterval(
            slopeFit.intercept,
            calibrationBoot.intercept,
            'intercept of the same fit',
            `${calibrationBoot.method}${calibrationBoot.separationNote ?? ''}`,
          )
        : notDefined(slopeNotEstimable, `intercept of the same fit`),
    reliability: reliabilityBins(p, y, options.eceBins),
    decisionCurve: decisionCurve(p, y, DECISION_CURVE_THRESHOLDS),
    abstainBand: options.abstainBand,
    referred: referredCount,
    referRate: wilsonEstimate(referredCount, n, 'not defined: no case'),
    nonReferred: {
      n: kept.length,
      confusion: keptConfusion,
      sensitivity: wilsonEstimate(keptConfusion.tp, keptConfusion.tp + keptConfusion.fn, 'not defined: no case with the finding was decided'),
      specificity: wilsonEstimate(keptConfusion.tn, keptConfusion.tn + keptConfusion.fp, 'not defined: no case without the finding was decided'),
      errorRate: wilsonEstimate(keptErrors, kept.length, 'not defined: every case was referred'),
    },
    abstention: { target: target ?? null, ...abstentionMetrics(decisions, y, undefined, target, target !== undefined) },
    roc: bothClasses ? downsampleRoc(computeRocCurve(p, y), 400) : [],
    rocBand: bothClasses
      ? Array.from(first.rocGrid, (fpr, k) => {
          const column = strideColumn(first.rocTpr, first.rocGrid.length, k);
          return { fpr, tprLow: quantile(column, 0.025), tprHigh: quantile(column, 0.975) };
        })
      : [],
  };

  const strata: StratumMetrics[] = [];
  for (const run of runs) {
    if (run.column === undefined || run.strata === undefined) continue;
    const column = run.column;
    const S = run.levels.length;
    run.levels.forEach((level, s) => {
      const idx: number[] = [];
      for (let i = 0; i < n; i++) if (run.strata![i] === s) idx.push(i);
      const sp = subset(p, idx);
      const sy = subset(y, idx);
      let spos = 0;
      for (let i = 0; i < sy.length; i++) spos += sy[i]!;
      const sneg = sy.length - spos;
      const sc = confusionAt(sp, sy, t);
      let sref = 0;
      for (const i of idx) if (decisions[i] === 'refer') sref++;
      const sAuroc = aurocEstimate(sp, sy, spos, sneg, 'DeLong 95% interval');
      const sSens = wilsonEstimate(sc.tp, sc.tp + sc.fn, NO_POSITIVES);
      const sSpec = wilsonEstimate(sc.tn, sc.tn + sc.fp, NO_NEGATIVES);
      const diff = (stratum: Estimate, overallValue: number, matrix: Float64Array, overallReps: Float64Array, what: string): Estimate => {
        const method = `${what} of the stratum minus overall; stratified percentile bootstrap, ${options.replicates} replicates`;
        if (stratum.notDefined !== undefined) return notDefined(stratum.notDefined, method);
        if (!Number.isFinite(overallValue)) return notDefined(`not defined: the overall ${what} is not defined`, method);
        const ci = percentileInterval(strideColumn(matrix, S, s, overallReps));
        return { value: stratum.value - overallValue, ciLow: ci.low, ciHigh: ci.high, method };
      };
      const warning = smallStratumWarning(idx.length, spos, sneg, options);
      strata.push({
        column,
        level,
        n: idx.length,
        positives: spos,
        negatives: sneg,
        ...(warning === undefined ? {} : { warning }),
        auroc: sAuroc,
        sensitivity: sSens,
        specificity: sSpec,
        brier: meanEstimate(subset(squared, idx), 'mean of (p − y)²'),
        ece: {
          value: expectedCalibrationError(sp, sy, options.eceBins),
          ciLow: Number.NaN,
          ciHigh: Number.NaN,
          method: `${eceMethod}; no interval per stratum`,
        },
        referRate: wilsonEstimate(sref, idx.length, 'not defined: no case'),
        abstention: abstentionMetrics(decisions, y, idx, target, target?.mondrianColumn === column),
        differenceFromOverall: {
          auroc: diff(sAuroc, auroc.value, run.boot.aurocByStratum, run.boot.auroc, 'AUROC'),
          sensitivity: diff(sSens, sens.value, run.boot.sensitivityByStratum, run.boot.sensitivity, 'sensitivity'),
          specificity: diff(sSpec, spec.value, run.boot.specificityByStratum, run.boot.specificity, 'specificity'),
        },
      });
    });
  }

  return {
    overall,
    strata,
    options,
    methods: {
      operatingPoint: `positive when the calibrated probability >= ${t}`,
      abstention: `referred when the probability lies in [${options.abstainBand.low}, ${options.abstainBand.high}]${options.onGateWarn === 'refer' ? ', or the gate warned' : ''}; decided and wrong = decided positive without the finding or decided negative with it, among all cases evaluated`,
      ece: eceMethod,
      strata: `every metric is computed in every stratum where its labels define it (sensitivity and AUROC need a case with the finding, specificity and AUROC one without); cases without a value for a column form the stratum ${MISSING_LEVEL_TEXT}; strata with fewer than ${options.minStratumCases} cases or fewer than ${options.minStratumClassCases} of a class they hold carry a warning that their intervals are wide`,
    },
  };
}
