import type { ModelIdentity } from '../domain/audit/audit-event.js';

/** A study judged by one model version: the results of one inference job. */
export interface CaseRecord<Result = unknown> {
  /** The job's dedupe key: one case per (study, instance count, model). */
  readonly caseId: string;
  readonly studyKey: string;
  readonly model: ModelIdentity;
  readonly createdAt: string;
  readonly results: readonly Result[];
}

export interface CaseStore {
  /** Saves a case once: saving the same caseId again keeps the first (a re-run job duplicates nothing). */
  save(record: Omit<CaseRecord, 'createdAt'>): Promise<'saved' | 'exists'>;
  get(caseId: string): Promise<CaseRecord | undefined>;
  listForStudy(studyKey: string): Promise<readonly CaseRecord[]>;
  list(limit: number): Promise<readonly CaseRecord[]>;
}
