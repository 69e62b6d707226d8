import { describeModelRegistry } from '../../ports/model-registry.contract.js';
import { createTestSchema, describeSkippedWithoutPostgres, POSTGRES_SKIP_REASON } from './internal/test-database.js';
import { PostgresModelRegistry } from './postgres-model-registry.js';

if (POSTGRES_SKIP_REASON === undefined) {
  describeModelRegistry('PostgreSQL', async () => {
    const schema = await createTestSchema();
    return {
      registry: new PostgresModelRegistry(await schema.open()),
      second: new PostgresModelRegistry(await schema.open()),
      dispose: () => schema.drop(),
    };
  });
} else {
  describeSkippedWithoutPostgres('ModelRegistry contract: PostgreSQL');
}
