import {
  ARL_STATES,
  bernoulliCusumIncrements,
  calibrateLatticeThreshold,
  calibrateThreshold,
  cusumArl,
  incrementDistribution,
  latticeCusumArl,
  latticeIncrements,
} from './cusum.js';
import { createOnlineMmdState, onlineMmdThreshold, updateOnlineMmd, type OnlineMmdPlan, type OnlineMmdState } from './embedding-drift.js';
import { continuousThresholdInflation, indicatorGuaranteedRate } from './guaranteed-thresholds.js';
import { buildNormalScorer, normalScore, type NormalScorer } from './normal-score.js';

/**
 * The monitors of one deployment (model version × site): a one-sided CUSUM per watched signal and
 * direction, each with its threshold set so that, under the reference, the deployment as a whole
 * raises on average at most one false alarm per `falseAlarmDays` at `casesPerDay`.
 *
 * Family control (Bonferroni on alarm rates): with K one-sided detectors and a family target of one
 * false alarm per T = falseAlarmDays × casesPerDay cases, each detector gets an in-control ARL of
 * K·T. A detector restarted after each alarm is a renewal process that raises 1/ARL alarms per
 * case in the long run, and expected counts add whatever the dependence between detectors (they
 * watch correlated signals of the same cases), so the deployment's expected false alarms per T
 * cases are at most Σ T/(K·T) = 1. Conservative where detectors are correlated (alarms then tend
 * to coincide and count once as an incident), exact in expectation otherwise.
 *
 * Per-case values arrive as one number per signal (NaN when the case has none, e.g. no probability
 * for a case the gate rejected): continuous signals are standardized as normal scores against the
 * reference (normal-score.ts); indicators (0/1) enter a Bernoulli CUSUM. Each case costs O(1) in the
 * stream's length: per continuous signal one binary search in the reference (≈10 comparisons for
 * 524 values), per detector an add and a compare.
 */

export type SignalKind = 'continuous' | 'indicator';
export type Direction = 'up' | 'down';

export interface SignalSpec {
  readonly name: string;
  /** How an alert names it. */
  readonly label: string;
  readonly kind: SignalKind;
  readonly directions: readonly Direction[];
}

/**
 * The signals watched by default: the model's outputs, the gate's verdicts and the image statistics
 * the gate measures (quality/image-features.ts, quality/noise.ts, quality/ood.ts), each in the
 * direction(s) where a change matters. 16 one-sided detectors.
 */
export const DEFAULT_SIGNALS: readonly SignalSpec[] = [
  { name: 'probability', label: 'calibrated probability', kind: 'continuous', directions: ['up', 'down'] },
  { name: 'positive', label: 'positive rate', kind: 'indicator', directions: ['up', 'down'] },
  { name: 'referred', label: 'refer rate', kind: 'indicator', directions: ['up'] },
  { name: 'gateRejected', label: 'gate reject rate', kind: 'indicator', directions: ['up'] },
  { name: 'gateWarned', label: 'gate warn rate', kind: 'indicator', directions: ['up'] },
  { name: 'mean', label: 'mean intensity', kind: 'continuous', directions: ['up', 'down'] },
  { name: 'std', label: 'contrast (standard deviation)', kind: 'continuous', directions: ['up', 'down'] },
  { name: 'laplacianVariance', label: 'sharpness (Laplacian variance)', kind: 'continuous', directions: ['up', 'down'] },
  { name: 'noise', label: 'noise (Immerkær estimate)', kind: 'continuous', directions: ['up', 'down'] },
  { name: 'oodDistance', label: 'distance from the training data (Mahalanobis)', kind: 'continuous', directions: ['up'] },
];

export interface MonitorDesign {
  /** "At most one false alarm per `falseAlarmDays` days" for the whole deployment … */
  readonly falseAlarmDays: number;
  /** … at this many cases a day. */
  readonly casesPerDay: number;
  /** CUSUM reference value k for normal scores: half the shift, in reference SDs, the charts are tuned to. Default 0.5 (a 1-SD shift). */
  readonly referenceValue?: number;
  /** Odds ratio of the rate change an indicator's Bernoulli CUSUM is tuned to (up: p₁ = OR·p₀ in odds; down: 1/OR). Default 2. */
  readonly indicatorOddsRatio?: number;
  /** Cells of the Markov-chain ARL approximation. Default ARL_STATES. */
  readonly states?: number;
  /**
   * Thresholds that allow for the reference being a sample, so that with probability ≈ `quantile`
   * over the sampling of the reference the in-control ARL reaches the target
   * (guaranteed-thresholds.ts). Continuous detectors: guaranteed conditional performance (Gandy &
   * Kvaløy, Scand. J. Statistics 40, 2013) — the reference is resampled `bootstraps` times, the chart
   * designed again on each resample and its threshold calibrated so that its ARL *under the original
   * reference* reaches the target; h rises by the `quantile` of those thresholds minus the nominal one
   * (computed once per reference size on ranks, and cached). Indicators: the chart is designed at a
   * bootstrap confidence bound of the rate (upper upwards, lower downwards); `arl0` is stated under
   * the reference rate. Absent: thresholds treat the reference as the population. Measured in
   * docs/monitoring.md (second round): q = 0.99 on a few hundred cases, or 0.9 on a 1,000-case
   * production baseline, keep the realised false alarms within target.
   */
  readonly guarantee?: { readonly bootstraps: number; readonly quantile: number; readonly seed: number };
  /**
   * The number of detectors whose false alarms share the deployment's budget (Bonferroni), when more
   * than this plan's own: e.g. review monitors (review-monitors.ts) designed beside it. Default: this
   * plan's count.
   */
  readonly familyDetectors?: number;
}

interface DetectorBase {
  readonly id: string;
  readonly signal: string;
  readonly signalIndex: number;
  readonly label: string;
  readonly direction: Direction;
  /** Decision threshold. */
  readonly h: number;
  /** The in-control ARL at h under the reference (Markov-chain approximation). */
  readonly arl0: number;
}
export interface ContinuousDetector extends DetectorBase {
  readonly kind: 'continuous';
  readonly k: number;
}
export interface IndicatorDetector extends DetectorBase {
  readonly kind: 'indicator';
  /** Reference rate (Jeffreys-smoothed: (x + ½)/(n + 1), so that a rate never seen stays above 0) and the rate tuned to. */
  readonly p0: number;
  readonly p1: number;
  /**
   * Increment for a case with the indicator at 1 and at 0: the log-likelihood ratios ln(p₁/p₀) and
   * ln((1 − p₁)/(1 − p₀)) rounded to multiples of `step` (cusum.ts latticeIncrements), so that the
   * threshold's ARL is exact.
   */
  readonly incrementOne: number;
  readonly incrementZero: number;
  readonly step: number;
}
export type DetectorPlan = ContinuousDetector | IndicatorDetector;

/**
 * The multivariate drift detector on the embedding summary (embedding-drift.ts): an online MMD whose
 * expected run time in control is this plan's per-detector ARL₀ (K·T, K counting it), so it shares the
 * family's false-alarm budget like every CUSUM. It watches the cases that have a summary.
 */
export interface EmbeddingDetectorPlan {
  readonly id: typeof EMBEDDING_DETECTOR_ID;
  readonly signal: typeof EMBEDDING_SIGNAL;
  readonly label: string;
  readonly mmd: OnlineMmdPlan;
}
export const EMBEDDING_DETECTOR_ID = 'embedding:mmd';
export const EMBEDDING_SIGNAL = 'embedding';
export const EMBEDDING_LABEL = 'representation of the image (embedding)';

export interface MonitorPlan {
  readonly signals: readonly SignalSpec[];
  /** Per signal, the normal scorer (continuous) or null (indicator). */
  readonly scorers: readonly (NormalScorer | null)[];
  readonly detectors: readonly DetectorPlan[];
  readonly design: Required<Omit<MonitorDesign, 'guarantee' | 'familyDetectors'>> & Pick<MonitorDesign, 'guarantee' | 'familyDetectors'>;
  /** T = falseAlarmDays × casesPerDay: the family's in-control ARL. */
  readonly familyArl0: number;
  /** K·T, each detector's target in-control ARL (Bonferroni on rates over K detectors). */
  readonly detectorArl0: number;
  /** The online MMD on the embedding summary, when the version has an embedding reference. */
  readonly embedding?: EmbeddingDetectorPlan;
}

/**
 * Designs a deployment's monitors from reference per-case values (one array per signal, NaN where a
 * case has none), e.g. the model version's validation set scored through the inference chain.
 * Thresholds: for each detector, the smallest h whose in-control ARL — its increments drawn from the
 * reference's own (empirical for continuous signals, Bernoulli(p₀) for indicators) — reaches K·T.
 */
export function designMonitors(
  reference: ReadonlyMap<string, ArrayLike<number>>,
  design: MonitorDesign,
  signals: readonly SignalSpec[] = DEFAULT_SIGNALS,
): MonitorPlan {
  if (!(design.falseAlarmDays > 0) || !(design.casesPerDay > 0)) throw new RangeError('falseAlarmDays and casesPerDay must be positive');
  const full: MonitorPlan['design'] = {
    ...(design.guarantee === undefined ? {} : { guarantee: design.guarantee }),
    ...(design.familyDetectors === undefined ? {} : { familyDetectors: design.familyDetectors }),
    falseAlarmDays: design.falseAlarmDays,
    casesPerDay: design.casesPerDay,
    referenceValue: design.referenceValue ?? 0.5,
    indicatorOddsRatio: design.indicatorOddsRatio ?? 2,
    states: design.states ?? ARL_STATES,
  };
  const ownDetectors = signals.reduce((sum, s) => sum + s.directions.length, 0);
  if (design.familyDetectors !== undefined && !(design.familyDetectors >= ownDetectors))
    throw new RangeError("familyDetectors must count at least the plan's own detectors");
  const detectorCount = design.familyDetectors ?? ownDetectors;
  const familyArl0 = full.falseAlarmDays * full.casesPerDay;
  const detectorArl0 = detectorCount * familyArl0;
  const scorers: (NormalScorer | null)[] = [];
  const detectors: DetectorPlan[] = [];
  signals.forEach((signal, signalIndex) => {
    const values = reference.get(signal.name);
    if (values === undefined) throw new RangeError(`the reference has no values for signal "${signal.name}"`);
    if (signal.kind === 'continuous') {
      const scorer = buildNormalScorer(values);
      scorers.push(scorer);
      // The reference's own normal scores, whose empirical distribution the increments follow in control.
      const finite = Float64Array.from(values).filter((v) => Number.isFinite(v));
      const z = finite.map((v) => normalScore(scorer, v));
      const k = full.referenceValue;
      for (const direction of signal.directions) {
        const sign = direction === 'up' ? 1 : -1;
        const nominal = incrementDistribution(z.map((v) => sign * v - k));
        let { h, arl } = calibrateThreshold(nominal, detectorArl0, full.states);
        const g = full.guarantee;
        if (g !== undefined) {
          // Normal scores are rank-based: the bootstrap inflation of h depends on n, not on the values (guaranteed-thresholds.ts).
          const guaranteed = h + continuousThresholdInflation(finite.length, k, detectorArl0, full.states, g);
          if (guaranteed > h) {
            h = guaranteed;
            arl = cusumArl(nominal, h, full.states);
          }
        }
        detectors.push({
          kind: 'continuous',
          id: `${signal.name}:${direction}`,
          signal: signal.name,
          signalIndex,
          label: signal.label,
          direction,
          k,
          h,
          arl0: arl,
        });
      }
    } else {
      scorers.push(null);
      let ones = 0;
      let n = 0;
      for (let i = 0; i < values.length; i++) {
        const v = values[i]!;
        if (Number.isNaN(v)) continue;
        n++;
        if (v !== 0) ones++;
      }
      const p0 = (ones + 0.5) / (n + 1);
      for (const direction of signal.directions) {
        const up = direction === 'up';
        // With a guarantee, the chart is designed at a confidence bound of the rate (guaranteed-thresholds.ts).
        const g = full.guarantee;
        const pDesign = g === undefined ? p0 : indicatorGuaranteedRate(ones, n, up, { ...g, seed: g.seed + 7919 * detectors.length });
        const { p1, one, zero } = bernoulliCusumIncrements(pDesign, up ? full.indicatorOddsRatio : 1 / full.indicatorOddsRatio);
        // Upwards a 1 raises the chart (one > 0 > zero); downwards a 0 does (zero > 0 > one).
        const lattice = up ? latticeIncrements(one, zero) : latticeIncrements(zero, one);
        const { states, arl: arlAtDesign } = calibrateLatticeThreshold(lattice, up ? pDesign : 1 - pDesign, detectorArl0);
        // arl0 is stated under the reference rate (at or above the target when designed at a bound).
        const arl = pDesign === p0 ? arlAtDesign : latticeCusumArl(lattice, up ? p0 : 1 - p0, states);
        const incrementOne = (up ? lattice.up : -lattice.down) * lattice.step;
        const incrementZero = (up ? -lattice.down : lattice.up) * lattice.step;
        // Half a step below states·u: the float sum of lattice steps then compares as the integer state does.
        const h = (states - 0.5) * lattice.step;
        detectors.push({
          kind: 'indicator',
          id: `${signal.name}:${direction}`,
          signal: signal.name,
          signalIndex,
          label: signal.label,
          direction,
          p0,
          p1,
          incrementOne,
          incrementZero,
          step: lattice.step,
          h,
          arl0: arl,
        });
      }
    }
  });
  return { signals, scorers, detectors, design: full, familyArl0, detectorArl0 };
}

/** What an alert says, in the terms a clinician and an engineer can check. */
export interface MonitorAlert {
  readonly detector: string;
  readonly signal: string;
  readonly label: string;
  readonly direction: Direction;
  /** Index (0-based, in the deployment's case order) of the case that raised the alarm. */
  readonly alarmCase: number;
  /**
   * First case of the excursion that crossed the threshold (the last time the statistic left 0):
   * the CUSUM's estimate of when the change began (Page 1954; Hinkley 1971).
   */
  readonly windowStartCase: number;
  /** Times (ms since the epoch) of those cases, when the caller passed them. */
  readonly windowStartTime: number | null;
  readonly alarmTime: number | null;
  /** Cases the detector watched since it was last (re)started: its run length. */
  readonly runLength: number;
  readonly statistic: number;
  readonly threshold: number;
  /** The detector's in-control ARL at its threshold. */
  readonly arl0: number;
  /**
   * Size of the change over the window: for a continuous signal the mean normal score (in reference
   * SDs; 0 in control), for an indicator the observed rate beside the reference rate.
   */
  readonly effect:
    | { readonly kind: 'mean-normal-score'; readonly value: number; readonly cases: number }
    | { readonly kind: 'rate'; readonly observed: number; readonly reference: number; readonly cases: number }
    /** The embedding detector: MMD² between the window's summaries (`cases` of them, at most `windowSize`) and the reference's. */
    | { readonly kind: 'embedding-mmd'; readonly value: number; readonly cases: number; readonly windowSize: number };
  /** The other detectors most advanced towards their own thresholds (statistic / h), at most 3, highest first. */
  readonly contributors: readonly { readonly detector: string; readonly label: string; readonly fractionOfThreshold: number }[];
}

/** The running state of a plan's detectors: everything an update needs, O(K) numbers. */
export interface MonitorState {
  /** Cases seen so far (the next case's index). */
  cases: number;
  readonly statistic: Float64Array;
  /** Per detector: index of the current excursion's first case (−1: at 0), its time, Σ of the watched value over it, and its length. */
  readonly excursionStart: Float64Array;
  readonly excursionStartTime: Float64Array;
  readonly excursionSum: Float64Array;
  readonly excursionCases: Float64Array;
  /** Per detector: index of the first case since its last (re)start. */
  readonly runStart: Float64Array;
  /** Scratch: the current case's value per signal (normal score or indicator). */
  readonly scratch: Float64Array;
  /** The embedding detector's state, and per window slot the case index and time of its summary (−1 / NaN: a reference row). */
  readonly embedding?: EmbeddingDetectorState;
}

export interface EmbeddingDetectorState {
  readonly mmd: OnlineMmdState;
  readonly windowCases: number[];
  readonly windowTimes: number[];
}

export function createEmbeddingDetectorState(plan: EmbeddingDetectorPlan): EmbeddingDetectorState {
  const w = plan.mmd.windowSize;
  return { mmd: createOnlineMmdState(plan.mmd), windowCases: new Array<number>(w).fill(-1), windowTimes: new Array<number>(w).fill(Number.NaN) };
}

export function createMonitorState(plan: MonitorPlan): MonitorState {
  const k = plan.detectors.length;
  return {
    ...(plan.embedding === undefined ? {} : { embedding: createEmbeddingDetectorState(plan.embedding) }),
    cases: 0,
    statistic: new Float64Array(k),
    excursionStart: new Float64Array(k).fill(-1),
    excursionStartTime: new Float64Array(k).fill(Number.NaN),
    excursionSum: new Float64Array(k),
    excursionCases: new Float64Array(k),
    runStart: new Float64Array(k),
    scratch: new Float64Array(plan.signals.length),
  };
}

/**
 * Feeds one case (its value per signal, in `plan.signals` order; NaN = none; and its embedding summary,
 * null when it has none) to every detector and returns the alarms it raised (usually none). A detector
 * that alarms restarts. `time`: the case's time in ms, carried into alerts.
 */
export function updateMonitors(
  plan: MonitorPlan,
  state: MonitorState,
  values: ArrayLike<number>,
  time: number = Number.NaN,
  embedding: ArrayLike<number> | null = null,
): MonitorAlert[] {
  const { scratch } = state;
  for (let s = 0; s < plan.signals.length; s++) {
    const v = values[s]!;
    const scorer = plan.scorers[s]!;
    scratch[s] = scorer === null ? v : normalScore(scorer, v);
  }
  return stepEmbedding(plan, state, stepDetectors(plan, coefficientsOf(plan), state, scratch, time), embedding, time);
}

/**
 * The embedding detector's step for the case just stepped through the CUSUMs (index state.cases − 1),
 * when the plan has one and the case has a summary; its alert joins the CUSUMs'.
 */
function stepEmbedding(plan: MonitorPlan, state: MonitorState, alerts: MonitorAlert[], summary: ArrayLike<number> | null, time: number): MonitorAlert[] {
  const det = plan.embedding;
  const es = state.embedding;
  // A summary of another size (not made with this plan's projection) is skipped like a missing one, rather than stopping every later update.
  if (det === undefined || es === undefined || summary === null || summary.length !== det.mmd.dimension) return alerts;
  const index = state.cases - 1;
  const W = det.mmd.windowSize;
  const slot = es.mmd.next;
  es.windowCases[slot] = index;
  es.windowTimes[slot] = time;
  const step = updateOnlineMmd(det.mmd, es.mmd, summary);
  if (!step.alarm) return alerts;
  // The window before the restart: W cases once full (oldest in the slot after this one), else the t
  // cases since the (re)start, written from slot 0.
  const oldest = step.t >= W ? (slot + 1) % W : 0;
  const startTime = es.windowTimes[oldest]!;
  const alert: MonitorAlert = {
    detector: det.id,
    signal: det.signal,
    label: det.label,
    direction: 'up',
    alarmCase: index,
    windowStartCase: es.windowCases[oldest]!,
    windowStartTime: Number.isNaN(startTime) ? null : startTime,
    alarmTime: Number.isNaN(time) ? null : time,
    runLength: step.t,
    statistic: step.statistic,
    threshold: step.threshold,
    arl0: det.mmd.ert,
    effect: { kind: 'embedding-mmd', value: step.statistic, cases: Math.min(step.t, W), windowSize: W },
    contributors: nearestDetectors(plan, state, -1),
  };
  es.windowCases.fill(-1);
  es.windowTimes.fill(Number.NaN);
  return [...alerts, alert];
}

/** The detectors most advanced towards their thresholds (statistic / h), at most 3, highest first, `except` (an index, or −1) left out; the embedding detector among them. */
function nearestDetectors(plan: MonitorPlan, state: MonitorState, except: number): MonitorAlert['contributors'] {
  const all = plan.detectors.map((other, i) => ({ detector: other.id, label: other.label, fractionOfThreshold: state.statistic[i]! / other.h, i }));
  const det = plan.embedding;
  const es = state.embedding;
  if (det !== undefined && es !== undefined && except !== -1) {
    all.push({ detector: det.id, label: det.label, fractionOfThreshold: es.mmd.statistic / onlineMmdThreshold(det.mmd, es.mmd.t), i: -1 });
  }
  return all
    .filter((c) => (except === -1 ? true : c.i !== except) && c.fractionOfThreshold > 0)
    .sort((a, b) => b.fractionOfThreshold - a.fractionOfThreshold)
    .slice(0, 3)
    .map(({ i: _i, ...c }) => c);
}

/** Per detector, the constants of its increment, in flat arrays for the per-case loop. */
interface DetectorCoefficients {
  readonly signalIndex: Int32Array;
  /** Continuous: increment = sign·z − k. Indicator: sign = NaN, increment = one or zero. */
  readonly sign: Float64Array;
  readonly k: Float64Array;
  readonly one: Float64Array;
  readonly zero: Float64Array;
  /** The statistic counts as 0 at or below this (0; half a lattice step for an indicator). */
  readonly floor: Float64Array;
  readonly h: Float64Array;
}
const COEFFICIENTS = new WeakMap<MonitorPlan, DetectorCoefficients>();
function coefficientsOf(plan: MonitorPlan): DetectorCoefficients {
  let c = COEFFICIENTS.get(plan);
  if (c === undefined) {
    const ds = plan.detectors;
    c = {
      signalIndex: Int32Array.from(ds, (d) => d.signalIndex),
      sign: Float64Array.from(ds, (d) => (d.kind === 'continuous' ? (d.direction === 'up' ? 1 : -1) : Number.NaN)),
      k: Float64Array.from(ds, (d) => (d.kind === 'continuous' ? d.k : 0)),
      one: Float64Array.from(ds, (d) => (d.kind === 'indicator' ? d.incrementOne : 0)),
      zero: Float64Array.from(ds, (d) => (d.kind === 'indicator' ? d.incrementZero : 0)),
      floor: Float64Array.from(ds, (d) => (d.kind === 'indicator' ? d.step / 2 : 0)),
      h: Float64Array.from(ds, (d) => d.h),
    };
    COEFFICIENTS.set(plan, c);
  }
  return c;
}

/** One case, its signals already standardized (normal scores; indicators as they are), through every detector. */
function stepDetectors(plan: MonitorPlan, c: DetectorCoefficients, state: MonitorState, z: ArrayLike<number>, time: number): MonitorAlert[] {
  const index = state.cases++;
  const { statistic, excursionStart, excursionStartTime, excursionSum, excursionCases } = state;
  let alarmed: number[] | undefined;
  const count = statistic.length;
  for (let d = 0; d < count; d++) {
    const x = z[c.signalIndex[d]!]!;
    if (x !== x) continue; // NaN: the case has no value for this signal
    const sign = c.sign[d]!;
    const increment = sign === sign ? sign * x - c.k[d]! : x !== 0 ? c.one[d]! : c.zero[d]!;
    const next = statistic[d]! + increment;
    if (next > c.floor[d]!) {
      if (excursionStart[d]! < 0) {
        excursionStart[d] = index;
        excursionStartTime[d] = time;
        excursionSum[d] = 0;
        excursionCases[d] = 0;
      }
      statistic[d] = next;
      excursionSum[d]! += x;
      excursionCases[d]! += 1;
      if (next >= c.h[d]!) (alarmed ??= []).push(d);
    } else {
      statistic[d] = 0;
      excursionStart[d] = -1;
    }
  }
  if (alarmed === undefined) return NO_ALERTS;
  // Every alert reads the others' state before the detectors that alarmed restart.
  const alerts = alarmed.map((d) => describeAlarm(plan, state, d, index, time));
  for (const d of alarmed) {
    statistic[d] = 0;
    excursionStart[d] = -1;
    state.runStart[d] = index + 1;
  }
  return alerts;
}

const NO_ALERTS: MonitorAlert[] = [];

function describeAlarm(plan: MonitorPlan, state: MonitorState, d: number, index: number, time: number): MonitorAlert {
  const det = plan.detectors[d]!;
  const cases = state.excursionCases[d]!;
  const mean = state.excursionSum[d]! / cases;
  const contributors = nearestDetectors(plan, state, d);
  const startTime = state.excursionStartTime[d]!;
  return {
    detector: det.id,
    signal: det.signal,
    label: det.label,
    direction: det.direction,
    alarmCase: index,
    windowStartCase: state.excursionStart[d]!,
    windowStartTime: Number.isNaN(startTime) ? null : startTime,
    alarmTime: Number.isNaN(time) ? null : time,
    runLength: index - state.runStart[d]! + 1,
    statistic: state.statistic[d]!,
    threshold: det.h,
    arl0: det.arl0,
    effect: det.kind === 'continuous' ? { kind: 'mean-normal-score', value: mean, cases } : { kind: 'rate', observed: mean, reference: det.p0, cases },
    contributors,
  };
}

/**
 * Recomputes a plan's detectors over stored per-case values (one column per signal, in
 * `plan.signals` order, all of one length; `times` optional): the same updates as feeding the cases
 * one by one, so the result equals the incremental state. Returns the final state and every alert.
 */
export function recomputeMonitors(
  plan: MonitorPlan,
  columns: readonly ArrayLike<number>[],
  times?: ArrayLike<number>,
  embeddings?: readonly (ArrayLike<number> | null)[],
): { readonly state: MonitorState; readonly alerts: MonitorAlert[] } {
  if (columns.length !== plan.signals.length) throw new RangeError(`expected ${plan.signals.length} columns, got ${columns.length}`);
  const n = columns[0]?.length ?? 0;
  if (columns.some((c) => c.length !== n)) throw new RangeError('all columns must have the same length');
  // Standardize each column in one tight pass, then step the detectors case by case: the same
  // arithmetic as updateMonitors, so the result is identical, at a fraction of the cost.
  const standardized = columns.map((column, s) => {
    const scorer = plan.scorers[s]!;
    if (scorer === null) return column;
    const out = new Float64Array(n);
    for (let t = 0; t < n; t++) out[t] = normalScore(scorer, column[t]!);
    return out;
  });
  const state = createMonitorState(plan);
  const row = new Float64Array(columns.length);
  const alerts: MonitorAlert[] = [];
  const coefficients = coefficientsOf(plan);
  for (let t = 0; t < n; t++) {
    for (let s = 0; s < standardized.length; s++) row[s] = standardized[s]![t]!;
    const time = times === undefined ? Number.NaN : times[t]!;
    const raised = stepEmbedding(plan, state, stepDetectors(plan, coefficients, state, row, time), embeddings?.[t] ?? null, time);
    if (raised.length > 0) alerts.push(...raised);
  }
  return { state, alerts };
}
