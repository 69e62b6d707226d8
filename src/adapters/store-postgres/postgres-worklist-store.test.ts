import { describeWorklistStore } from '../../ports/worklist-store.contract.js';
import { createTestSchema, describeSkippedWithoutPostgres, POSTGRES_SKIP_REASON } from './internal/test-database.js';
import { PostgresCaseStore } from './postgres-study-registry.js';
import { PostgresWorklistStore } from './postgres-worklist-store.js';

if (POSTGRES_SKIP_REASON === undefined) {
  describeWorklistStore('PostgreSQL (two pools on one schema, as two processes)', async (clock) => {
    const schema = await createTestSchema();
    const pool = await schema.open();
    return {
      worklist: new PostgresWorklistStore(pool, clock),
      cases: new PostgresCaseStore(pool, clock),
      second: new PostgresWorklistStore(await schema.open(), clock),
      dispose: () => schema.drop(),
    };
  });
} else {
  describeSkippedWithoutPostgres('WorklistStore contract: PostgreSQL');
}
