import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
/* eslint-disable import-x/no-restricted-paths -- a test, not workflow code: it composes adapters as main.ts does */
import { openSqliteDatabase, type SqliteDatabase } from '../adapters/store-sqlite/open-sqlite.js';
import { SqliteJobQueue } from '../adapters/store-sqlite/sqlite-job-queue.js';
/* eslint-enable import-x/no-restricted-paths */
import type { JobRetriedEvent } from '../domain/audit/audit-event.js';
import { isPlatformError } from '../domain/errors.js';
import { createManualClock } from '../ports/job-queue.contract.js';
import { retryDeadJob } from './retry-dead-job.js';

let dir: string | undefined;
let db: SqliteDatabase | undefined;
afterEach(() => {
  db?.close();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

describe('retryDeadJob', () => {
  it('makes a dead-lettered job ready again and audits who did it; any other job id is 404 and not audited', async () => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-retry-'));
    db = openSqliteDatabase({ dataDir: dir });
    const jobs = new SqliteJobQueue(db, { clock: createManualClock(), retry: { baseDelayMs: 1_000, maxDelayMs: 1_000 }, defaultMaxAttempts: 1 });
    const { job: dead } = await jobs.enqueue({ kind: 'deliver_result', dedupeKey: 'd-1', payload: {} });
    const { job: live } = await jobs.enqueue({ kind: 'deliver_result', dedupeKey: 'd-2', payload: {} });
    const lease = await jobs.lease(['deliver_result'], 60_000);
    expect(lease?.job.id).toBe(dead.id);
    await jobs.fail(dead.id, lease?.leaseToken ?? '', { code: 'RESULT_DELIVERY_FAILED', message: 'destination down' });
    expect((await jobs.counts()).dead).toBe(1);

    const audited: JobRetriedEvent[] = [];
    const deps = { jobs, recordAudit: (event: JobRetriedEvent) => Promise.resolve(audited.push(event)) };
    const operator = { userId: 'u-ops', role: 'admin', tokenId: 't-ops' } as const;
    expect(await retryDeadJob(deps, operator, dead.id)).toEqual({ jobId: dead.id, state: 'ready' });
    expect((await jobs.counts()).dead).toBe(0);
    for (const jobId of [live.id, dead.id, 9_999]) {
      await expect(retryDeadJob(deps, operator, jobId)).rejects.toSatisfy((e) => isPlatformError(e) && e.code === 'ROUTE_NOT_FOUND');
    }
    expect(audited).toEqual([{ type: 'job_retried', jobId: dead.id, userId: 'u-ops', role: 'admin' }]);
  });
});
