import type { QueryResultRow } from 'pg';
import { PlatformError } from '../../domain/errors.js';
import type { CaseRecord, CaseStore, NewCase } from '../../ports/case-store.js';
import type { Clock } from '../../ports/clock.js';
import type { StudyFacts, StudyQuery, StudyRecord, StudyRegistry, StudyState } from '../../ports/study-registry.js';
import { linkNewCase, studyFilterSql, studyQueryFilters, toCase, toStudy, type CaseRow, type StudyRow } from '../store-common/study-rows.js';
import { inTransaction, type PostgresPool } from './open-postgres.js';

const storeFailed = (cause: unknown): PlatformError => new PlatformError('STORE_WRITE_FAILED', 'The study store could not be read or updated', {}, { cause });

/** Runs one statement, giving a failure the store's code. */
async function run<Row extends QueryResultRow>(pool: PostgresPool, sql: string, values: unknown[]): Promise<{ rows: Row[]; rowCount: number }> {
  try {
    const result = await pool.query<Row>(sql, values);
    return { rows: result.rows, rowCount: result.rowCount ?? 0 };
  } catch (cause) {
    throw storeFailed(cause);
  }
}

/** Longest a study search may run in PostgreSQL. */
const SEARCH_TIMEOUT_MS = 5_000;

/** A study row with its modalities (store-common/study-rows.ts), from `studies s`. */
const STUDY_COLUMNS = `s.*, (SELECT string_agg(m.modality, '\\' ORDER BY m.modality) FROM study_modalities m WHERE m.study_key = s.study_key) AS modalities`;

/**
 * Study assembly in PostgreSQL, shared by every Vigil process. Recording an instance is one
 * transaction; two processes recording instances of one study at once both count (the UPDATE of the
 * study row waits for the other's and then adds to its result), and the same instance twice counts
 * once (the primary key of `study_instances`). The quiet period's start is a column, so a study's
 * quiet period restarted by one server's start holds for every server.
 */
export class PostgresStudyRegistry implements StudyRegistry {
  constructor(
    private readonly pool: PostgresPool,
    private readonly clock: Clock,
  ) {}

  async recordInstance(studyKey: string, studyUid: string, sopInstanceUid: string, facts: StudyFacts = {}): Promise<boolean> {
    const now = this.clock.now().getTime();
    return inTransaction(
      this.pool,
      async (client) => {
        await client.query(
          `INSERT INTO studies (study_key, study_uid, instances, first_received_at_ms, last_received_at_ms, quiet_from_ms, state)
           VALUES ($1, $2, 0, $3, $3, $3, 'receiving')
           ON CONFLICT (study_key) DO NOTHING`,
          [studyKey, studyUid, now],
        );
        const added = await client.query('INSERT INTO study_instances (study_key, sop_uid, received_at_ms) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [
          studyKey,
          sopInstanceUid,
          now,
        ]);
        if (facts.senderId !== undefined) {
          await client.query('INSERT INTO study_senders (study_key, user_id, first_sent_at_ms) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [
            studyKey,
            facts.senderId,
            now,
          ]);
        }
        if (facts.accessionKey !== undefined) {
          await client.query('INSERT INTO study_accessions (accession_key, study_key) VALUES ($1, $2) ON CONFLICT DO NOTHING', [facts.accessionKey, studyKey]);
        }
        if (facts.studyDate !== undefined) {
          await client.query('UPDATE studies SET study_date = coalesce(study_date, $1) WHERE study_key = $2', [facts.studyDate, studyKey]);
        }
        if (facts.site !== undefined) {
          await client.query('UPDATE studies SET site = coalesce(site, $1) WHERE study_key = $2', [facts.site, studyKey]);
        }
        if (facts.modality !== undefined) {
          await client.query('INSERT INTO study_modalities (study_key, modality) VALUES ($1, $2) ON CONFLICT DO NOTHING', [studyKey, facts.modality]);
        }
        if (added.rowCount !== 1) {
          // A resend to a study still receiving: its sender is still at it, so the quiet period starts again.
          await client.query(`UPDATE studies SET quiet_from_ms = greatest(quiet_from_ms, $1) WHERE study_key = $2 AND state = 'receiving'`, [now, studyKey]);
          return false;
        }
        // greatest(): two processes' clocks may disagree a little; the last arrival never moves back.
        await client.query(
          `UPDATE studies SET instances = instances + 1, last_received_at_ms = greatest(last_received_at_ms, $1), quiet_from_ms = greatest(quiet_from_ms, $1),
             state = 'receiving'
           WHERE study_key = $2`,
          [now, studyKey],
        );
        return true;
      },
      storeFailed,
    );
  }

  async restartQuietPeriods(): Promise<number> {
    const { rowCount } = await run(this.pool, `UPDATE studies SET quiet_from_ms = greatest(quiet_from_ms, $1) WHERE state = 'receiving'`, [
      this.clock.now().getTime(),
    ]);
    return rowCount;
  }

  async quietStudies(quietMs: number): Promise<StudyRecord[]> {
    const before = this.clock.now().getTime() - quietMs;
    const { rows } = await run<StudyRow>(
      this.pool,
      `SELECT ${STUDY_COLUMNS} FROM studies s WHERE state = 'receiving' AND quiet_from_ms <= $1 ORDER BY quiet_from_ms, study_key`,
      [before],
    );
    return rows.map(toStudy);
  }

  async markQueued(studyKey: string, instances: number): Promise<boolean> {
    const { rowCount } = await run(this.pool, `UPDATE studies SET state = 'queued' WHERE study_key = $1 AND instances = $2 AND state = 'receiving'`, [
      studyKey,
      instances,
    ]);
    return rowCount === 1;
  }

  async markProgress(studyKey: string, instances: number, state: Exclude<StudyState, 'receiving'>): Promise<boolean> {
    const { rowCount } = await run(
      this.pool,
      `UPDATE studies SET state = $3 WHERE study_key = $1 AND instances = $2 AND state <> 'receiving' AND state <> $3`,
      [studyKey, instances, state],
    );
    return rowCount === 1;
  }

  async list(limit: number): Promise<StudyRecord[]> {
    return this.search({ limit });
  }

  async get(studyKey: string): Promise<StudyRecord | undefined> {
    const row = (await run<StudyRow>(this.pool, `SELECT ${STUDY_COLUMNS} FROM studies s WHERE s.study_key = $1`, [studyKey])).rows[0];
    return row === undefined ? undefined : toStudy(row);
  }

  async search(query: StudyQuery): Promise<StudyRecord[]> {
    const { clauses, values } = studyQueryFilters(query);
    const where = clauses.length === 0 ? '' : `WHERE ${clauses.map((c, i) => studyFilterSql(c, `$${i + 1}`)).join(' AND ')}`;
    const n = values.length;
    const sql = `SELECT ${STUDY_COLUMNS} FROM studies s ${where} ORDER BY s.last_received_at_ms DESC, s.study_key LIMIT $${n + 1} OFFSET $${n + 2}`;
    // A search is a client's request (QIDO-RS, lookups): bounded in time as well as in rows, so a slow one
    // is cut by the server rather than holding a connection of the pool (57014 query_canceled → STORE_WRITE_FAILED).
    return inTransaction(
      this.pool,
      async (client) => {
        await client.query(`SET LOCAL statement_timeout = ${SEARCH_TIMEOUT_MS}`);
        return (await client.query<StudyRow>(sql, [...values, query.limit, query.offset ?? 0])).rows.map(toStudy);
      },
      storeFailed,
      'BEGIN READ ONLY',
    );
  }

  async wasSentBy(studyKey: string, userId: string): Promise<boolean> {
    return (await run(this.pool, 'SELECT 1 FROM study_senders WHERE study_key = $1 AND user_id = $2', [studyKey, userId])).rowCount > 0;
  }
}

/**
 * Judged cases in PostgreSQL: saving a case id a second time (a re-run job, another process) keeps the
 * first. Saves of one study's cases are serialised by a transaction-scoped advisory lock on the study,
 * so two servers finishing two judgements of one study at once still leave one current case, linked.
 */
export class PostgresCaseStore implements CaseStore {
  constructor(
    private readonly pool: PostgresPool,
    private readonly clock: Clock,
  ) {}

  async save(record: NewCase): Promise<'saved' | 'exists'> {
    const now = this.clock.now().getTime();
    return inTransaction(
      this.pool,
      async (client) => {
        await client.query(`SELECT pg_advisory_xact_lock(hashtextextended('vigil:case:' || $1, 0))`, [record.studyKey]);
        if ((await client.query('SELECT 1 FROM cases WHERE case_id = $1', [record.caseId])).rowCount !== 0) return 'exists';
        const current = (
          await client.query<{ case_id: string; instances: number }>('SELECT case_id, instances FROM cases WHERE study_key = $1 AND superseded_by IS NULL', [
            record.studyKey,
          ])
        ).rows[0];
        const links = linkNewCase(current, record.instances);
        // The old current case first: the unique index allows one current case per study at a time.
        if (links.supersedes !== null) await client.query('UPDATE cases SET superseded_by = $1 WHERE case_id = $2', [record.caseId, links.supersedes]);
        await client.query(
          `INSERT INTO cases (case_id, study_key, model, instances, created_at_ms, results, supersedes, superseded_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
          [
            record.caseId,
            record.studyKey,
            JSON.stringify(record.model),
            record.instances,
            now,
            JSON.stringify(record.results),
            links.supersedes,
            links.supersededBy,
          ],
        );
        return 'saved' as const;
      },
      storeFailed,
    );
  }

  async get(caseId: string): Promise<CaseRecord | undefined> {
    const row = (await run<CaseRow>(this.pool, 'SELECT * FROM cases WHERE case_id = $1', [caseId])).rows[0];
    return row === undefined ? undefined : toCase(row);
  }

  async listForStudy(studyKey: string): Promise<CaseRecord[]> {
    return (await run<CaseRow>(this.pool, 'SELECT * FROM cases WHERE study_key = $1 ORDER BY created_at_ms, case_id', [studyKey])).rows.map(toCase);
  }

  async list(limit: number): Promise<CaseRecord[]> {
    return (await run<CaseRow>(this.pool, 'SELECT * FROM cases ORDER BY created_at_ms DESC, case_id DESC LIMIT $1', [limit])).rows.map(toCase);
  }
}
