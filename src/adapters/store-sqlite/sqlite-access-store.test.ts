import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeAccessStore } from '../../ports/access-store.contract.js';
import { openSqliteDatabase } from './open-sqlite.js';
import { SqliteAccessStore } from './sqlite-access-store.js';

describeAccessStore('SQLite', (clock) => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-access-'));
  const db = openSqliteDatabase({ dataDir: dir });
  return {
    store: new SqliteAccessStore(db, clock),
    dumpTokens: () => Promise.resolve(JSON.stringify(db.prepare('SELECT * FROM api_tokens').all())),
    dispose: () => {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
