import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeCaseStore } from '../../ports/case-store.contract.js';
import { describeStudyRegistry } from '../../ports/study-registry.contract.js';
import { openSqliteDatabase } from './open-sqlite.js';
import { SqliteCaseStore, SqliteStudyRegistry } from './sqlite-study-registry.js';

describeStudyRegistry('SQLite (two connections to one file)', (clock) => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-studies-'));
  const first = openSqliteDatabase({ dataDir: dir });
  const second = openSqliteDatabase({ dataDir: dir });
  return {
    studies: new SqliteStudyRegistry(first, clock),
    second: new SqliteStudyRegistry(second, clock),
    dispose: () => {
      first.close();
      second.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

describeCaseStore('SQLite (two connections to one file)', (clock) => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-cases-'));
  const db = openSqliteDatabase({ dataDir: dir });
  const second = openSqliteDatabase({ dataDir: dir });
  return {
    cases: new SqliteCaseStore(db, clock),
    second: new SqliteCaseStore(second, clock),
    dispose: () => {
      db.close();
      second.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
