import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeModelRegistry } from '../../ports/model-registry.contract.js';
import { openSqliteDatabase } from './open-sqlite.js';
import { SqliteModelRegistry } from './sqlite-model-registry.js';

describeModelRegistry('SQLite (two connections to one file)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-registry-'));
  const first = openSqliteDatabase({ dataDir: dir });
  const second = openSqliteDatabase({ dataDir: dir });
  return {
    registry: new SqliteModelRegistry(first),
    second: new SqliteModelRegistry(second),
    dispose: () => {
      first.close();
      second.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
