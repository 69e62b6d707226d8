import { describeSessionStore } from '../../ports/session-store.contract.js';
import { createTestSchema, describeSkippedWithoutPostgres, POSTGRES_SKIP_REASON } from './internal/test-database.js';
import { PostgresAccessStore } from './postgres-access-store.js';
import { PostgresSessionStore } from './postgres-session-store.js';

if (POSTGRES_SKIP_REASON === undefined) {
  describeSessionStore('PostgreSQL', async (clock) => {
    const schema = await createTestSchema();
    const pool = await schema.open();
    return {
      store: new PostgresSessionStore(pool),
      // Another server's pool on the same schema.
      second: new PostgresSessionStore(await schema.open()),
      access: new PostgresAccessStore(pool, clock),
      disableUser: async (userId) => void (await pool.query('UPDATE users SET disabled = true WHERE user_id = $1', [userId])),
      dispose: () => schema.drop(),
    };
  });
} else {
  describeSkippedWithoutPostgres('SessionStore contract: PostgreSQL');
}
