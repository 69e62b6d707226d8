import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeMonitorStore } from '../../ports/monitor-store.contract.js';
import { openSqliteDatabase } from './open-sqlite.js';
import { SqliteIncidentStore } from './sqlite-incident-store.js';
import { SqliteMonitorStore } from './sqlite-monitor-store.js';

describeMonitorStore('SQLite (two connections to one file)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-monitor-'));
  const first = openSqliteDatabase({ dataDir: dir });
  const second = openSqliteDatabase({ dataDir: dir });
  return {
    store: new SqliteMonitorStore(first),
    second: new SqliteMonitorStore(second),
    incidents: new SqliteIncidentStore(first),
    secondIncidents: new SqliteIncidentStore(second),
    dispose: () => {
      first.close();
      second.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
