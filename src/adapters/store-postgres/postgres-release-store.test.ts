import { describeReleaseStore } from '../../ports/release-store.contract.js';
import { createTestSchema, describeSkippedWithoutPostgres, POSTGRES_SKIP_REASON } from './internal/test-database.js';
import { PostgresReleaseStore } from './postgres-release-store.js';

if (POSTGRES_SKIP_REASON === undefined) {
  describeReleaseStore('PostgreSQL', async () => {
    const schema = await createTestSchema();
    return {
      store: new PostgresReleaseStore(await schema.open()),
      second: new PostgresReleaseStore(await schema.open()),
      dispose: () => schema.drop(),
    };
  });
} else {
  describeSkippedWithoutPostgres('ReleaseStore contract: PostgreSQL');
}
