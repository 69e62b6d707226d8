import { describeAccessStore } from '../../ports/access-store.contract.js';
import { createTestSchema, describeSkippedWithoutPostgres, POSTGRES_SKIP_REASON } from './internal/test-database.js';
import { PostgresAccessStore } from './postgres-access-store.js';

if (POSTGRES_SKIP_REASON === undefined) {
  describeAccessStore('PostgreSQL', async (clock) => {
    const schema = await createTestSchema();
    const pool = await schema.open();
    return {
      store: new PostgresAccessStore(pool, clock),
      dumpTokens: async () => JSON.stringify((await pool.query('SELECT * FROM api_tokens')).rows),
      dispose: () => schema.drop(),
    };
  });
} else {
  describeSkippedWithoutPostgres('AccessStore contract: PostgreSQL');
}
