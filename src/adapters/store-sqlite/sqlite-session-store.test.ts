import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeSessionStore } from '../../ports/session-store.contract.js';
import { openSqliteDatabase } from './open-sqlite.js';
import { SqliteAccessStore } from './sqlite-access-store.js';
import { SqliteSessionStore } from './sqlite-session-store.js';

describeSessionStore('SQLite', (clock) => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-sessions-'));
  const db = openSqliteDatabase({ dataDir: dir });
  // Another process's connection to the same file.
  const other = openSqliteDatabase({ dataDir: dir });
  return {
    store: new SqliteSessionStore(db),
    second: new SqliteSessionStore(other),
    access: new SqliteAccessStore(db, clock),
    disableUser: (userId) => Promise.resolve(void db.prepare('UPDATE users SET disabled = 1 WHERE user_id = ?').run(userId)),
    dispose: () => {
      other.close();
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
