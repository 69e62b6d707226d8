import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeDeploymentStore } from '../../ports/deployment-store.contract.js';
import { openSqliteDatabase } from './open-sqlite.js';
import { SqliteDeploymentStore } from './sqlite-deployment-store.js';

describeDeploymentStore('SQLite (two connections to one file)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-deployments-'));
  const first = openSqliteDatabase({ dataDir: dir });
  const second = openSqliteDatabase({ dataDir: dir });
  return {
    store: new SqliteDeploymentStore(first),
    second: new SqliteDeploymentStore(second),
    dispose: () => {
      first.close();
      second.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
