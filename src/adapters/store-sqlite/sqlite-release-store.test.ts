import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeReleaseStore } from '../../ports/release-store.contract.js';
import { openSqliteDatabase } from './open-sqlite.js';
import { SqliteReleaseStore } from './sqlite-release-store.js';

describeReleaseStore('SQLite (two connections to one file)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-releases-'));
  const first = openSqliteDatabase({ dataDir: dir });
  const second = openSqliteDatabase({ dataDir: dir });
  return {
    store: new SqliteReleaseStore(first),
    second: new SqliteReleaseStore(second),
    dispose: () => {
      first.close();
      second.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
