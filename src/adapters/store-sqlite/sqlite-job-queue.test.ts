import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CONTRACT_RETRY, describeJobQueue } from '../../ports/job-queue.contract.js';
import { openSqliteDatabase } from './open-sqlite.js';
import { SqliteJobQueue } from './sqlite-job-queue.js';

describeJobQueue('SQLite (two connections to one file)', (clock) => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-jobs-'));
  const first = openSqliteDatabase({ dataDir: dir });
  const second = openSqliteDatabase({ dataDir: dir });
  const options = {
    clock,
    retry: { baseDelayMs: CONTRACT_RETRY.baseDelayMs, maxDelayMs: CONTRACT_RETRY.maxDelayMs },
    defaultMaxAttempts: CONTRACT_RETRY.defaultMaxAttempts,
  };
  return {
    queue: new SqliteJobQueue(first, options),
    second: new SqliteJobQueue(second, options),
    dispose: () => {
      first.close();
      second.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
