import { describeDeploymentStore } from '../../ports/deployment-store.contract.js';
import { createTestSchema, describeSkippedWithoutPostgres, POSTGRES_SKIP_REASON } from './internal/test-database.js';
import { PostgresDeploymentStore } from './postgres-deployment-store.js';

if (POSTGRES_SKIP_REASON === undefined) {
  describeDeploymentStore('PostgreSQL', async () => {
    const schema = await createTestSchema();
    return {
      store: new PostgresDeploymentStore(await schema.open()),
      second: new PostgresDeploymentStore(await schema.open()),
      dispose: () => schema.drop(),
    };
  });
} else {
  describeSkippedWithoutPostgres('DeploymentStore contract: PostgreSQL');
}
