import type { JobState } from '../domain/jobs/job.js';

/**
 * Images a server judged (decision entries with origin `server`, or none: entries written before the
 * origin was recorded). Images judged by `vigil predict` on the same data folder are counted apart, in
 * `commandLineImages`, so command-line experiments do not read as clinical volume.
 */
export interface DecisionCounts {
  /** Images judged (decision entries), decided or refused by the gate. */
  readonly images: number;
  /** Images judged by `vigil predict` (origin `cli`) in the same period; in none of the other counts. */
  readonly commandLineImages: number;
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
  /** Decisions recorded in the audit log at or after `sinceIso` (a server's; `vigil predict`'s apart). */
  decisionsSince(sinceIso: string): Promise<DecisionCounts>;
  /** For each case created at or after `sinceMs`: milliseconds from its study's last received instance to the case. */
  resultLatenciesSince(sinceMs: number): Promise<readonly number[]>;
}
