import type { WorklistReason } from '../../domain/review/worklist.js';
import type { WorklistItem, WorklistItemState } from '../../ports/worklist-store.js';

// Shared by store-sqlite and store-postgres: both keep the worklist_items table with the same columns and types.
// (Their review rows differ: SQLite stores the booleans as 0/1, PostgreSQL as boolean.)

/** A row of `worklist_items`. A type alias, not an interface, so that it meets pg's `QueryResultRow` index signature. */
export type ItemRow = {
  item_id: string;
  case_id: string;
  study_key: string;
  result_index: number;
  reasons: string;
  state: WorklistItemState;
  created_at_ms: number;
};

export const toItem = (row: ItemRow): WorklistItem => ({
  itemId: row.item_id,
  caseId: row.case_id,
  studyKey: row.study_key,
  resultIndex: row.result_index,
  reasons: JSON.parse(row.reasons) as WorklistReason[],
  state: row.state,
  createdAt: new Date(row.created_at_ms).toISOString(),
});
