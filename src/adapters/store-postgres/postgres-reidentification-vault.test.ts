import { describeReidentificationVault } from '../../ports/reidentification-vault.contract.js';
import { createResultSealer } from '../crypto-node/result-sealer.js';
import { createTestSchema, describeSkippedWithoutPostgres, POSTGRES_SKIP_REASON } from './internal/test-database.js';
import { PostgresReidentificationVault } from './postgres-reidentification-vault.js';

if (POSTGRES_SKIP_REASON === undefined) {
  describeReidentificationVault('PostgreSQL', async (clock) => {
    const schema = await createTestSchema();
    const pool = await schema.open();
    const sealer = createResultSealer(new Uint8Array(32).fill(7));
    return {
      vault: new PostgresReidentificationVault(pool, sealer, clock),
      second: new PostgresReidentificationVault(await schema.open(), sealer, clock),
      dumpRows: async () =>
        JSON.stringify((await pool.query('SELECT sop_uid, study_uid, encode(sealed, $1) AS sealed FROM reidentification_vault', ['hex'])).rows),
      moveRow: async (from, to) => void (await pool.query('UPDATE reidentification_vault SET sop_uid = $2 WHERE sop_uid = $1', [from, to])),
      dispose: () => schema.drop(),
    };
  });
} else {
  describeSkippedWithoutPostgres('ReidentificationVault contract: PostgreSQL');
}
