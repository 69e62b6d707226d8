import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeSystemStats } from '../../ports/system-stats.contract.js';
import { openSqliteDatabase } from './open-sqlite.js';
import { SqliteAuditLog } from './sqlite-audit-log.js';
import { SqliteJobQueue } from './sqlite-job-queue.js';
import { SqliteCaseStore, SqliteStudyRegistry } from './sqlite-study-registry.js';
import { SqliteSystemStats } from './sqlite-system-stats.js';

describeSystemStats('SQLite', (clock) => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-stats-'));
  const db = openSqliteDatabase({ dataDir: dir });
  const log = SqliteAuditLog.open({ dataDir: dir, clock });
  return {
    stats: new SqliteSystemStats(db),
    jobs: new SqliteJobQueue(db, { clock, retry: { baseDelayMs: 1_000, maxDelayMs: 8_000 }, defaultMaxAttempts: 3 }),
    log,
    studies: new SqliteStudyRegistry(db, clock),
    cases: new SqliteCaseStore(db, clock),
    dispose: async () => {
      await log.close();
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
