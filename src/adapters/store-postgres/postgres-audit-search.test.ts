import { describeAuditSearch } from '../../ports/audit-search.contract.js';
import { createAuditSigningKey } from '../crypto-node/audit-signing-key.js';
import { createTestSchema, describeSkippedWithoutPostgres, POSTGRES_SKIP_REASON } from './internal/test-database.js';
import { PostgresAuditLog } from './postgres-audit-log.js';
import { PostgresAuditSearch } from './postgres-audit-search.js';

if (POSTGRES_SKIP_REASON === undefined) {
  describeAuditSearch('PostgreSQL', async (clock) => {
    const schema = await createTestSchema();
    const log = await PostgresAuditLog.create(await schema.open(), { clock, signingKey: createAuditSigningKey() });
    // The search on another pool, as another server's.
    return { log, search: new PostgresAuditSearch(await schema.open()), dispose: () => schema.drop() };
  });
} else {
  describeSkippedWithoutPostgres('AuditSearch contract: PostgreSQL');
}
