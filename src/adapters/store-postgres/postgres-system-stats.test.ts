import { describeSystemStats } from '../../ports/system-stats.contract.js';
import { createAuditSigningKey } from '../crypto-node/audit-signing-key.js';
import { createTestSchema, describeSkippedWithoutPostgres, POSTGRES_SKIP_REASON } from './internal/test-database.js';
import { PostgresAuditLog } from './postgres-audit-log.js';
import { PostgresJobQueue } from './postgres-job-queue.js';
import { PostgresCaseStore, PostgresStudyRegistry } from './postgres-study-registry.js';
import { PostgresSystemStats } from './postgres-system-stats.js';

if (POSTGRES_SKIP_REASON === undefined) {
  describeSystemStats('PostgreSQL', async (clock) => {
    const schema = await createTestSchema();
    const pool = await schema.open();
    return {
      stats: new PostgresSystemStats(pool),
      jobs: new PostgresJobQueue(pool, { clock, retry: { baseDelayMs: 1_000, maxDelayMs: 8_000 }, defaultMaxAttempts: 3 }),
      log: await PostgresAuditLog.create(pool, { clock, signingKey: createAuditSigningKey() }),
      studies: new PostgresStudyRegistry(pool, clock),
      cases: new PostgresCaseStore(pool, clock),
      dispose: () => schema.drop(),
    };
  });
} else {
  describeSkippedWithoutPostgres('SystemStats contract: PostgreSQL');
}
