import { randomUUID } from 'node:crypto';
import type { QueryResultRow } from 'pg';
import { PlatformError } from '../../domain/errors.js';
import { retryDelayMs, type Job, type JobState, type RetryPolicy } from '../../domain/jobs/job.js';
import type { Clock } from '../../ports/clock.js';
import type { EnqueueRequest, JobQueue, Lease } from '../../ports/job-queue.js';
import { toJob, type JobRow } from '../store-common/job-row.js';
import { inTransaction, type PostgresClient, type PostgresPool } from './open-postgres.js';

export interface PostgresJobQueueOptions {
  readonly clock: Clock;
  readonly retry: RetryPolicy;
  readonly defaultMaxAttempts: number;
}

const writeFailed = (cause: unknown): PlatformError => new PlatformError('STORE_WRITE_FAILED', 'The job queue could not be updated', {}, { cause });

/**
 * The job queue in PostgreSQL, shared by every worker of every Vigil process. A lease picks the oldest
 * due job with `FOR UPDATE SKIP LOCKED`: a row another worker is leasing right now is passed over,
 * never waited for or taken twice, and the row's state is re-checked under the lock (READ COMMITTED
 * re-evaluates the WHERE on the newest version), so a job another worker has just leased no longer
 * matches. Everything else is one conditional UPDATE, keyed by the lease token. Commits are durable
 * (open-postgres.ts refuses a server that acknowledges them earlier), so a returned enqueue,
 * completion or failure survives a crash. Times come from the queue's clock, as in SQLite.
 */
export class PostgresJobQueue implements JobQueue {
  readonly #pool: PostgresPool;
  readonly #options: PostgresJobQueueOptions;

  constructor(pool: PostgresPool, options: PostgresJobQueueOptions) {
    this.#pool = pool;
    this.#options = options;
  }

  #now(): number {
    return this.#options.clock.now().getTime();
  }

  async #query<Row extends QueryResultRow>(sql: string, values: unknown[]): Promise<{ rows: Row[]; rowCount: number }> {
    try {
      const result = await this.#pool.query<Row>(sql, values);
      return { rows: result.rows, rowCount: result.rowCount ?? 0 };
    } catch (cause) {
      throw writeFailed(cause);
    }
  }

  async enqueue(request: EnqueueRequest): Promise<{ job: Job; created: boolean }> {
    const now = this.#now();
    const maxAttempts = request.maxAttempts ?? this.#options.defaultMaxAttempts;
    // Insert, or (on a dedupe key already taken, perhaps by another process a moment ago) read the
    // existing job. DO NOTHING returns no row then, and the second statement sees the committed one.
    const inserted = await this.#query<JobRow>(
      `INSERT INTO jobs (kind, dedupe_key, payload, state, attempts, max_attempts, run_at_ms, created_at_ms, updated_at_ms)
       VALUES ($1, $2, $3, 'ready', 0, $4, $5, $6, $6) ON CONFLICT (dedupe_key) DO NOTHING RETURNING *`,
      [request.kind, request.dedupeKey, JSON.stringify(request.payload), maxAttempts, request.runAt?.getTime() ?? now, now],
    );
    const created = inserted.rows[0];
    if (created !== undefined) return { job: toJob(created), created: true };
    const existing = (await this.#query<JobRow>('SELECT * FROM jobs WHERE dedupe_key = $1', [request.dedupeKey])).rows[0];
    if (existing === undefined) throw writeFailed(new Error('the job with this dedupe key vanished'));
    return { job: toJob(existing), created: false };
  }

  async lease(kinds: readonly string[], leaseMs: number): Promise<Lease | undefined> {
    if (kinds.length === 0) return undefined;
    return inTransaction(
      this.#pool,
      async (client) => {
        const now = this.#now();
        for (;;) {
          const row = await this.#nextDue(client, kinds, now);
          if (row === undefined) return undefined;
          if (row.state === 'leased' && row.attempts >= row.max_attempts) {
            // The last allowed attempt never reported back (the worker crashed or hung): a poison job.
            await client.query(
              `UPDATE jobs SET state = 'dead', lease_until_ms = NULL, lease_token = NULL, last_error_code = 'JOB_LEASE_EXPIRED',
               last_error_message = 'The worker holding the last attempt stopped reporting', updated_at_ms = $1 WHERE id = $2`,
              [now, row.id],
            );
            continue;
          }
          const token = randomUUID();
          const leased = await client.query<JobRow>(
            `UPDATE jobs SET state = 'leased', attempts = attempts + 1, lease_until_ms = $1, lease_token = $2, updated_at_ms = $3 WHERE id = $4 RETURNING *`,
            [now + leaseMs, token, now, row.id],
          );
          return { job: toJob(leased.rows[0] as JobRow), leaseToken: token };
        }
      },
      writeFailed,
    );
  }

  /** The oldest due job of `kinds`, locked for this transaction; rows other workers hold are skipped. */
  async #nextDue(client: PostgresClient, kinds: readonly string[], now: number): Promise<JobRow | undefined> {
    // Locks only the row it returns; SKIP LOCKED passes over rows other workers are leasing right now.
    const { rows } = await client.query<JobRow>(
      `SELECT * FROM jobs WHERE kind = ANY($1) AND ((state = 'ready' AND run_at_ms <= $2) OR (state = 'leased' AND lease_until_ms <= $2))
       ORDER BY CASE state WHEN 'leased' THEN lease_until_ms ELSE run_at_ms END, id LIMIT 1 FOR UPDATE SKIP LOCKED`,
      [kinds, now],
    );
    return rows[0];
  }

  async extendLease(jobId: number, leaseToken: string, leaseMs: number): Promise<boolean> {
    const now = this.#now();
    const result = await this.#query(
      `UPDATE jobs SET lease_until_ms = $1, updated_at_ms = $2 WHERE id = $3 AND state = 'leased' AND lease_token = $4 AND lease_until_ms > $2`,
      [now + leaseMs, now, jobId, leaseToken],
    );
    return result.rowCount === 1;
  }

  async complete(jobId: number, leaseToken: string): Promise<boolean> {
    const result = await this.#query(
      `UPDATE jobs SET state = 'done', lease_until_ms = NULL, lease_token = NULL, updated_at_ms = $1 WHERE id = $2 AND state = 'leased' AND lease_token = $3`,
      [this.#now(), jobId, leaseToken],
    );
    return result.rowCount === 1;
  }

  async fail(jobId: number, leaseToken: string, error: { code: string; message: string }): Promise<boolean> {
    const now = this.#now();
    return inTransaction(
      this.#pool,
      async (client) => {
        const row = (await client.query<JobRow>('SELECT * FROM jobs WHERE id = $1 FOR UPDATE', [jobId])).rows[0];
        if (row?.state !== 'leased' || row.lease_token !== leaseToken) return false;
        const dead = row.attempts >= row.max_attempts;
        await client.query(
          `UPDATE jobs SET state = $1, run_at_ms = $2, lease_until_ms = NULL, lease_token = NULL, last_error_code = $3, last_error_message = $4, updated_at_ms = $5 WHERE id = $6`,
          [dead ? 'dead' : 'ready', dead ? row.run_at_ms : now + retryDelayMs(row.attempts, this.#options.retry), error.code, error.message, now, jobId],
        );
        return true;
      },
      writeFailed,
    );
  }

  async get(jobId: number): Promise<Job | undefined> {
    const row = (await this.#query<JobRow>('SELECT * FROM jobs WHERE id = $1', [jobId])).rows[0];
    return row === undefined ? undefined : toJob(row);
  }

  async counts(): Promise<Record<JobState, number>> {
    const counts: Record<JobState, number> = { ready: 0, leased: 0, done: 0, dead: 0 };
    for (const { state, n } of (await this.#query<{ state: JobState; n: number }>('SELECT state, count(*) AS n FROM jobs GROUP BY state', [])).rows)
      counts[state] = n;
    return counts;
  }

  async deadLetters(limit: number): Promise<Job[]> {
    return (await this.#query<JobRow>(`SELECT * FROM jobs WHERE state = 'dead' ORDER BY updated_at_ms DESC, id DESC LIMIT $1`, [limit])).rows.map(toJob);
  }

  async retryDead(jobId: number): Promise<boolean> {
    const now = this.#now();
    const result = await this.#query(
      `UPDATE jobs SET state = 'ready', attempts = 0, run_at_ms = $1, last_error_code = NULL, last_error_message = NULL, updated_at_ms = $1 WHERE id = $2 AND state = 'dead'`,
      [now, jobId],
    );
    return result.rowCount === 1;
  }
}
