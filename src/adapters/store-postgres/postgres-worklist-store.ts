import { randomUUID } from 'node:crypto';
import type { QueryResultRow } from 'pg';
import { PlatformError } from '../../domain/errors.js';
import type { ReviewRead } from '../../domain/review/worklist.js';
import type { Clock } from '../../ports/clock.js';
import type { WorklistPriority } from '../../domain/review/worklist.js';
import type { NewWorklistItem, ReviewRecord, WorklistFilter, WorklistItem, WorklistPage, WorklistQuery, WorklistStore } from '../../ports/worklist-store.js';
import { ITEM_INSERT_COLUMNS, itemValues, nextCursor, priorityCounts, toItem, worklistWhere, type ItemRow } from '../store-common/worklist-item-row.js';
import { inTransaction, type PostgresPool } from './open-postgres.js';

interface ReviewRow extends QueryResultRow {
  review_id: string;
  item_id: string;
  case_id: string;
  study_key: string;
  reviewer_id: string;
  finding_present: boolean | null;
  quality_adequate: boolean;
  agrees_with_model: boolean | null;
  comment: string;
  created_at_ms: number;
}

const toReview = (row: ReviewRow): ReviewRecord => ({
  reviewId: row.review_id,
  itemId: row.item_id,
  caseId: row.case_id,
  studyKey: row.study_key,
  reviewerId: row.reviewer_id,
  read: {
    findingPresent: row.finding_present,
    imageQualityAdequate: row.quality_adequate,
    agreesWithModel: row.agrees_with_model,
    comment: row.comment,
  },
  createdAt: new Date(row.created_at_ms).toISOString(),
});

const REVIEW_SELECT = `SELECT r.*, w.case_id, w.study_key FROM reviews r JOIN worklist_items w ON w.item_id = r.item_id`;

const storeFailed = (cause: unknown): PlatformError => new PlatformError('STORE_WRITE_FAILED', 'The worklist could not be read or updated', {}, { cause });

/**
 * The review worklist in PostgreSQL. A review closes its item with a conditional UPDATE in the same
 * transaction as the review row, so of two reviews of one item sent at once (two servers) exactly one
 * is taken: the second UPDATE waits for the first, then finds the item no longer open.
 */
export class PostgresWorklistStore implements WorklistStore {
  constructor(
    private readonly pool: PostgresPool,
    private readonly clock: Clock,
  ) {}

  async #query<Row extends QueryResultRow>(sql: string, values: unknown[]): Promise<Row[]> {
    try {
      return (await this.pool.query<Row>(sql, values)).rows;
    } catch (cause) {
      throw storeFailed(cause);
    }
  }

  async addItems(items: readonly NewWorklistItem[]): Promise<number> {
    if (items.length === 0) return 0;
    const now = this.clock.now().getTime();
    const values: unknown[] = [];
    const param = (v: unknown): string => (values.push(v), `$${values.length}`);
    const rows = items.map((i) => `(${[...itemValues(i), now].map(param).join(', ')}, 'open')`);
    const added = await this.#query(
      `INSERT INTO worklist_items (${ITEM_INSERT_COLUMNS.join(', ')}, created_at_ms, state) VALUES ${rows.join(', ')}
       ON CONFLICT (item_id) DO NOTHING RETURNING item_id`,
      values,
    );
    return added.length;
  }

  async list(query: WorklistQuery): Promise<WorklistPage> {
    const values: unknown[] = [];
    const where = worklistWhere(query, query.after, (v) => (values.push(v), `$${values.length}`), 'item_id COLLATE "C"');
    values.push(query.limit);
    const rows = await this.#query<ItemRow>(
      `SELECT * FROM worklist_items WHERE ${where} ORDER BY priority_rank, created_at_ms, item_id COLLATE "C" LIMIT $${values.length}`,
      values,
    );
    const next = nextCursor(rows, query.limit);
    return { items: rows.map(toItem), ...(next === undefined ? {} : { next }) };
  }

  async countByPriority(filter: WorklistFilter): Promise<Readonly<Record<WorklistPriority, number>>> {
    const values: unknown[] = [];
    const { priority: _ignored, ...rest } = filter;
    const where = worklistWhere(rest, undefined, (v) => (values.push(v), `$${values.length}`), 'item_id COLLATE "C"');
    return priorityCounts(
      await this.#query<{ priority_rank: number; n: string }>(
        `SELECT priority_rank, COUNT(*) AS n FROM worklist_items WHERE ${where} GROUP BY priority_rank`,
        values,
      ),
    );
  }

  async get(itemId: string): Promise<WorklistItem | undefined> {
    const row = (await this.#query<ItemRow>('SELECT * FROM worklist_items WHERE item_id = $1', [itemId]))[0];
    return row === undefined ? undefined : toItem(row);
  }

  async listForCase(caseId: string): Promise<WorklistItem[]> {
    return (await this.#query<ItemRow>('SELECT * FROM worklist_items WHERE case_id = $1 ORDER BY result_index, item_id', [caseId])).map(toItem);
  }

  async closeSuperseded(caseId: string): Promise<number> {
    return (await this.#query(`UPDATE worklist_items SET state = 'superseded' WHERE case_id = $1 AND state = 'open' RETURNING item_id`, [caseId])).length;
  }

  async recordReview(itemId: string, reviewerId: string, read: ReviewRead): Promise<ReviewRecord | undefined> {
    const reviewId = `r-${randomUUID()}`;
    return inTransaction(
      this.pool,
      async (client) => {
        const closed = await client.query(`UPDATE worklist_items SET state = 'reviewed' WHERE item_id = $1 AND state = 'open'`, [itemId]);
        if (closed.rowCount !== 1) return undefined;
        await client.query(
          `INSERT INTO reviews (review_id, item_id, reviewer_id, finding_present, quality_adequate, agrees_with_model, comment, created_at_ms)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
          [reviewId, itemId, reviewerId, read.findingPresent, read.imageQualityAdequate, read.agreesWithModel, read.comment, this.clock.now().getTime()],
        );
        const row = (await client.query<ReviewRow>(`${REVIEW_SELECT} WHERE r.review_id = $1`, [reviewId])).rows[0];
        return row === undefined ? undefined : toReview(row);
      },
      storeFailed,
    );
  }

  async listReviews(limit: number): Promise<ReviewRecord[]> {
    return (await this.#query<ReviewRow>(`${REVIEW_SELECT} ORDER BY r.created_at_ms DESC, r.review_id DESC LIMIT $1`, [limit])).map(toReview);
  }

  async reviewsForCase(caseId: string): Promise<ReviewRecord[]> {
    return (await this.#query<ReviewRow>(`${REVIEW_SELECT} WHERE w.case_id = $1 ORDER BY r.created_at_ms, r.review_id`, [caseId])).map(toReview);
  }
}
