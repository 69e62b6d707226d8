/** docs/prometheus-alerts.yml parses, and names only metrics the server's /api/metrics exposes. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { openSqliteDatabase } from '../../src/adapters/store-sqlite/open-sqlite.js';
import { SqliteAccessStore } from '../../src/adapters/store-sqlite/sqlite-access-store.js';
import { loadConfig } from '../../src/config/load-config.js';
import { createLogger } from '../../src/logging/create-logger.js';
import { createApiServer, type ApiServer } from '../../src/main.js';
import { REPO_ROOT } from '../helpers/sample-data.js';

interface RuleFile {
  readonly groups: readonly {
    readonly name: string;
    readonly rules: readonly { readonly alert: string; readonly expr: string; readonly labels: Record<string, string> }[];
  }[];
}

let dir: string;
let server: ApiServer;
let exposed: Set<string>;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vigil-prometheus-'));
  server = await createApiServer(loadConfig({ VIGIL_DATA_DIR: dir, VIGIL_INTRA_OP_THREADS: '1' }, REPO_ROOT), createLogger('silent'));
  const db = openSqliteDatabase({ dataDir: dir });
  const access = new SqliteAccessStore(db, { now: () => new Date() });
  const user = await access.createUser('ops', 'admin');
  const token = (await access.issueToken(user.userId, 'test')).secret;
  db.close();
  const metrics = await server.app.inject({ url: '/api/metrics', headers: { authorization: `Bearer ${token}` } });
  expect(metrics.statusCode).toBe(200);
  exposed = new Set([...metrics.body.matchAll(/^# TYPE (\w+) /gm)].map((m) => m[1]!));
}, 60_000);
afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('docs/prometheus-alerts.yml', () => {
  const file = parse(readFileSync(join(REPO_ROOT, 'docs', 'prometheus-alerts.yml'), 'utf8')) as RuleFile;

  it('is a rule file of named groups of alerts, each with an expression and a severity', () => {
    expect(file.groups.map((g) => g.name)).toEqual(['vigil-monitoring', 'vigil-operations']);
    for (const rule of file.groups.flatMap((g) => g.rules)) {
      expect(rule.alert).toMatch(/^Vigil[A-Za-z]+$/);
      expect(rule.expr.length).toBeGreaterThan(0);
      expect(['critical', 'warning', 'info']).toContain(rule.labels.severity);
    }
  });

  it('names only metrics /api/metrics exposes (the monitors and incidents among them)', () => {
    const named = new Set(file.groups.flatMap((g) => g.rules.flatMap((r) => [...r.expr.matchAll(/\bvigil_\w+/g)].map((m) => m[0]))));
    expect([...named].filter((name) => !exposed.has(name))).toEqual([]);
    for (const name of ['vigil_incidents_open', 'vigil_monitor_statistic', 'vigil_monitor_threshold', 'vigil_monitor_collecting_baseline']) {
      expect(named.has(name), name).toBe(true);
    }
  });
});
