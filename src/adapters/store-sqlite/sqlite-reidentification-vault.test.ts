import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeReidentificationVault } from '../../ports/reidentification-vault.contract.js';
import { createResultSealer } from '../crypto-node/result-sealer.js';
import { openSqliteDatabase } from './open-sqlite.js';
import { SqliteReidentificationVault } from './sqlite-reidentification-vault.js';

describeReidentificationVault('SQLite', (clock) => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-vault-'));
  const db = openSqliteDatabase({ dataDir: dir });
  const other = openSqliteDatabase({ dataDir: dir });
  const sealer = createResultSealer(new Uint8Array(32).fill(7));
  return {
    vault: new SqliteReidentificationVault(db, sealer, clock),
    second: new SqliteReidentificationVault(other, sealer, clock),
    dumpRows: () => Promise.resolve(JSON.stringify(db.prepare('SELECT sop_uid, study_uid, hex(sealed) AS sealed FROM reidentification_vault').all())),
    moveRow: (from, to) => Promise.resolve(void db.prepare('UPDATE reidentification_vault SET sop_uid = ? WHERE sop_uid = ?').run(to, from)),
    dispose: () => {
      other.close();
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
