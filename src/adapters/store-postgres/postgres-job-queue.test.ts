import { CONTRACT_RETRY, describeJobQueue } from '../../ports/job-queue.contract.js';
import { createTestSchema, describeSkippedWithoutPostgres, POSTGRES_SKIP_REASON } from './internal/test-database.js';
import { PostgresJobQueue } from './postgres-job-queue.js';

if (POSTGRES_SKIP_REASON === undefined) {
  describeJobQueue('PostgreSQL (two pools on one schema, as two processes)', async (clock) => {
    const schema = await createTestSchema();
    const options = {
      clock,
      retry: { baseDelayMs: CONTRACT_RETRY.baseDelayMs, maxDelayMs: CONTRACT_RETRY.maxDelayMs },
      defaultMaxAttempts: CONTRACT_RETRY.defaultMaxAttempts,
    };
    return {
      queue: new PostgresJobQueue(await schema.open(), options),
      second: new PostgresJobQueue(await schema.open(), options),
      dispose: () => schema.drop(),
    };
  });
} else {
  describeSkippedWithoutPostgres('JobQueue contract: PostgreSQL');
}
