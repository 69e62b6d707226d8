import { bernoulliCusumIncrements, calibrateLatticeThreshold, latticeCusumArl, latticeIncrements } from './cusum.js';
import type { IndicatorDetector, MonitorPlan, SignalSpec } from './deployment-monitors.js';
import { indicatorGuaranteedRate, type GuaranteeOptions } from './guaranteed-thresholds.js';
import { MONITOR_SIGNAL_NAMES, REVIEW_STRATA, reviewStratumOfValues, reviewWrongOf, type ReviewStratumName } from './case-signals.js';

/**
 * Detectors on reviews (issue 12 §1, "performance from reviews"): per sampling stratum — e.g. confident
 * positives and confident negatives, each reviewed at the sample rate — a Bernoulli CUSUM on "the
 * reviewed decision was wrong" (the reviewer's finding contradicts the decision), tuned to a rise of
 * the error rate by an odds ratio (default 2) over p₀, the stratum's error rate on the model version's
 * reference (its validation labels; Jeffreys-smoothed (x + ½)/(n + 1), as the label-free indicators).
 * The damage a source shift does is often label-conditional (on PneumoniaMNIST's test split the demo
 * model's specificity falls from 0.93 to 0.61 while every label-free marginal barely moves), and a
 * review sees it directly: a wrong confident positive is a false positive.
 *
 * Controlled together with the label-free detectors: the deployment's budget of one false alarm per
 * T = falseAlarmDays × casesPerDay cases is split by Bonferroni over all K detectors (design the
 * label-free plan with `familyDetectors: K`), so each detector may raise 1/(K·T) false alarms per
 * case. A review detector sees, per case, on average `sampleRate × share` reviews (share: the
 * stratum's fraction of cases), so its threshold is calibrated, in reviewed-case units, to an ARL of
 * K·T·sampleRate·share reviews: the same rate per case. Its `arl0` is stated in cases, as every
 * detector's; `reviewArl0` in reviews.
 *
 * Reviews enter the plan as extra indicator signals (1 wrong, 0 right, NaN for a case not reviewed
 * or outside the stratum), so `updateMonitors` / `recomputeMonitors` run them unchanged. A review
 * arriving days after its case is fed when it arrives; the ARL counts reviews, not days.
 */
export interface ReviewStratum {
  /** Signal name, e.g. 'reviewWrong:confidentPositive'. */
  readonly name: string;
  /** How an alert names it. */
  readonly label: string;
  /** Reference cases in the stratum, and of them those whose decision the label contradicts. */
  readonly referenceCases: number;
  readonly referenceWrong: number;
  /** The stratum's share of all cases (reference: its cases / all reference cases), in (0, 1]. */
  readonly share: number;
}

export interface ReviewMonitorDesign {
  readonly falseAlarmDays: number;
  readonly casesPerDay: number;
  /** The rate at which this stratum's cases are reviewed (the worklist's sample rate for confident decisions). */
  readonly sampleRate: number;
  /** K: all detectors sharing the deployment's budget (label-free + review). */
  readonly familyDetectors: number;
  /** Odds ratio of the rise in the error rate the chart is tuned to. Default 2. */
  readonly oddsRatio?: number;
  /** As MonitorDesign.guarantee: thresholds allowing for p₀ being estimated from the reference. */
  readonly guarantee?: GuaranteeOptions;
}

export interface ReviewDetector extends IndicatorDetector {
  /** The in-control ARL in reviewed cases of this stratum. */
  readonly reviewArl0: number;
  /** Expected reviews of this stratum per case: sampleRate × share. */
  readonly reviewsPerCase: number;
}

export interface ReviewMonitors {
  readonly signals: readonly SignalSpec[];
  readonly detectors: readonly ReviewDetector[];
}

/** Counts a stratum on the reference: `inStratum[i]` (0/1) and `wrong[i]` (0/1) per reference case. */
export function reviewStratumOf(name: string, label: string, inStratum: ArrayLike<number>, wrong: ArrayLike<number>): ReviewStratum {
  let cases = 0;
  let errors = 0;
  for (let i = 0; i < inStratum.length; i++) {
    if (inStratum[i] !== 1) continue;
    cases++;
    if (wrong[i] === 1) errors++;
  }
  if (cases === 0) throw new RangeError(`the reference has no case in review stratum "${name}"`);
  return { name, label, referenceCases: cases, referenceWrong: errors, share: cases / inStratum.length };
}

/** Designs one upward Bernoulli CUSUM per stratum (signal index: position in `strata`; `withReviewMonitors` offsets it). */
export function designReviewMonitors(strata: readonly ReviewStratum[], design: ReviewMonitorDesign): ReviewMonitors {
  if (!(design.sampleRate > 0 && design.sampleRate <= 1)) throw new RangeError('the sample rate must lie in (0, 1]');
  if (!(design.falseAlarmDays > 0) || !(design.casesPerDay > 0) || !(design.familyDetectors >= strata.length)) {
    throw new RangeError('falseAlarmDays, casesPerDay must be positive and familyDetectors count at least the review detectors');
  }
  const oddsRatio = design.oddsRatio ?? 2;
  const caseArl0 = design.familyDetectors * design.falseAlarmDays * design.casesPerDay;
  const signals: SignalSpec[] = strata.map((s) => ({ name: s.name, label: s.label, kind: 'indicator', directions: ['up'] }));
  const detectors = strata.map((s, signalIndex): ReviewDetector => {
    const reviewsPerCase = design.sampleRate * s.share;
    const targetReviews = Math.max(2, caseArl0 * reviewsPerCase);
    const p0 = (s.referenceWrong + 0.5) / (s.referenceCases + 1);
    // With a guarantee, designed at a bootstrap upper bound of the error rate (guaranteed-thresholds.ts).
    const g = design.guarantee;
    const pDesign =
      g === undefined ? p0 : indicatorGuaranteedRate(s.referenceWrong, s.referenceCases, true, { ...g, seed: g.seed + 104_729 * (signalIndex + 1) });
    const { p1, one, zero } = bernoulliCusumIncrements(pDesign, oddsRatio);
    const lattice = latticeIncrements(one, zero);
    const { states, arl: arlAtDesign } = calibrateLatticeThreshold(lattice, pDesign, targetReviews);
    const arl = pDesign === p0 ? arlAtDesign : latticeCusumArl(lattice, p0, states);
    return {
      kind: 'indicator',
      id: `${s.name}:up`,
      signal: s.name,
      signalIndex,
      label: s.label,
      direction: 'up',
      p0,
      p1,
      incrementOne: lattice.up * lattice.step,
      incrementZero: -lattice.down * lattice.step,
      step: lattice.step,
      // Half a step below states·u, as deployment-monitors.ts does: the float sum compares as the integer state.
      h: (states - 0.5) * lattice.step,
      arl0: arl / reviewsPerCase,
      reviewArl0: arl,
      reviewsPerCase,
    };
  });
  return { signals, detectors };
}

/**
 * One plan running the label-free detectors and the review detectors together: the review signals
 * follow the plan's (a case's values: the plan's signals, then one per stratum), so `updateMonitors`
 * and `recomputeMonitors` run both. Design `plan` with `familyDetectors` counting both.
 */
export function withReviewMonitors(plan: MonitorPlan, review: ReviewMonitors): MonitorPlan {
  const offset = plan.signals.length;
  const total = plan.detectors.length + review.detectors.length;
  if ((plan.design.familyDetectors ?? plan.detectors.length) < total) {
    throw new RangeError(
      `the label-free plan was designed for ${plan.design.familyDetectors ?? plan.detectors.length} detectors; with the review detectors there are ${total}`,
    );
  }
  return {
    ...plan,
    signals: [...plan.signals, ...review.signals],
    scorers: [...plan.scorers, ...review.signals.map(() => null)],
    detectors: [...plan.detectors, ...review.detectors.map((d) => ({ ...d, signalIndex: d.signalIndex + offset }))],
  };
}

/**
 * The review strata of a labelled reference (REVIEW_STRATA): per stratum, its cases (by the reference's
 * stored signal columns, as a production image's stratum is found: `reviewStratumOfValues`) and those
 * whose label contradicts the decision. `labels[i]`: 1 finding present, 0 absent, NaN unknown (a case
 * without a label counts in the share but not in the error rate). A stratum with no case is left out.
 */
export function reviewStrataOfReference(columns: ReadonlyMap<string, ArrayLike<number>>, labels: ArrayLike<number>): ReviewStratum[] {
  const n = labels.length;
  const row = new Float64Array(MONITOR_SIGNAL_NAMES.length);
  const counts = new Map<ReviewStratumName, { cases: number; labelled: number; wrong: number }>(
    REVIEW_STRATA.map((s) => [s.name, { cases: 0, labelled: 0, wrong: 0 }]),
  );
  for (let i = 0; i < n; i++) {
    MONITOR_SIGNAL_NAMES.forEach((name, s) => (row[s] = columns.get(name)?.[i] ?? Number.NaN));
    const stratum = reviewStratumOfValues(row);
    if (stratum === null) continue;
    const c = counts.get(stratum)!;
    c.cases++;
    const label = labels[i]!;
    if (label !== 0 && label !== 1) continue;
    c.labelled++;
    c.wrong += reviewWrongOf(stratum, label === 1);
  }
  return REVIEW_STRATA.flatMap((s) => {
    const c = counts.get(s.name)!;
    return c.labelled === 0 ? [] : [{ name: s.name, label: s.label, referenceCases: c.labelled, referenceWrong: c.wrong, share: c.cases / n }];
  });
}

/**
 * The review strata from a manifest's recorded validation metrics (`metrics.val`: `n`, and `notReferred`'s
 * confusion counts tp/fp/tn/fn), for a version whose bundle carries no labelled monitoring reference (the
 * demo bundle): confident positives = tp + fp (wrong: fp), confident negatives = tn + fn (wrong: fn), shares
 * over `n`. An approximation: "not referred" there still counts gate-warned images, which the worklist
 * sends to review by rule (on the demo's val split 392 and 127 such cases against 377 and 119 without the
 * warned ones; errors 7 and 3 either way). Undefined when the metrics do not say.
 */
export function reviewStrataOfValidationMetrics(metrics: unknown): ReviewStratum[] | undefined {
  const val = (metrics as { val?: { n?: unknown; notReferred?: Record<string, unknown> } } | null | undefined)?.val;
  const count = (v: unknown): number | undefined => (typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : undefined);
  const n = count(val?.n);
  const c = val?.notReferred;
  const [tp, fp, tn, fn] = [count(c?.tp), count(c?.fp), count(c?.tn), count(c?.fn)];
  if (n === undefined || tp === undefined || fp === undefined || tn === undefined || fn === undefined || tp + fp + tn + fn > n || n === 0) return undefined;
  const [positive, negative] = REVIEW_STRATA;
  const strata: ReviewStratum[] = [];
  if (tp + fp > 0) strata.push({ name: positive.name, label: positive.label, referenceCases: tp + fp, referenceWrong: fp, share: (tp + fp) / n });
  if (tn + fn > 0) strata.push({ name: negative.name, label: negative.label, referenceCases: tn + fn, referenceWrong: fn, share: (tn + fn) / n });
  return strata.length === 0 ? undefined : strata;
}
