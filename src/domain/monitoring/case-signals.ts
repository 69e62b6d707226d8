import type { FindingDecision } from '../decision/decide.js';
import { DEFAULT_SIGNALS, type SignalSpec } from './deployment-monitors.js';

/**
 * One judged image's monitor values, from what the inference chain computed while judging it (no
 * second decode): the gate's verdict and its image features, the noise estimate of the same analysis
 * image, the out-of-distribution distance, and the first finding's calibrated probability and decision.
 */
export interface ImageMeasures {
  readonly status: 'decided' | 'rejected';
  readonly gateVerdict: 'pass' | 'warn' | 'reject';
  /** The monitored finding (the manifest's first): absent for an image the gate rejected. */
  readonly probability?: number;
  readonly decision?: FindingDecision;
  readonly mean: number;
  readonly std: number;
  readonly laplacianVariance: number;
  readonly noise: number;
  readonly oodDistance: number;
  /** The model's embedding of a decided image (the manifest's `embedding` output), which monitoring summarises; absent when none. */
  readonly embedding?: Float32Array;
}

/** The names of DEFAULT_SIGNALS, in order: the columns every stored monitor case carries. */
export const MONITOR_SIGNAL_NAMES: readonly string[] = DEFAULT_SIGNALS.map((s) => s.name);

/**
 * The signal vector of one image, in `signals` order (NaN where it has none), as the monitoring proof
 * builds it from `vigil evaluate`'s scoring (scripts/monitoring-proof.mjs): an image the gate rejected
 * has no probability, decision or referral, and counts as rejected and not warned; a decided image's
 * `referred` is the policy's refer decision (which includes a gate warning the policy refers).
 *
 * @example signalVectorOf({ status: 'decided', gateVerdict: 'pass', probability: 0.8, decision: 'positive', mean: 0.5, std: 0.2, laplacianVariance: 0.01, noise: 0.003, oodDistance: 4 })
 */
export function signalVectorOf(m: ImageMeasures, signals: readonly SignalSpec[] = DEFAULT_SIGNALS): Float64Array {
  const rejected = m.status === 'rejected';
  const decided = !rejected && m.decision !== undefined;
  const value = (name: string): number => {
    switch (name) {
      case 'probability':
        return decided && m.probability !== undefined ? m.probability : Number.NaN;
      case 'positive':
        return decided ? (m.decision === 'positive' ? 1 : 0) : Number.NaN;
      case 'referred':
        return decided ? (m.decision === 'refer' ? 1 : 0) : Number.NaN;
      case 'gateRejected':
        return rejected ? 1 : 0;
      case 'gateWarned':
        return !rejected && m.gateVerdict === 'warn' ? 1 : 0;
      case 'mean':
        return m.mean;
      case 'std':
        return m.std;
      case 'laplacianVariance':
        return m.laplacianVariance;
      case 'noise':
        return m.noise;
      case 'oodDistance':
        return m.oodDistance;
      default:
        return Number.NaN;
    }
  };
  return Float64Array.from(signals, (s) => {
    const v = value(s.name);
    return Number.isFinite(v) ? v : Number.NaN;
  });
}

/**
 * The review strata (review-monitors.ts): confident decisions — decided, not referred, not gate-warned or
 * rejected — which the worklist samples for review at the sample rate, by decision. A review detector's
 * signal is "the reviewed decision was wrong": an output signal (it measures the model's errors).
 */
export const REVIEW_STRATA = [
  { name: 'reviewWrong:confidentPositive', label: 'confident positives reviewed wrong', decision: 'positive' },
  { name: 'reviewWrong:confidentNegative', label: 'confident negatives reviewed wrong', decision: 'negative' },
] as const;
export type ReviewStratumName = (typeof REVIEW_STRATA)[number]['name'];

/**
 * Which signals are the model's outputs (what it says about patients) rather than its inputs: an alarm
 * on one of these opens a high-severity incident; an alarm on inputs only (image statistics, gate
 * verdicts, distance from the training data) a medium one (docs/monitoring.md, "Incidents"). The review
 * detectors' signals are outputs: they count the model's reviewed errors.
 */
export const OUTPUT_SIGNALS: ReadonlySet<string> = new Set(['probability', 'positive', 'referred', ...REVIEW_STRATA.map((s) => s.name)]);

/**
 * The review stratum of an image from its stored signal vector (MONITOR_SIGNAL_NAMES order): a confident
 * positive or negative, or null (gate-rejected or warned, referred, not decided).
 */
export function reviewStratumOfValues(values: ArrayLike<number>): ReviewStratumName | null {
  const at = (name: string): number => values[MONITOR_SIGNAL_NAMES.indexOf(name)] ?? Number.NaN;
  if (at('gateRejected') !== 0 || at('gateWarned') !== 0 || at('referred') !== 0) return null;
  const positive = at('positive');
  return positive === 1 ? 'reviewWrong:confidentPositive' : positive === 0 ? 'reviewWrong:confidentNegative' : null;
}

/** 1 when the reviewer's finding contradicts the stratum's decision (the decision was wrong), else 0. */
export function reviewWrongOf(stratum: ReviewStratumName, findingPresent: boolean): 0 | 1 {
  return (stratum === 'reviewWrong:confidentPositive') === findingPresent ? 0 : 1;
}
