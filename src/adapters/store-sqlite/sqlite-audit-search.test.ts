import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeAuditSearch } from '../../ports/audit-search.contract.js';
import { openSqliteDatabase } from './open-sqlite.js';
import { SqliteAuditLog } from './sqlite-audit-log.js';
import { SqliteAuditSearch } from './sqlite-audit-search.js';

describeAuditSearch('SQLite', (clock) => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-audit-search-'));
  const log = SqliteAuditLog.open({ dataDir: dir, clock });
  // The search reads through its own connection, as the server's does.
  const db = openSqliteDatabase({ dataDir: dir });
  return {
    log,
    search: new SqliteAuditSearch(db),
    dispose: async () => {
      await log.close();
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
