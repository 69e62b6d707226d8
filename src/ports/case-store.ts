import type { ModelIdentity } from '../domain/audit/audit-event.js';

/**
 * A study judged by one model version: the results of one inference job.
 *
 * A study has at most one current case. Judging it again (instances arrived after it was judged) makes
 * a new case that supersedes the current one: the two are linked both ways (`supersedes`,
 * `supersededBy`), so nobody reads two unrelated results for one study, and results already sent are
 * amended rather than contradicted (workflows/deliver-results.ts).
 */
export interface CaseRecord<Result = unknown> {
  /** The job's dedupe key: one case per (study, instance count, model). */
  readonly caseId: string;
  readonly studyKey: string;
  readonly model: ModelIdentity;
  /** How many instances the study had when it was judged (0 for a case saved before this was recorded). */
  readonly instances: number;
  readonly createdAt: string;
  readonly results: readonly Result[];
  /** The case of the same study this one replaced, if any. */
  readonly supersedes: string | null;
  /** The later case of the same study that replaced this one; null while this one is current. */
  readonly supersededBy: string | null;
}

export type NewCase = Omit<CaseRecord, 'createdAt' | 'supersedes' | 'supersededBy'>;

export interface CaseStore {
  /**
   * Saves a case once: saving the same caseId again keeps the first (a re-run job duplicates nothing)
   * and changes no link. A new case becomes its study's current case and supersedes the one that was,
   * in the same transaction; except when the current case judged more instances (a job for an earlier,
   * smaller state of the study finished late): then the new case is saved already superseded by it.
   * Read the saved record back (`get`) for its links.
   */
  save(record: NewCase): Promise<'saved' | 'exists'>;
  get(caseId: string): Promise<CaseRecord | undefined>;
  /** A study's cases, oldest first (the current one, if any, is the one not superseded). */
  listForStudy(studyKey: string): Promise<readonly CaseRecord[]>;
  list(limit: number): Promise<readonly CaseRecord[]>;
}
