/* eslint-disable @typescript-eslint/require-await -- better-sqlite3 is synchronous; the methods are async because the port is. */
import { randomUUID } from 'node:crypto';
import type { ReviewRead } from '../../domain/review/worklist.js';
import type { Clock } from '../../ports/clock.js';
import type { WorklistPriority } from '../../domain/review/worklist.js';
import type { NewWorklistItem, ReviewRecord, WorklistFilter, WorklistItem, WorklistPage, WorklistQuery, WorklistStore } from '../../ports/worklist-store.js';
import { ITEM_INSERT_COLUMNS, itemValues, nextCursor, priorityCounts, toItem, worklistWhere, type ItemRow } from '../store-common/worklist-item-row.js';
import type { SqliteDatabase } from './open-sqlite.js';

interface ReviewRow {
  review_id: string;
  item_id: string;
  case_id: string;
  study_key: string;
  reviewer_id: string;
  finding_present: number | null;
  quality_adequate: number;
  agrees_with_model: number | null;
  comment: string;
  created_at_ms: number;
}

const bool = (value: number | null): boolean | null => (value === null ? null : value === 1);
const bit = (value: boolean | null): number | null => (value === null ? null : value ? 1 : 0);

const toReview = (row: ReviewRow): ReviewRecord => ({
  reviewId: row.review_id,
  itemId: row.item_id,
  caseId: row.case_id,
  studyKey: row.study_key,
  reviewerId: row.reviewer_id,
  read: {
    findingPresent: bool(row.finding_present),
    imageQualityAdequate: row.quality_adequate === 1,
    agreesWithModel: bool(row.agrees_with_model),
    comment: row.comment,
  },
  createdAt: new Date(row.created_at_ms).toISOString(),
});

const REVIEW_SELECT = `SELECT r.*, w.case_id, w.study_key FROM reviews r JOIN worklist_items w ON w.item_id = r.item_id`;

export class SqliteWorklistStore implements WorklistStore {
  constructor(
    private readonly db: SqliteDatabase,
    private readonly clock: Clock,
  ) {}

  async addItems(items: readonly NewWorklistItem[]): Promise<number> {
    const insert = this.db.prepare(
      `INSERT INTO worklist_items (${ITEM_INSERT_COLUMNS.join(', ')}, state, created_at_ms)
       VALUES (${ITEM_INSERT_COLUMNS.map(() => '?').join(', ')}, 'open', ?)
       ON CONFLICT (item_id) DO NOTHING`,
    );
    const now = this.clock.now().getTime();
    return this.db.transaction(() => items.reduce((added, i) => added + insert.run(...itemValues(i), now).changes, 0))();
  }

  async list(query: WorklistQuery): Promise<WorklistPage> {
    const values: (string | number)[] = [];
    const where = worklistWhere(query, query.after, (v) => (values.push(v), '?'), 'item_id');
    const rows = this.db
      .prepare<(string | number)[], ItemRow>(`SELECT * FROM worklist_items WHERE ${where} ORDER BY priority_rank, created_at_ms, item_id LIMIT ?`)
      .all(...values, query.limit);
    const next = nextCursor(rows, query.limit);
    return { items: rows.map(toItem), ...(next === undefined ? {} : { next }) };
  }

  async countByPriority(filter: WorklistFilter): Promise<Readonly<Record<WorklistPriority, number>>> {
    const values: (string | number)[] = [];
    const { priority: _ignored, ...rest } = filter;
    const where = worklistWhere(rest, undefined, (v) => (values.push(v), '?'), 'item_id');
    return priorityCounts(
      this.db
        .prepare<(string | number)[], { priority_rank: number; n: number }>(
          `SELECT priority_rank, COUNT(*) AS n FROM worklist_items WHERE ${where} GROUP BY priority_rank`,
        )
        .all(...values),
    );
  }

  async get(itemId: string): Promise<WorklistItem | undefined> {
    const row = this.db.prepare<[string], ItemRow>('SELECT * FROM worklist_items WHERE item_id = ?').get(itemId);
    return row === undefined ? undefined : toItem(row);
  }

  async listForCase(caseId: string): Promise<WorklistItem[]> {
    return this.db.prepare<[string], ItemRow>('SELECT * FROM worklist_items WHERE case_id = ? ORDER BY result_index, item_id').all(caseId).map(toItem);
  }

  async closeSuperseded(caseId: string): Promise<number> {
    return this.db.prepare(`UPDATE worklist_items SET state = 'superseded' WHERE case_id = ? AND state = 'open'`).run(caseId).changes;
  }

  async recordReview(itemId: string, reviewerId: string, read: ReviewRead): Promise<ReviewRecord | undefined> {
    const reviewId = `r-${randomUUID()}`;
    const recorded = this.db
      .transaction(() => {
        const closed = this.db.prepare(`UPDATE worklist_items SET state = 'reviewed' WHERE item_id = ? AND state = 'open'`).run(itemId).changes === 1;
        if (!closed) return false;
        this.db
          .prepare(
            `INSERT INTO reviews (review_id, item_id, reviewer_id, finding_present, quality_adequate, agrees_with_model, comment, created_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
          )
          .run(
            reviewId,
            itemId,
            reviewerId,
            bit(read.findingPresent),
            read.imageQualityAdequate ? 1 : 0,
            bit(read.agreesWithModel),
            read.comment,
            this.clock.now().getTime(),
          );
        return true;
      })
      .immediate();
    if (!recorded) return undefined;
    return toReview(this.db.prepare<[string], ReviewRow>(`${REVIEW_SELECT} WHERE r.review_id = ?`).get(reviewId) as ReviewRow);
  }

  async listReviews(limit: number): Promise<ReviewRecord[]> {
    return this.db.prepare<[number], ReviewRow>(`${REVIEW_SELECT} ORDER BY r.created_at_ms DESC LIMIT ?`).all(limit).map(toReview);
  }

  async reviewsForCase(caseId: string): Promise<ReviewRecord[]> {
    return this.db.prepare<[string], ReviewRow>(`${REVIEW_SELECT} WHERE w.case_id = ? ORDER BY r.created_at_ms, r.review_id`).all(caseId).map(toReview);
  }
}
