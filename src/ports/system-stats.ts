import type { JobState } from '../domain/jobs/job.js';

export interface DecisionCounts {
  /** Images judged (decision entries), decided or refused by the gate. */
  readonly images: number;
  /** Images the gate refused (not sent to the model). */
  readonly gateRejected: number;
  /** Per gate verdict: pass, warn, reject. */
  readonly byGateVerdict: Readonly<Record<string, number>>;
  /** Per finding output: positive, negative, refer. */
  readonly byDecision: Readonly<Record<string, number>>;
}

/** Counts for the health page, read from the store. */
export interface SystemStats {
  jobsByKind(): Promise<readonly { readonly kind: string; readonly state: JobState; readonly count: number }[]>;
  /** Decisions recorded in the audit log at or after `sinceIso`. */
  decisionsSince(sinceIso: string): Promise<DecisionCounts>;
  /** For each case created at or after `sinceMs`: milliseconds from its study's last received instance to the case. */
  resultLatenciesSince(sinceMs: number): Promise<readonly number[]>;
}
