/**
 * Acting on an incident through the API and `vigil incident` on one store: the two answer the same
 * request the same way (a malformed id, an unknown one, an owner who is not an enabled account).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteAccessStore } from '../../src/adapters/store-sqlite/sqlite-access-store.js';
import { SqliteIncidentStore } from '../../src/adapters/store-sqlite/sqlite-incident-store.js';
import { openSqliteDatabase, type SqliteDatabase } from '../../src/adapters/store-sqlite/open-sqlite.js';
import { loadConfig } from '../../src/config/load-config.js';
import { openIncident } from '../../src/domain/incident/incident.js';
import { createLogger } from '../../src/logging/create-logger.js';
import { createApiServer, type ApiServer } from '../../src/main.js';
import { runVigil } from '../helpers/run-vigil.js';
import { REPO_ROOT } from '../helpers/sample-data.js';

const INCIDENT = 'inc-00000000-0000-4000-8000-00000000a551';
const UNKNOWN = 'inc-00000000-0000-4000-8000-00000000ffff';

let dir: string;
let server: ApiServer;
let db: SqliteDatabase;
let manager: Record<string, string>;
const ids: Record<'enabled' | 'disabled' | 'integration' | 'auditor', string> = { enabled: '', disabled: '', integration: '', auditor: '' };

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vigil-incident-actions-'));
  server = await createApiServer(loadConfig({ VIGIL_DATA_DIR: dir, VIGIL_INTRA_OP_THREADS: '1' }, REPO_ROOT), createLogger('silent'));
  db = openSqliteDatabase({ dataDir: dir });
  const access = new SqliteAccessStore(db, { now: () => new Date() });
  const admin = await access.createUser('incident-manager', 'admin');
  manager = { authorization: `Bearer ${(await access.issueToken(admin.userId, 'test')).secret}` };
  ids.enabled = (await access.createUser('on-call', 'ml-engineer')).userId;
  ids.disabled = (await access.createUser('left-the-team', 'ml-engineer')).userId;
  ids.integration = (await access.createUser('pacs', 'integration')).userId;
  ids.auditor = (await access.createUser('external-auditor', 'auditor')).userId;
  expect((await access.updateUser(ids.disabled, { disabled: true })).outcome).toBe('updated');
  const opened = openIncident('x', 'default', '1'.repeat(64), {
    alertId: 'al-1',
    detector: 'std:down',
    signal: 'std',
    label: 'contrast',
    at: '2026-12-07T12:00:00.000Z',
  });
  expect(await new SqliteIncidentStore(db).create({ ...opened, incidentId: INCIDENT })).toBe(true);
}, 60_000);
afterAll(async () => {
  await server?.close();
  db?.close();
  rmSync(dir, { recursive: true, force: true });
});

const api = (method: 'GET' | 'POST', url: string, payload?: object) =>
  server.app.inject({ method, url, headers: manager, ...(payload === undefined ? {} : { payload }) });
const cli = (...argv: string[]) => runVigil(['incident', ...argv], dir);

describe('incident actions, the same over HTTP and on the command line', () => {
  it('answers a malformed id 400 REQUEST_INVALID (exit 2), and a well-formed unknown one 404 INCIDENT_NOT_FOUND (exit 13)', async () => {
    for (const [id, status, code, exit] of [
      ['nosuch', 400, 'REQUEST_INVALID', 2],
      [UNKNOWN, 404, 'INCIDENT_NOT_FOUND', 13],
    ] as const) {
      expect((await api('GET', `/api/incidents/${id}`)).json(), id).toMatchObject({ code, statusCode: status });
      expect((await api('POST', `/api/incidents/${id}/acknowledge`)).json(), id).toMatchObject({ code, statusCode: status });
      const shown = await cli('show', id);
      expect([shown.code, shown.stderr], id).toEqual([exit, expect.stringContaining(code)]);
      const acked = await cli('ack', id);
      expect([acked.code, acked.stderr], id).toEqual([exit, expect.stringContaining(code)]);
    }
  });

  it('assigns an incident only to an enabled account whose role manages incidents, by its user id', async () => {
    // An unknown id, a disabled account, a name instead of an id, and accounts that could not even read the incident (found by the trial).
    for (const owner of ['u-00000000-0000-4000-8000-000000000000', ids.disabled, 'on-call', ids.integration, ids.auditor]) {
      const refused = await api('POST', `/api/incidents/${INCIDENT}/assign`, { owner });
      expect(refused.json(), owner).toMatchObject({ code: 'INCIDENT_OWNER_INVALID', statusCode: 422 });
      const refusedCli = await cli('assign', INCIDENT, '--owner', owner);
      expect([refusedCli.code, refusedCli.stderr], owner).toEqual([20, expect.stringContaining('INCIDENT_OWNER_INVALID')]);
    }
    // Nothing was recorded by the refusals.
    const untouched = (await api('GET', `/api/incidents/${INCIDENT}`)).json<{ incident: { owner: string | null; timeline: { kind: string }[] } }>().incident;
    expect(untouched.owner).toBeNull();
    expect(untouched.timeline.map((e) => e.kind)).toEqual(['opened', 'alert']);
    const assigned = await api('POST', `/api/incidents/${INCIDENT}/assign`, { owner: ids.enabled });
    expect(assigned.statusCode, assigned.body).toBe(200);
    // The id and the name, of the owner and of who acted (the contract carries both; the dashboard and CLI show the name).
    const body = assigned.json<{
      owner: string;
      ownerName: string;
      timeline: { kind: string; by: string | null; byName: string | null; assigneeName: string | null }[];
    }>();
    expect([body.owner, body.ownerName]).toEqual([ids.enabled, 'on-call']);
    expect(body.timeline.at(-1)).toMatchObject({ kind: 'assign', byName: 'incident-manager', assigneeName: 'on-call' });
    expect(body.timeline.at(-1)?.by).toMatch(/^u-/);
    const assignedCli = await cli('assign', INCIDENT, '--owner', ids.enabled);
    expect(assignedCli.code, assignedCli.stderr).toBe(0);
    expect(assignedCli.stdout).toContain('owner on-call;');
    const shown = await cli('show', INCIDENT);
    expect(shown.stdout).toContain('assign by incident-manager: on-call');
    expect(shown.stdout).toContain('assign by local-cli: on-call');
  });

  it('makes no owner of the command line: `vigil incident ack` acknowledges as local-cli and leaves the owner to an account', async () => {
    const incidentId = 'inc-00000000-0000-4000-8000-00000000a552';
    const opened = openIncident('y', 'default', '2'.repeat(64), {
      alertId: 'al-2',
      detector: 'std:down',
      signal: 'std',
      label: 'contrast',
      at: '2026-12-07T12:00:00.000Z',
    });
    expect(await new SqliteIncidentStore(db).create({ ...opened, incidentId })).toBe(true);
    const acked = await cli('ack', incidentId);
    expect(acked.code, acked.stderr).toBe(0);
    expect(acked.stdout).toContain('ACKNOWLEDGED');
    expect(acked.stdout).toContain('owner none;');
    const read = (await api('GET', `/api/incidents/${incidentId}`)).json<{
      incident: { owner: string | null; ownerName: string | null; timeline: { kind: string; by: string | null; byName: string | null }[] };
    }>().incident;
    expect([read.owner, read.ownerName]).toEqual([null, null]);
    expect(read.timeline.at(-1)).toMatchObject({ kind: 'acknowledge', by: 'local-cli', byName: 'local-cli' });
    expect(read.timeline[0]).toMatchObject({ kind: 'opened', by: 'monitoring', byName: 'monitoring' });
  });
});
