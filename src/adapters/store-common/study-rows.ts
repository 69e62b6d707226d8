import type { ModelIdentity } from '../../domain/audit/audit-event.js';
import type { CaseRecord } from '../../ports/case-store.js';
import type { StudyRecord, StudyState } from '../../ports/study-registry.js';

// Shared by store-sqlite and store-postgres: both keep the studies and cases tables with the same columns and types.
// Type aliases, not interfaces, so that they meet pg's `QueryResultRow` index signature.

/** A row of `studies`. */
export type StudyRow = {
  study_key: string;
  study_uid: string;
  instances: number;
  first_received_at_ms: number;
  last_received_at_ms: number;
  state: StudyState;
};

export const toStudy = (row: StudyRow): StudyRecord => ({
  studyKey: row.study_key,
  studyUid: row.study_uid,
  instances: row.instances,
  firstReceivedAt: new Date(row.first_received_at_ms).toISOString(),
  lastReceivedAt: new Date(row.last_received_at_ms).toISOString(),
  state: row.state,
});

/** A row of `cases`; `model` and `results` are JSON text. */
export type CaseRow = {
  case_id: string;
  study_key: string;
  model: string;
  created_at_ms: number;
  results: string;
};

export const toCase = (row: CaseRow): CaseRecord => ({
  caseId: row.case_id,
  studyKey: row.study_key,
  model: JSON.parse(row.model) as ModelIdentity,
  createdAt: new Date(row.created_at_ms).toISOString(),
  results: JSON.parse(row.results) as unknown[],
});
