import type { ModelIdentity } from '../../domain/audit/audit-event.js';
import type { CaseRecord } from '../../ports/case-store.js';
import type { StudyQuery, StudyRecord, StudyState } from '../../ports/study-registry.js';

// Shared by store-sqlite and store-postgres: both keep the studies and cases tables with the same columns and types.
// Type aliases, not interfaces, so that they meet pg's `QueryResultRow` index signature.

/** A row of `studies`. */
export type StudyRow = {
  study_key: string;
  study_uid: string;
  instances: number;
  first_received_at_ms: number;
  last_received_at_ms: number;
  /** When the study's quiet period started: its last arrival, or a later server start (ports/study-registry.ts). */
  quiet_from_ms: number;
  state: StudyState;
  study_date: string | null;
  site: string | null;
  /** The study's modalities joined by a backslash (DICOM's value separator), from `study_modalities`; null when none. */
  modalities: string | null;
};

export const toStudy = (row: StudyRow): StudyRecord => ({
  studyKey: row.study_key,
  studyUid: row.study_uid,
  instances: row.instances,
  firstReceivedAt: new Date(row.first_received_at_ms).toISOString(),
  lastReceivedAt: new Date(row.last_received_at_ms).toISOString(),
  state: row.state,
  studyDate: row.study_date,
  site: row.site ?? null,
  modalities: row.modalities === null || row.modalities === '' ? [] : row.modalities.split('\\').sort(),
});

/** Query parameters of a StudyQuery, in the order both stores' SQL uses them (`?` or `$n`). */
export function studyQueryFilters(query: StudyQuery): { readonly clauses: readonly StudyFilter[]; readonly values: readonly string[] } {
  const clauses: StudyFilter[] = [];
  const values: string[] = [];
  const add = (clause: StudyFilter, value: string | undefined): void => {
    if (value === undefined) return;
    clauses.push(clause);
    values.push(value);
  };
  add('study_key', query.studyKey);
  add('accession', query.accessionKey);
  add('sender', query.sentBy);
  add('date_from', query.studyDateFrom);
  add('date_to', query.studyDateTo);
  add('modality', query.modality);
  return { clauses, values };
}

/** One filter of a study search; each store spells it in its SQL with one parameter. */
export type StudyFilter = 'study_key' | 'accession' | 'sender' | 'date_from' | 'date_to' | 'modality';

/**
 * The SQL of a filter with the placeholder `param` (both stores: the same tables and columns). `IN
 * (subquery)` rather than a correlated EXISTS: both planners then start from the lookup table's index
 * (one accession key, one sender's studies) instead of testing every study.
 */
export function studyFilterSql(filter: StudyFilter, param: string): string {
  switch (filter) {
    case 'study_key':
      return `s.study_key = ${param}`;
    case 'accession':
      return `s.study_key IN (SELECT a.study_key FROM study_accessions a WHERE a.accession_key = ${param})`;
    case 'sender':
      return `s.study_key IN (SELECT u.study_key FROM study_senders u WHERE u.user_id = ${param})`;
    case 'date_from':
      return `s.study_date >= ${param}`;
    case 'date_to':
      return `s.study_date <= ${param}`;
    case 'modality':
      return `s.study_key IN (SELECT m.study_key FROM study_modalities m WHERE m.modality = ${param})`;
  }
}

/** A row of `cases`; `model` and `results` are JSON text. */
export type CaseRow = {
  case_id: string;
  study_key: string;
  model: string;
  instances: number;
  created_at_ms: number;
  results: string;
  supersedes: string | null;
  superseded_by: string | null;
};

export const toCase = (row: CaseRow): CaseRecord => ({
  caseId: row.case_id,
  studyKey: row.study_key,
  model: JSON.parse(row.model) as ModelIdentity,
  instances: row.instances,
  createdAt: new Date(row.created_at_ms).toISOString(),
  results: JSON.parse(row.results) as unknown[],
  supersedes: row.supersedes,
  supersededBy: row.superseded_by,
});

/**
 * How a new case of a study relates to the study's current case (the one not superseded), the same
 * rule in both stores: it supersedes the current case, unless that one judged more instances (the new
 * case is the late result of a smaller, earlier state of the study, and is saved already superseded).
 */
export function linkNewCase(
  current: { readonly case_id: string; readonly instances: number } | undefined,
  instances: number,
): { readonly supersedes: string | null; readonly supersededBy: string | null } {
  if (current === undefined) return { supersedes: null, supersededBy: null };
  return current.instances > instances ? { supersedes: null, supersededBy: current.case_id } : { supersedes: current.case_id, supersededBy: null };
}
