import type { DecisionPolicy } from '../model/model-manifest.js';
import type { GateVerdictKind } from '../quality/gate.js';

export type FindingDecision = 'positive' | 'negative' | 'refer';

export type DecisionReason = 'above_threshold' | 'below_threshold' | 'in_abstain_band' | 'gate_warned';

export interface Decision {
  readonly decision: FindingDecision;
  readonly reason: DecisionReason;
}

/**
 * Applies a finding's policy to its calibrated probability. A probability inside the abstain band
 * [low, high] goes to a human; so does every case the gate warned about when the policy says so.
 * Otherwise the threshold (chosen from the costs of a missed finding and a false alarm) decides.
 */
export function decideFinding(
  probability: number,
  policy: Pick<DecisionPolicy, 'threshold' | 'abstainBand' | 'onGateWarn'>,
  gate: Exclude<GateVerdictKind, 'reject'>,
): Decision {
  if (gate === 'warn' && policy.onGateWarn === 'refer') return { decision: 'refer', reason: 'gate_warned' };
  if (Number.isNaN(probability)) return { decision: 'refer', reason: 'in_abstain_band' };
  const { low, high } = policy.abstainBand;
  if (probability >= low && probability <= high && low < high) return { decision: 'refer', reason: 'in_abstain_band' };
  return probability >= policy.threshold ? { decision: 'positive', reason: 'above_threshold' } : { decision: 'negative', reason: 'below_threshold' };
}

/**
 * Bayes-optimal threshold on a calibrated probability for the given costs: decide positive when
 * p·C_FN ≥ (1 − p)·C_FP, i.e. p ≥ C_FP / (C_FP + C_FN).
 */
export function costOptimalThreshold(costFalseNegative: number, costFalsePositive: number): number {
  const total = costFalseNegative + costFalsePositive;
  return total === 0 ? 0.5 : costFalsePositive / total;
}
