import { computeRocCurve, type RocPoint } from './auroc.js';
import { brierScore, calibrationSlopeIntercept, expectedCalibrationError, reliabilityBins, type ReliabilityBin } from './calibration-metrics.js';
import { isInBand } from './conformal.js';
import { DECISION_CURVE_THRESHOLDS, decisionCurve, type NetBenefitPoint } from './decision-curve.js';
import { delongAuroc } from './delong.js';
import { Z_975 } from './normal.js';
import { confusionAt, predictiveValueIntervals, predictiveValuesAtPrevalence, wilsonInterval, type Confusion } from './proportions.js';
import { SeededRandom } from './random.js';
import { bootstrapStratified, percentileInterval, quantile, strideColumn } from './stratified-bootstrap.js';

/** A number with its 95% interval and how both were obtained. NaN bounds mean "no interval" (the method says why). */
export interface Estimate {
  readonly value: number;
  readonly ciLow: number;
  readonly ciHigh: number;
  readonly method: string;
}

export interface EvaluationCases {
  /** Calibrated probability of the finding, per case. */
  readonly probability: Float64Array;
  readonly label: Uint8Array;
  /** Strata columns: column name → value per case. */
  readonly strata: ReadonlyMap<string, readonly string[]>;
  /** 1 where the gate warned about the case (referred when the policy says onGateWarn = refer). */
  readonly gateWarned?: Uint8Array;
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
  /** Strata below this many cases, or with fewer than minStratumClassCases of either class, get a warning instead of numbers. */
  readonly minStratumCases: number;
  readonly minStratumClassCases: number;
}

export const DEFAULT_EVALUATION_OPTIONS = {
  eceBins: 15,
  replicates: 2000,
  seed: 20231,
  minStratumCases: 30,
  minStratumClassCases: 5,
} as const;

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
  readonly roc: readonly RocPoint[];
  /** Pointwise 95% bootstrap band of TPR at fixed FPR (vertical averaging). */
  readonly rocBand: readonly { readonly fpr: number; readonly tprLow: number; readonly tprHigh: number }[];
}

export interface StratumMetrics {
  readonly column: string;
  readonly level: string;
  readonly n: number;
  readonly positives: number;
  readonly negatives: number;
  /** False when too small to say anything: then only counts and `warning` are given. */
  readonly sufficient: boolean;
  readonly warning?: string;
  readonly auroc?: Estimate;
  readonly sensitivity?: Estimate;
  readonly specificity?: Estimate;
  readonly brier?: Estimate;
  readonly ece?: Estimate;
  readonly referRate?: Estimate;
  /** Stratum minus overall, with a stratified-bootstrap percentile interval. */
  readonly differenceFromOverall?: { readonly auroc: Estimate; readonly sensitivity: Estimate; readonly specificity: Estimate };
}

export interface EvaluationMetrics {
  readonly overall: OverallMetrics;
  readonly strata: readonly StratumMetrics[];
  readonly options: EvaluationOptions;
  readonly methods: Readonly<Record<string, string>>;
}

const WILSON = 'Wilson score 95% interval';

function wilsonEstimate(count: number, nobs: number): Estimate {
  const ci = wilsonInterval(count, nobs);
  return { value: nobs === 0 ? Number.NaN : count / nobs, ciLow: ci.low, ciHigh: ci.high, method: WILSON };
}

function meanEstimate(values: Float64Array, what: string): Estimate {
  const n = values.length;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += values[i]!;
  mean /= n;
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (values[i]! - mean) ** 2;
  const se = n > 1 ? Math.sqrt(ss / (n - 1) / n) : Number.NaN;
  return { value: mean, ciLow: mean - Z_975 * se, ciHigh: mean + Z_975 * se, method: `${what}; 95% interval mean ± 1.96·SD/√n` };
}

function subset<T extends Float64Array | Uint8Array>(array: T, idx: readonly number[]): T {
  const out = new (array.constructor as new (n: number) => T)(idx.length);
  idx.forEach((i, k) => (out[k] = array[i]!));
  return out;
}

/**
 * Bootstrap (case resampling, stratified by label) of statistics that need the cases themselves:
 * ECE and the calibration slope and intercept. Capped at 500 replicates and 200,000 cases, beyond
 * which the interval is left out (it says so).
 */
function bootstrapCalibration(
  p: Float64Array,
  y: Uint8Array,
  bins: number,
  replicates: number,
  seed: number,
): { ece: { low: number; high: number }; slope: { low: number; high: number }; intercept: { low: number; high: number }; replicates: number } | undefined {
  const n = y.length;
  const R = Math.min(replicates, 500);
  if (n > 200_000 || R < 20) return undefined;
  const pos: number[] = [];
  const neg: number[] = [];
  for (let i = 0; i < n; i++) (y[i] === 1 ? pos : neg).push(i);
  const random = new SeededRandom(seed ^ 0x5bd1e995);
  const bp = new Float64Array(n);
  const by = new Uint8Array(n);
  const eces = new Float64Array(R);
  const slopes = new Float64Array(R);
  const intercepts = new Float64Array(R);
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
    slopes[r] = fit.slope;
    intercepts[r] = fit.intercept;
  }
  return { ece: percentileInterval(eces), slope: percentileInterval(slopes), intercept: percentileInterval(intercepts), replicates: R };
}

function referredMask(cases: EvaluationCases, options: EvaluationOptions): Uint8Array {
  const n = cases.label.length;
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const warned = cases.gateWarned?.[i] === 1 && options.onGateWarn === 'refer';
    out[i] = warned || isInBand(cases.probability[i]!, options.abstainBand) ? 1 : 0;
  }
  return out;
}

function downsampleRoc(points: RocPoint[], max: number): RocPoint[] {
  if (points.length <= max) return points;
  const step = (points.length - 1) / (max - 1);
  return Array.from({ length: max }, (_, k) => points[Math.round(k * step)]!);
}

/** Every metric of the report, overall and per stratum, from calibrated probabilities and labels. Pure and seeded. */
export function evaluatePredictions(cases: EvaluationCases, options: EvaluationOptions): EvaluationMetrics {
  const { probability: p, label: y } = cases;
  const n = y.length;
  let positives = 0;
  for (let i = 0; i < n; i++) positives += y[i]!;
  const negatives = n - positives;
  const t = options.threshold;

  // Strata: the first column drives the overall bootstrap's stratification; every column gets its own run.
  const columns = [...cases.strata.keys()];
  const runs = (columns.length === 0 ? [undefined] : columns).map((column, c) => {
    const values = column === undefined ? undefined : (cases.strata.get(column) as readonly string[]);
    const levels = values === undefined ? ['all'] : [...new Set(values)].sort();
    const index = new Map(levels.map((l, k) => [l, k]));
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

  const delong = delongAuroc(p, y);
  const bootAuroc = percentileInterval(first.auroc);
  const confusion = confusionAt(p, y, t);
  const sens = wilsonEstimate(confusion.tp, confusion.tp + confusion.fn);
  const spec = wilsonEstimate(confusion.tn, confusion.tn + confusion.fp);
  const pv = predictiveValuesAtPrevalence(sens.value, spec.value, options.prevalence);
  const pvCi = predictiveValueIntervals({ low: sens.ciLow, high: sens.ciHigh }, { low: spec.ciLow, high: spec.ciHigh }, options.prevalence);
  const squared = Float64Array.from({ length: n }, (_, i) => (p[i]! - y[i]!) ** 2);
  const calibrationBoot = bootstrapCalibration(p, y, options.eceBins, options.replicates, options.seed);
  const slopeFit = calibrationSlopeIntercept(p, y);
  const calibrationMethod =
    calibrationBoot === undefined
      ? 'no interval (over 200,000 cases: the case bootstrap is skipped)'
      : `stratified (by label) percentile bootstrap, ${calibrationBoot.replicates} replicates, seed ${options.seed}`;
  const referred = referredMask(cases, options);
  let referredCount = 0;
  const kept: number[] = [];
  for (let i = 0; i < n; i++) {
    if (referred[i] === 1) referredCount++;
    else kept.push(i);
  }
  const keptConfusion = confusionAt(subset(p, kept), subset(y, kept), t);
  const keptErrors = keptConfusion.fp + keptConfusion.fn;
  const eceMethod = `${options.eceBins} equal-width bins of the probability (edges i/${options.eceBins}, as sklearn calibration_curve strategy="uniform"), Σ (count/n)·|mean p − fraction positive|`;

  const overall: OverallMetrics = {
    n,
    positives,
    negatives,
    auroc: {
      value: delong.auroc,
      ciLow: delong.ciLow,
      ciHigh: delong.ciHigh,
      method: 'Mann–Whitney AUROC; DeLong (1988) variance, fast algorithm of Sun & Xu (2014), normal 95% interval',
    },
    aurocBootstrap: {
      value: delong.auroc,
      ciLow: bootAuroc.low,
      ciHigh: bootAuroc.high,
      method: `stratified (stratum × label) percentile bootstrap, ${options.replicates} replicates, seed ${options.seed}`,
    },
    threshold: t,
    confusion,
    sensitivity: sens,
    specificity: spec,
    ppv: wilsonEstimate(confusion.tp, confusion.tp + confusion.fp),
    npv: wilsonEstimate(confusion.tn, confusion.tn + confusion.fn),
    accuracy: wilsonEstimate(confusion.tp + confusion.tn, n),
    prevalence: options.prevalence,
    ppvAtPrevalence: {
      value: pv.ppv,
      ciLow: pvCi.ppv.low,
      ciHigh: pvCi.ppv.high,
      method: `Bayes' rule at prevalence ${options.prevalence}; interval from the Wilson bounds of sensitivity and specificity`,
    },
    npvAtPrevalence: {
      value: pv.npv,
      ciLow: pvCi.npv.low,
      ciHigh: pvCi.npv.high,
      method: `Bayes' rule at prevalence ${options.prevalence}; interval from the Wilson bounds of sensitivity and specificity`,
    },
    brier: { ...meanEstimate(squared, 'mean of (p − y)²'), value: brierScore(p, y) },
    ece: {
      value: expectedCalibrationError(p, y, options.eceBins),
      ciLow: calibrationBoot?.ece.low ?? Number.NaN,
      ciHigh: calibrationBoot?.ece.high ?? Number.NaN,
      method: `${eceMethod}; ${calibrationMethod}`,
    },
    calibrationSlope: {
      value: slopeFit.slope,
      ciLow: calibrationBoot?.slope.low ?? Number.NaN,
      ciHigh: calibrationBoot?.slope.high ?? Number.NaN,
      method: `logistic regression of the label on logit(p) (Newton's method); ${calibrationMethod}`,
    },
    calibrationIntercept: {
      value: slopeFit.intercept,
      ciLow: calibrationBoot?.intercept.low ?? Number.NaN,
      ciHigh: calibrationBoot?.intercept.high ?? Number.NaN,
      method: `intercept of the same fit; ${calibrationMethod}`,
    },
    reliability: reliabilityBins(p, y, options.eceBins),
    decisionCurve: decisionCurve(p, y, DECISION_CURVE_THRESHOLDS),
    abstainBand: options.abstainBand,
    referred: referredCount,
    referRate: wilsonEstimate(referredCount, n),
    nonReferred: {
      n: kept.length,
      confusion: keptConfusion,
      sensitivity: wilsonEstimate(keptConfusion.tp, keptConfusion.tp + keptConfusion.fn),
      specificity: wilsonEstimate(keptConfusion.tn, keptConfusion.tn + keptConfusion.fp),
      errorRate: wilsonEstimate(keptErrors, kept.length),
    },
    roc: downsampleRoc(computeRocCurve(p, y), 400),
    rocBand: Array.from(first.rocGrid, (fpr, k) => {
      const column = strideColumn(first.rocTpr, first.rocGrid.length, k);
      return { fpr, tprLow: quantile(column, 0.025), tprHigh: quantile(column, 0.975) };
    }),
  };

  const strata: StratumMetrics[] = [];
  for (const run of runs) {
    if (run.column === undefined || run.strata === undefined) continue;
    const S = run.levels.length;
    run.levels.forEach((level, s) => {
      const idx: number[] = [];
      for (let i = 0; i < n; i++) if (run.strata![i] === s) idx.push(i);
      const sp = subset(p, idx);
      const sy = subset(y, idx);
      let spos = 0;
      for (let i = 0; i < sy.length; i++) spos += sy[i]!;
      const sneg = sy.length - spos;
      const base = { column: run.column!, level, n: idx.length, positives: spos, negatives: sneg };
      if (idx.length < options.minStratumCases || spos < options.minStratumClassCases || sneg < options.minStratumClassCases) {
        strata.push({
          ...base,
          sufficient: false,
          warning: `too small to estimate (${idx.length} cases, ${spos} positive, ${sneg} negative; needs >= ${options.minStratumCases} cases and >= ${options.minStratumClassCases} of each class)`,
        });
        return;
      }
      const sd = delongAuroc(sp, sy);
      const sc = confusionAt(sp, sy, t);
      let sref = 0;
      for (const i of idx) sref += referred[i]!;
      const diff = (matrix: Float64Array, overallReps: Float64Array, value: number, what: string): Estimate => {
        const ci = percentileInterval(strideColumn(matrix, S, s, overallReps));
        return {
          value,
          ciLow: ci.low,
          ciHigh: ci.high,
          method: `${what} of the stratum minus overall; stratified percentile bootstrap, ${options.replicates} replicates`,
        };
      };
      const sSens = wilsonEstimate(sc.tp, sc.tp + sc.fn);
      const sSpec = wilsonEstimate(sc.tn, sc.tn + sc.fp);
      strata.push({
        ...base,
        sufficient: true,
        auroc: { value: sd.auroc, ciLow: sd.ciLow, ciHigh: sd.ciHigh, method: 'DeLong 95% interval' },
        sensitivity: sSens,
        specificity: sSpec,
        brier: meanEstimate(subset(squared, idx), 'mean of (p − y)²'),
        ece: {
          value: expectedCalibrationError(sp, sy, options.eceBins),
          ciLow: Number.NaN,
          ciHigh: Number.NaN,
          method: `${eceMethod}; no interval per stratum`,
        },
        referRate: wilsonEstimate(sref, idx.length),
        differenceFromOverall: {
          auroc: diff(run.boot.aurocByStratum, run.boot.auroc, sd.auroc - delong.auroc, 'AUROC'),
          sensitivity: diff(run.boot.sensitivityByStratum, run.boot.sensitivity, sSens.value - sens.value, 'sensitivity'),
          specificity: diff(run.boot.specificityByStratum, run.boot.specificity, sSpec.value - spec.value, 'specificity'),
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
      abstention: `referred when the probability lies in [${options.abstainBand.low}, ${options.abstainBand.high}]${options.onGateWarn === 'refer' ? ', or the gate warned' : ''}`,
      ece: eceMethod,
      strata: `strata with fewer than ${options.minStratumCases} cases or fewer than ${options.minStratumClassCases} of either class get a warning instead of numbers`,
    },
  };
}
