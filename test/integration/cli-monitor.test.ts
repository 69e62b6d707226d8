/** `vigil monitor` and `vigil incident` through the real composition root, on a new SQLite data folder. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSqliteDatabase } from '../../src/adapters/store-sqlite/open-sqlite.js';
import { SqliteAuditSearch } from '../../src/adapters/store-sqlite/sqlite-audit-search.js';
import { SqliteIncidentStore } from '../../src/adapters/store-sqlite/sqlite-incident-store.js';
import { openIncident } from '../../src/domain/incident/incident.js';
import { runVigil } from '../helpers/run-vigil.js';

let dir: string;
const incidentId = 'inc-00000000-0000-4000-8000-000000000001';

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'vigil-cli-monitor-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('vigil monitor and vigil incident', () => {
  it('shows a new deployment collecting its baseline, and works an incident to its resolution, audited', async () => {
    const status = await runVigil(['monitor', 'status'], dir);
    expect(status.stderr).toBe('');
    expect(status.stdout).toMatch(/^default production [0-9a-f]{12}: collecting baseline 0\/1000, 0 images, 0 alerts\n$/);
    const json = JSON.parse((await runVigil(['monitor', 'status', '--json'], dir)).stdout) as { deployments: { versionId: string }[] };
    const versionId = json.deployments[0]!.versionId;
    // An empty list says so, in one line (an empty output reads as a command that did nothing).
    expect((await runVigil(['monitor', 'alerts'], dir)).stdout).toBe('No alerts.\n');
    expect((await runVigil(['incident', 'list'], dir)).stdout).toBe('No incidents.\n');
    expect((await runVigil(['monitor', 'status', '--site', 'elsewhere'], dir)).stdout).toBe('No deployment at that site.\n');
    expect((await runVigil(['release', 'list'], dir)).stdout).toBe('No release requests.\n');

    const db = openSqliteDatabase({ dataDir: dir });
    const opened = openIncident('x', 'default', versionId, {
      alertId: 'al-1',
      detector: 'std:down',
      signal: 'std',
      label: 'contrast',
      at: '2026-12-07T12:00:00.000Z',
    });
    expect(await new SqliteIncidentStore(db).create({ ...opened, incidentId })).toBe(true);

    expect((await runVigil(['incident', 'list'], dir)).stdout).toContain(`${incidentId} OPEN medium default`);
    expect((await runVigil(['incident', 'ack', incidentId], dir)).code).toBe(0);
    expect((await runVigil(['incident', 'note', incidentId, '--text', 'Checking the new detector'], dir)).stdout).toContain(
      'note by local-cli: Checking the new detector',
    );
    const noPostmortem = await runVigil(['incident', 'resolve', incidentId], dir);
    expect(noPostmortem.code).not.toBe(0);
    expect(noPostmortem.stderr).toContain('needs --postmortem');
    const resolved = await runVigil(['incident', 'resolve', incidentId, '--postmortem', 'Contrast setting restored.'], dir);
    expect(resolved.stdout).toContain('RESOLVED');
    const again = await runVigil(['incident', 'ack', incidentId], dir);
    expect(again.code).toBe(20);
    expect(again.stderr).toContain('INCIDENT_TRANSITION_INVALID');
    const unknown = await runVigil(['incident', 'show', 'inc-00000000-0000-4000-8000-00000000ffff'], dir);
    expect([unknown.code, unknown.stderr]).toEqual([13, expect.stringContaining('INCIDENT_NOT_FOUND')]);
    // A malformed id is not "no such incident": REQUEST_INVALID, as the API's 400 (test/integration/incident-actions.test.ts).
    const malformed = await runVigil(['incident', 'show', 'nosuch'], dir);
    expect([malformed.code, malformed.stderr]).toEqual([2, expect.stringContaining('REQUEST_INVALID')]);

    const steps = (await new SqliteAuditSearch(db).search({ type: 'incident_changed', limit: 10 })).entries.map((e) =>
      e.event.type === 'incident_changed' ? e.event.action : '',
    );
    expect(steps.sort()).toEqual(['acknowledge', 'note', 'resolve']);
    db.close();
  }, 60_000);
});
