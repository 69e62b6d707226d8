/* eslint-disable @typescript-eslint/require-await -- better-sqlite3 is synchronous; the methods are async because the port is, so that networked stores (PostgreSQL) can implement it. */
import { randomUUID } from 'node:crypto';
import { PlatformError } from '../../domain/errors.js';
import { retryDelayMs, type Job, type JobState, type RetryPolicy } from '../../domain/jobs/job.js';
import type { Clock } from '../../ports/clock.js';
import type { EnqueueRequest, JobQueue, Lease } from '../../ports/job-queue.js';
import { toJob, type JobRow } from '../store-common/job-row.js';
import type { SqliteDatabase } from './open-sqlite.js';

export interface SqliteJobQueueOptions {
  readonly clock: Clock;
  readonly retry: RetryPolicy;
  readonly defaultMaxAttempts: number;
}

/**
 * The job queue in SQLite. Each operation is one IMMEDIATE transaction, so two processes sharing
 * the file never lease the same job; with synchronous=FULL (open-sqlite.ts) a returned enqueue,
 * completion or failure is on disk.
 */
export class SqliteJobQueue implements JobQueue {
  readonly #db: SqliteDatabase;
  readonly #options: SqliteJobQueueOptions;

  constructor(db: SqliteDatabase, options: SqliteJobQueueOptions) {
    this.#db = db;
    this.#options = options;
  }

  #now(): number {
    return this.#options.clock.now().getTime();
  }

  #row(id: number): JobRow | undefined {
    return this.#db.prepare<[number], JobRow>('SELECT * FROM jobs WHERE id = ?').get(id);
  }

  #write<T>(fn: () => T): T {
    try {
      return this.#db.transaction(fn).immediate();
    } catch (cause) {
      if (cause instanceof PlatformError) throw cause;
      throw new PlatformError('STORE_WRITE_FAILED', 'The job queue could not be updated', {}, { cause });
    }
  }

  async enqueue(request: EnqueueRequest): Promise<{ job: Job; created: boolean }> {
    return this.#write(() => {
      const existing = this.#db.prepare<[string], JobRow>('SELECT * FROM jobs WHERE dedupe_key = ?').get(request.dedupeKey);
      if (existing !== undefined) return { job: toJob(existing), created: false };
      const now = this.#now();
      const maxAttempts = request.maxAttempts ?? this.#options.defaultMaxAttempts;
      const id = this.#db
        .prepare(
          `INSERT INTO jobs (kind, dedupe_key, payload, state, attempts, max_attempts, run_at_ms, created_at_ms, updated_at_ms)
           VALUES (?, ?, ?, 'ready', 0, ?, ?, ?, ?)`,
        )
        .run(request.kind, request.dedupeKey, JSON.stringify(request.payload), maxAttempts, request.runAt?.getTime() ?? now, now, now).lastInsertRowid;
      return { job: toJob(this.#row(Number(id)) as JobRow), created: true };
    });
  }

  async lease(kinds: readonly string[], leaseMs: number): Promise<Lease | undefined> {
    if (kinds.length === 0) return undefined;
    const placeholders = kinds.map(() => '?').join(', ');
    return this.#write(() => {
      const now = this.#now();
      for (;;) {
        const row = this.#db
          .prepare<unknown[], JobRow>(
            `SELECT * FROM jobs WHERE kind IN (${placeholders}) AND (
               (state = 'ready' AND run_at_ms <= ?) OR (state = 'leased' AND lease_until_ms <= ?))
             ORDER BY CASE state WHEN 'leased' THEN lease_until_ms ELSE run_at_ms END, id LIMIT 1`,
          )
          .get(...kinds, now, now);
        if (row === undefined) return undefined;
        if (row.state === 'leased' && row.attempts >= row.max_attempts) {
          // The last allowed attempt never reported back (the worker crashed or hung): a poison job.
          this.#db
            .prepare(
              `UPDATE jobs SET state = 'dead', lease_until_ms = NULL, lease_token = NULL, last_error_code = 'JOB_LEASE_EXPIRED',
               last_error_message = 'The worker holding the last attempt stopped reporting', updated_at_ms = ? WHERE id = ?`,
            )
            .run(now, row.id);
          continue;
        }
        const token = randomUUID();
        this.#db
          .prepare(`UPDATE jobs SET state = 'leased', attempts = attempts + 1, lease_until_ms = ?, lease_token = ?, updated_at_ms = ? WHERE id = ?`)
          .run(now + leaseMs, token, now, row.id);
        return { job: toJob(this.#row(row.id) as JobRow), leaseToken: token };
      }
    });
  }

  async extendLease(jobId: number, leaseToken: string, leaseMs: number): Promise<boolean> {
    return this.#write(() => {
      const now = this.#now();
      return (
        this.#db
          .prepare(`UPDATE jobs SET lease_until_ms = ?, updated_at_ms = ? WHERE id = ? AND state = 'leased' AND lease_token = ? AND lease_until_ms > ?`)
          .run(now + leaseMs, now, jobId, leaseToken, now).changes === 1
      );
    });
  }

  async complete(jobId: number, leaseToken: string): Promise<boolean> {
    return this.#write(
      () =>
        this.#db
          .prepare(
            `UPDATE jobs SET state = 'done', lease_until_ms = NULL, lease_token = NULL, updated_at_ms = ? WHERE id = ? AND state = 'leased' AND lease_token = ?`,
          )
          .run(this.#now(), jobId, leaseToken).changes === 1,
    );
  }

  async fail(jobId: number, leaseToken: string, error: { code: string; message: string }): Promise<boolean> {
    return this.#write(() => {
      const row = this.#row(jobId);
      if (row?.state !== 'leased' || row.lease_token !== leaseToken) return false;
      const now = this.#now();
      const dead = row.attempts >= row.max_attempts;
      this.#db
        .prepare(
          `UPDATE jobs SET state = ?, run_at_ms = ?, lease_until_ms = NULL, lease_token = NULL, last_error_code = ?, last_error_message = ?, updated_at_ms = ? WHERE id = ?`,
        )
        .run(dead ? 'dead' : 'ready', dead ? row.run_at_ms : now + retryDelayMs(row.attempts, this.#options.retry), error.code, error.message, now, jobId);
      return true;
    });
  }

  async get(jobId: number): Promise<Job | undefined> {
    const row = this.#row(jobId);
    return row === undefined ? undefined : toJob(row);
  }

  async counts(): Promise<Record<JobState, number>> {
    const counts: Record<JobState, number> = { ready: 0, leased: 0, done: 0, dead: 0 };
    for (const { state, n } of this.#db.prepare<[], { state: JobState; n: number }>('SELECT state, count(*) AS n FROM jobs GROUP BY state').all())
      counts[state] = n;
    return counts;
  }

  async deadLetters(limit: number): Promise<Job[]> {
    return this.#db.prepare<[number], JobRow>(`SELECT * FROM jobs WHERE state = 'dead' ORDER BY updated_at_ms DESC, id DESC LIMIT ?`).all(limit).map(toJob);
  }

  async retryDead(jobId: number): Promise<boolean> {
    return this.#write(
      () =>
        this.#db
          .prepare(
            `UPDATE jobs SET state = 'ready', attempts = 0, run_at_ms = ?, last_error_code = NULL, last_error_message = NULL, updated_at_ms = ? WHERE id = ? AND state = 'dead'`,
          )
          .run(this.#now(), this.#now(), jobId).changes === 1,
    );
  }
}
