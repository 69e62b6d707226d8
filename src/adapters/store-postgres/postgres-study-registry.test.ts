import { describeCaseStore } from '../../ports/case-store.contract.js';
import { describeStudyRegistry } from '../../ports/study-registry.contract.js';
import { createTestSchema, describeSkippedWithoutPostgres, POSTGRES_SKIP_REASON } from './internal/test-database.js';
import { PostgresCaseStore, PostgresStudyRegistry } from './postgres-study-registry.js';

if (POSTGRES_SKIP_REASON === undefined) {
  describeStudyRegistry('PostgreSQL (two pools on one schema, as two processes)', async (clock) => {
    const schema = await createTestSchema();
    return {
      studies: new PostgresStudyRegistry(await schema.open(), clock),
      second: new PostgresStudyRegistry(await schema.open(), clock),
      dispose: () => schema.drop(),
    };
  });

  describeCaseStore('PostgreSQL (two pools on one schema, as two processes)', async (clock) => {
    const schema = await createTestSchema();
    return {
      cases: new PostgresCaseStore(await schema.open(), clock),
      second: new PostgresCaseStore(await schema.open(), clock),
      dispose: () => schema.drop(),
    };
  });
} else {
  describeSkippedWithoutPostgres('StudyRegistry and CaseStore contracts: PostgreSQL');
}
