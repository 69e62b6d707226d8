import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeWorklistStore } from '../../ports/worklist-store.contract.js';
import { openSqliteDatabase } from './open-sqlite.js';
import { SqliteCaseStore } from './sqlite-study-registry.js';
import { SqliteWorklistStore } from './sqlite-worklist-store.js';

describeWorklistStore('SQLite (two connections to one file)', (clock) => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-worklist-'));
  const first = openSqliteDatabase({ dataDir: dir });
  const second = openSqliteDatabase({ dataDir: dir });
  return {
    worklist: new SqliteWorklistStore(first, clock),
    cases: new SqliteCaseStore(first, clock),
    second: new SqliteWorklistStore(second, clock),
    dispose: () => {
      first.close();
      second.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
