import { priorityRank, WORKLIST_PRIORITIES, worklistPriority, type WorklistPriority, type WorklistReason } from '../../domain/review/worklist.js';
import type { NewWorklistItem, WorklistCursor, WorklistFilter, WorklistItem, WorklistItemState } from '../../ports/worklist-store.js';

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
  created_at_ms: number | string;
  priority_rank: number;
  result_indexes: string;
  /** `|CR|CT|`: each modality between bars, so that one is found with LIKE '%|CT|%'; '' when none is known. */
  modalities: string;
  body_part: string | null;
  patient_age: string | null;
  site: string | null;
  device: string | null;
  probability: number | null;
  sampling_probability: number | null;
};

/** The columns an insert writes, in this order (after item_id, case_id, study_key, result_index, reasons). */
export const ITEM_INSERT_COLUMNS = [
  'item_id',
  'case_id',
  'study_key',
  'result_index',
  'reasons',
  'priority_rank',
  'result_indexes',
  'modalities',
  'body_part',
  'patient_age',
  'site',
  'device',
  'probability',
  'sampling_probability',
] as const;

/** An item's values for ITEM_INSERT_COLUMNS. */
export function itemValues(item: NewWorklistItem): (string | number | null)[] {
  return [
    item.itemId,
    item.caseId,
    item.studyKey,
    item.resultIndex,
    JSON.stringify(item.reasons),
    priorityRank(worklistPriority(item.reasons)),
    JSON.stringify(item.resultIndexes),
    item.modalities.length === 0 ? '' : `|${item.modalities.join('|')}|`,
    item.bodyPart,
    item.patientAgeYears,
    item.site,
    item.device,
    item.probability === null || Number.isFinite(item.probability) ? item.probability : null,
    item.samplingProbability,
  ];
}

export const toItem = (row: ItemRow): WorklistItem => {
  const reasons = JSON.parse(row.reasons) as WorklistReason[];
  return {
    itemId: row.item_id,
    caseId: row.case_id,
    studyKey: row.study_key,
    resultIndex: row.result_index,
    resultIndexes: JSON.parse(row.result_indexes) as number[],
    reasons,
    priority: WORKLIST_PRIORITIES[row.priority_rank] ?? worklistPriority(reasons),
    state: row.state,
    createdAt: new Date(Number(row.created_at_ms)).toISOString(),
    modalities: row.modalities.split('|').filter((m) => m !== ''),
    bodyPart: row.body_part,
    patientAgeYears: row.patient_age,
    site: row.site,
    device: row.device,
    probability: row.probability === null ? null : Number(row.probability),
    samplingProbability: row.sampling_probability === null ? null : Number(row.sampling_probability),
  };
};

/**
 * The WHERE clause for a filter (and a cursor), with `param` giving each value its placeholder (`?` in
 * SQLite, `$n` in PostgreSQL) and remembering it; `itemIdOrder` is how item ids compare (PostgreSQL
 * needs `COLLATE "C"` to order them as SQLite does, byte by byte).
 */
export function worklistWhere(
  filter: WorklistFilter,
  after: WorklistCursor | undefined,
  param: (value: string | number) => string,
  itemIdOrder: string,
): string {
  const conditions = [`state = ${param(filter.state ?? 'open')}`];
  if (filter.priority !== undefined) conditions.push(`priority_rank = ${param(priorityRank(filter.priority))}`);
  // The reason and modality are checked against fixed patterns before they get here (enum; [A-Z]+), so
  // they hold no LIKE wildcard.
  if (filter.reason !== undefined) conditions.push(`reasons LIKE ${param(`%"${filter.reason}"%`)}`);
  if (filter.modality !== undefined) conditions.push(`modalities LIKE ${param(`%|${filter.modality}|%`)}`);
  if (filter.site !== undefined) conditions.push(`site = ${param(filter.site)}`);
  if (filter.device !== undefined) conditions.push(`device = ${param(filter.device)}`);
  if (filter.fromMs !== undefined) conditions.push(`created_at_ms >= ${param(filter.fromMs)}`);
  if (filter.toMs !== undefined) conditions.push(`created_at_ms < ${param(filter.toMs)}`);
  if (after !== undefined) {
    conditions.push(`(priority_rank, created_at_ms, ${itemIdOrder}) > (${param(after.priorityRank)}, ${param(after.createdAtMs)}, ${param(after.itemId)})`);
  }
  return conditions.join(' AND ');
}

/** The cursor after a page's last row, when the page was full (more may follow). */
export function nextCursor(rows: readonly ItemRow[], limit: number): WorklistCursor | undefined {
  const last = rows[rows.length - 1];
  if (rows.length < limit || last === undefined) return undefined;
  return { priorityRank: last.priority_rank, createdAtMs: Number(last.created_at_ms), itemId: last.item_id };
}

/** Counts by rank as rows give them, with every priority present. */
export function priorityCounts(rows: readonly { priority_rank: number; n: number | string }[]): Record<WorklistPriority, number> {
  const counts = Object.fromEntries(WORKLIST_PRIORITIES.map((p) => [p, 0])) as Record<WorklistPriority, number>;
  for (const row of rows) {
    const priority = WORKLIST_PRIORITIES[row.priority_rank];
    if (priority !== undefined) counts[priority] += Number(row.n);
  }
  return counts;
}
