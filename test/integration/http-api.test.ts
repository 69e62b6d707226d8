import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteAccessStore } from '../../src/adapters/store-sqlite/sqlite-access-store.js';
import { openSqliteDatabase, type SqliteDatabase } from '../../src/adapters/store-sqlite/open-sqlite.js';
import { hasPermission, ROLES, type Permission, type Role } from '../../src/domain/access/roles.js';
import { loadConfig } from '../../src/config/load-config.js';
import { createLogger } from '../../src/logging/create-logger.js';
import { createApiServer, type ApiServer } from '../../src/main.js';
import { listRoutes } from '../../src/http/create-http-app.js';
import { REPO_ROOT } from '../helpers/sample-data.js';
import { buildPart10, el, imageDataset, SYNTHETIC_IDENTIFIERS } from '../../src/adapters/dicom-dcmjs/internal/test-builders.js';

const NO_USER = 'u-00000000-0000-4000-8000-000000000000';
const NO_TOKEN = 't-00000000-0000-4000-8000-000000000000';
const NO_RELEASE = 'r-00000000-0000-4000-8000-000000000000';

/**
 * Every route, with the permission it needs (the matrix below asserts each role × route). `url` and
 * `body` may depend on the acting role (its own user id); `allowed` lists the statuses that count as
 * served when the default (200, 201, 204, 404, 415) does not fit.
 */
const NO_INCIDENT = 'inc-00000000-0000-4000-8000-000000000000';
const ROUTES: readonly {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  url: string | ((role: Role) => string);
  access: Permission | 'public';
  body?: unknown;
  bodyFor?: (role: Role) => unknown;
  allowed?: readonly number[];
}[] = [
  { method: 'GET', url: '/api/health', access: 'public' },
  { method: 'GET', url: '/api/openapi.json', access: 'public' },
  { method: 'GET', url: '/api/models/current', access: 'models:read' },
  { method: 'GET', url: '/api/metrics', access: 'system:read' },
  { method: 'GET', url: '/api/audit/verify', access: 'audit:verify' },
  { method: 'GET', url: '/api/audit/entries/a-0', access: 'audit:read' },
  { method: 'GET', url: '/api/audit/entries/a-0/proof', access: 'audit:read' },
  { method: 'GET', url: '/api/users', access: 'users:manage' },
  { method: 'GET', url: '/api/studies', access: 'studies:read' },
  { method: 'GET', url: '/api/studies/st-00000000000000000000000000000000', access: 'studies:read' },
  { method: 'GET', url: '/api/cases/none', access: 'studies:read' },
  { method: 'GET', url: '/api/cases/none/fhir', access: 'results:read' },
  { method: 'GET', url: '/api/studies?accessionNumber=A1', access: 'studies:read' },
  // DICOMweb: QIDO-RS and WADO-RS (an unknown study is 404).
  { method: 'GET', url: '/dicomweb/studies?limit=5', access: 'studies:read' },
  { method: 'GET', url: '/dicomweb/studies/2.25.1/series', access: 'studies:read' },
  { method: 'GET', url: '/dicomweb/studies/2.25.1/instances', access: 'studies:read' },
  { method: 'GET', url: '/dicomweb/studies/2.25.1/series/2.25.2/instances', access: 'studies:read' },
  { method: 'GET', url: '/dicomweb/studies/2.25.1', access: 'studies:read' },
  { method: 'GET', url: '/dicomweb/studies/2.25.1/metadata', access: 'studies:read' },
  { method: 'GET', url: '/dicomweb/studies/2.25.1/series/2.25.2', access: 'studies:read' },
  { method: 'GET', url: '/dicomweb/studies/2.25.1/series/2.25.2/metadata', access: 'studies:read' },
  { method: 'GET', url: '/dicomweb/studies/2.25.1/series/2.25.2/instances/2.25.3', access: 'studies:read' },
  { method: 'GET', url: '/dicomweb/studies/2.25.1/series/2.25.2/instances/2.25.3/metadata', access: 'studies:read' },
  { method: 'GET', url: '/api/worklist', access: 'worklist:read' },
  { method: 'GET', url: '/api/worklist?priority=referred&modality=CR&limit=100', access: 'worklist:read' },
  { method: 'GET', url: '/api/worklist/none', access: 'worklist:read' },
  {
    method: 'POST',
    url: '/api/worklist/none/review',
    access: 'reviews:write',
    body: { findingPresent: true, imageQualityAdequate: true, agreesWithModel: true, comment: '' },
  },
  { method: 'GET', url: '/api/reviews', access: 'reviews:read' },
  { method: 'POST', url: '/dicomweb/studies', access: 'ingest:write', body: { not: 'multipart' } },
  { method: 'POST', url: '/api/images', access: 'ingest:write', body: { not: 'multipart' } },
  { method: 'POST', url: '/api/users', access: 'users:manage', body: { name: 'x', role: 'auditor' } },
  // Account and token lifecycle (placeholder ids: served as 404 ACCESS_USER_NOT_FOUND when allowed).
  { method: 'PATCH', url: `/api/users/${NO_USER}`, access: 'users:manage', body: { disabled: true } },
  { method: 'GET', url: (role) => `/api/users/${userIds.get(role) ?? ''}/tokens`, access: 'users:manage' },
  { method: 'POST', url: `/api/users/${NO_USER}/tokens`, access: 'users:manage', body: { label: 'x' } },
  { method: 'DELETE', url: `/api/users/${NO_USER}/tokens/${NO_TOKEN}`, access: 'users:manage' },
  { method: 'POST', url: `/api/users/${NO_USER}/tokens/${NO_TOKEN}/rotate`, access: 'users:manage', body: { overlapSeconds: 0 } },
  // Dashboard sessions: signing in with one's own token works for every role; GET /api/session is
  // cookie-only, so a bearer request gets 401 (no session); a self-service password needs account:self.
  { method: 'POST', url: '/api/session', access: 'public', bodyFor: (role) => ({ token: tokens.get(role) }) },
  { method: 'GET', url: '/api/session', access: 'public', allowed: [401] },
  { method: 'DELETE', url: '/api/session', access: 'public' },
  { method: 'PUT', url: (role) => `/api/users/${userIds.get(role) ?? ''}/password`, access: 'account:self', body: { password: 'a long passphrase' } },
  // The dashboard's data and pages.
  { method: 'GET', url: '/api/cases/none/images/0', access: 'studies:read' },
  { method: 'GET', url: '/api/audit/entries?type=decision&limit=5', access: 'audit:read' },
  { method: 'GET', url: '/api/models/current/card', access: 'models:read' },
  { method: 'GET', url: '/api/models/current/reports/none', access: 'models:read' },
  { method: 'GET', url: '/api/models/current/reports/pneumoniamnist-test/charts/reliability', access: 'models:read' },
  { method: 'GET', url: '/api/system/summary', access: 'system:read' },
  { method: 'GET', url: '/api/models/versions', access: 'models:read' },
  { method: 'GET', url: '/api/models/versions/ffffffff', access: 'models:read' },
  { method: 'GET', url: '/api/models/versions/ffffffff/card', access: 'models:read' },
  { method: 'POST', url: '/api/jobs/999999/retry', access: 'jobs:manage' },
  // Releases and deployments (placeholder request id and site: served as 404 RELEASE_NOT_FOUND / DEPLOYMENT_NOT_FOUND when allowed).
  { method: 'GET', url: '/api/releases', access: 'releases:read' },
  { method: 'POST', url: '/api/releases', access: 'releases:request', body: { changeType: 'recalibration', site: 'default', candidate: 'ffffffff' } },
  { method: 'GET', url: `/api/releases/${NO_RELEASE}`, access: 'releases:read' },
  { method: 'GET', url: `/api/releases/${NO_RELEASE}/evidence/${'0'.repeat(64)}`, access: 'releases:read' },
  { method: 'GET', url: `/api/releases/${NO_RELEASE}/evidence.zip`, access: 'releases:read' },
  { method: 'POST', url: `/api/releases/${NO_RELEASE}/gates`, access: 'releases:request', body: {} },
  // A wrong credential is refused (403 RELEASE_SIGNATURE_INVALID) before the request is looked up: a signer's answer, not the route's refusal.
  {
    method: 'POST',
    url: `/api/releases/${NO_RELEASE}/sign`,
    access: 'releases:sign',
    body: { meaning: 'reviewed', password: 'not the password' },
    allowed: [403],
  },
  { method: 'POST', url: `/api/releases/${NO_RELEASE}/shadow`, access: 'releases:deploy' },
  { method: 'POST', url: `/api/releases/${NO_RELEASE}/canary`, access: 'releases:deploy', body: { fraction: 0.1 } },
  { method: 'POST', url: `/api/releases/${NO_RELEASE}/promote`, access: 'releases:deploy' },
  { method: 'GET', url: '/api/deployments', access: 'releases:read' },
  { method: 'GET', url: '/api/deployments/nowhere/ledger', access: 'audit:read' },
  { method: 'POST', url: '/api/deployments/nowhere/pause', access: 'deployments:pause', body: { reason: 'checking' } },
  { method: 'POST', url: '/api/deployments/nowhere/resume', access: 'deployments:pause' },
  { method: 'POST', url: '/api/deployments/nowhere/rollback', access: 'deployments:rollback' },
  // Monitoring and incidents (placeholder site and incident: served as 404 MONITORING_NOT_FOUND / INCIDENT_NOT_FOUND when allowed).
  { method: 'GET', url: '/api/monitoring', access: 'monitoring:read' },
  { method: 'GET', url: '/api/monitoring/alerts', access: 'monitoring:read' },
  { method: 'GET', url: '/api/monitoring/default', access: 'monitoring:read' },
  { method: 'GET', url: '/api/monitoring/nowhere', access: 'monitoring:read' },
  { method: 'GET', url: '/api/monitoring/default/cases?signal=noise&limit=5', access: 'monitoring:read' },
  { method: 'GET', url: '/api/incidents', access: 'monitoring:read' },
  { method: 'GET', url: `/api/incidents/${NO_INCIDENT}`, access: 'monitoring:read' },
  { method: 'POST', url: `/api/incidents/${NO_INCIDENT}/acknowledge`, access: 'incidents:manage' },
  { method: 'POST', url: `/api/incidents/${NO_INCIDENT}/assign`, access: 'incidents:manage', body: { owner: 'u-1' } },
  { method: 'POST', url: `/api/incidents/${NO_INCIDENT}/note`, access: 'incidents:manage', body: { text: 'looking' } },
  { method: 'POST', url: `/api/incidents/${NO_INCIDENT}/pause`, access: 'deployments:pause', body: { reason: 'drift' } },
  { method: 'POST', url: `/api/incidents/${NO_INCIDENT}/rollback`, access: 'deployments:rollback', body: { reason: 'drift' } },
  { method: 'POST', url: `/api/incidents/${NO_INCIDENT}/resolve`, access: 'incidents:manage', body: { postmortem: 'done' } },
  { method: 'GET', url: '/', access: 'public' },
  { method: 'GET', url: '/worklist', access: 'public' },
  { method: 'GET', url: '/assets/none.js', access: 'public' },
];
const urlOf = (route: (typeof ROUTES)[number], role: Role): string => (typeof route.url === 'string' ? route.url : route.url(role));

let dir: string;
let server: ApiServer;
let app: FastifyInstance;
let db: SqliteDatabase;
const tokens = new Map<Role, string>();
const userIds = new Map<Role, string>();
let logs = '';

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vigil-http-'));
  const config = loadConfig({ VIGIL_DATA_DIR: dir, VIGIL_INTRA_OP_THREADS: '1' }, REPO_ROOT);
  server = await createApiServer(config, createLogger('debug', { write: (line: string) => void (logs += line) }));
  app = server.app;
  db = openSqliteDatabase({ dataDir: dir });
  const access = new SqliteAccessStore(db, { now: () => new Date() });
  for (const role of ROLES) {
    const user = await access.createUser(`user-${role}`, role);
    tokens.set(role, (await access.issueToken(user.userId, 'test')).secret);
    userIds.set(role, user.userId);
  }
  // One audit entry, so entry and proof routes have something to return.
  await server.app.inject({ method: 'GET', url: '/api/health' });
  const { SqliteAuditLog } = await import('../../src/adapters/store-sqlite/sqlite-audit-log.js');
  const log = SqliteAuditLog.open({ dataDir: dir, clock: { now: () => new Date() } });
  await log.append({ type: 'config_loaded', configHash: 'test', vigilVersion: 'test' });
  await log.close();
});
afterAll(async () => {
  await server.close();
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('HTTP API access', () => {
  it('creates an admin with a one-time token on first start, and no default password', () => {
    expect(server.bootstrap?.userName).toBe('admin');
    expect(server.bootstrap?.token).toMatch(/^vgl_/);
  });

  it('answers 401 without credentials on every non-public route, with the error body', async () => {
    for (const route of ROUTES.filter((r) => r.access !== 'public')) {
      const response = await app.inject({
        method: route.method,
        url: urlOf(route, 'admin'),
        ...(route.body === undefined ? {} : { payload: route.body as object }),
      });
      expect(response.statusCode, `${route.method} ${urlOf(route, 'admin')}`).toBe(401);
      expect(response.json()).toEqual({ code: 'AUTH_REQUIRED', message: expect.any(String), statusCode: 401, requestId: response.headers['x-request-id'] });
    }
    const forged = await app.inject({ method: 'GET', url: '/api/metrics', headers: { authorization: 'Bearer vgl_' + 'x'.repeat(43) } });
    expect(forged.statusCode).toBe(401);
  });

  it.each(ROLES)('lets %s do exactly what its role permits (every route)', async (role) => {
    for (const route of ROUTES) {
      const url = urlOf(route, role);
      const body =
        route.bodyFor !== undefined
          ? route.bodyFor(role)
          : route.body === undefined
            ? undefined
            : url === '/api/users'
              ? { ...(route.body as object), name: `made-by-${role}` }
              : route.body;
      const response = await app.inject({
        method: route.method,
        url,
        headers: { authorization: `Bearer ${tokens.get(role) ?? ''}` },
        ...(body === undefined ? {} : { payload: body as object }),
      });
      const allowed = route.access === 'public' || hasPermission(role, route.access);
      // Allowed: served, a 404 for the placeholder resource, or 415 for the placeholder body (never 401/403).
      if (allowed) {
        expect(route.allowed ?? [200, 201, 204, 404, 415], `${role} ${route.method} ${url}`).toContain(response.statusCode);
        if (response.statusCode === 403) expect(response.json<{ code: string }>().code, `${role} ${route.method} ${url}`).not.toBe('AUTH_FORBIDDEN');
      } else {
        expect([response.statusCode, response.json<{ code: string }>().code], `${role} ${route.method} ${url}`).toEqual([403, 'AUTH_FORBIDDEN']);
      }
    }
  });
});

describe('STOW-RS', () => {
  function multipart(parts: readonly Uint8Array[], boundary: string): Buffer {
    const chunks: Buffer[] = [];
    for (const part of parts) chunks.push(Buffer.from(`--${boundary}\r\nContent-Type: application/dicom\r\n\r\n`), Buffer.from(part), Buffer.from('\r\n'));
    chunks.push(Buffer.from(`--${boundary}--\r\n`));
    return Buffer.concat(chunks);
  }
  const stow = (payload: Buffer, contentType: string, role: Role = 'integration') =>
    app.inject({
      method: 'POST',
      url: '/dicomweb/studies',
      headers: { authorization: `Bearer ${tokens.get(role) ?? ''}`, 'content-type': contentType },
      payload,
    });

  it('stores each instance like C-STORE and answers with the Store Instances Response (200, 202, 409)', async () => {
    const good = buildPart10(imageDataset({ rows: 8, columns: 8, bitsAllocated: 16, modality: 'CR', pixelData: el(0x7fe00010, 'OW', new Uint8Array(128)) }), {
      transferSyntaxUid: '1.2.840.10008.1.2.1',
    });
    const garbage = new TextEncoder().encode('not dicom at all');
    const type = (b: string) => `multipart/related; type="application/dicom"; boundary=${b}`;

    const mixed = await stow(multipart([good, garbage], 'xyz'), type('xyz'));
    expect(mixed.statusCode).toBe(202);
    expect(mixed.headers['content-type']).toContain('application/dicom+json');
    const body = mixed.json<Record<string, { Value: Record<string, { Value?: unknown[] }>[] }>>();
    expect(body['00081199']?.Value[0]?.['00081155']?.Value).toEqual([SYNTHETIC_IDENTIFIERS.sopInstanceUid]);
    expect(body['00081198']?.Value[0]?.['00081197']?.Value).toEqual([0xc000]);

    const again = await stow(multipart([good], 'b2'), type('b2'));
    expect(again.statusCode, 'a duplicate is stored once and acknowledged').toBe(200);
    const none = await stow(multipart([garbage], 'b3'), type('b3'));
    expect(none.statusCode).toBe(409);
    // Without a Study Instance UID (type 1) an instance cannot be filed: refused as not understood, not a processing failure.
    const noStudy = buildPart10(
      imageDataset({ rows: 8, columns: 8, bitsAllocated: 16, modality: 'CR', pixelData: el(0x7fe00010, 'OW', new Uint8Array(128)) }).filter(
        (e) => e.tag !== 0x0020000d,
      ),
      { transferSyntaxUid: '1.2.840.10008.1.2.1' },
    );
    const orphan = await stow(multipart([noStudy], 'b5'), type('b5'));
    expect(orphan.statusCode).toBe(409);
    expect(orphan.json<Record<string, { Value: Record<string, { Value?: unknown[] }>[] }>>()['00081198']?.Value[0]?.['00081197']?.Value).toEqual([0xc000]);
    expect((await stow(Buffer.from('x'), 'text/plain')).json<{ code: string; statusCode: number }>()).toMatchObject({
      code: 'INPUT_FORMAT_UNKNOWN',
      statusCode: 415,
    });
    expect((await stow(Buffer.from('--x\r\nbroken'), type('x'))).json<{ code: string }>().code).toBe('REQUEST_INVALID');
    expect((await stow(multipart([good], 'b4'), type('b4'), 'ml-engineer')).statusCode).toBe(403);

    const studies = await app.inject({ method: 'GET', url: '/api/studies', headers: { authorization: `Bearer ${tokens.get('ml-engineer') ?? ''}` } });
    expect(studies.json<{ studies: { instances: number }[] }>().studies).toMatchObject([{ instances: 1 }]);
    expect(logs).not.toContain(SYNTHETIC_IDENTIFIERS.patientName);
    expect(logs).not.toContain(SYNTHETIC_IDENTIFIERS.sopInstanceUid);
  });
});

describe('HTTP API behaviour', () => {
  const as = (role: Role) => ({ authorization: `Bearer ${tokens.get(role) ?? ''}` });

  it('lets an operator send a dead-lettered job back to the queue, once, and audits it', async () => {
    const { SqliteJobQueue } = await import('../../src/adapters/store-sqlite/sqlite-job-queue.js');
    const jobs = new SqliteJobQueue(db, { clock: { now: () => new Date() }, retry: { baseDelayMs: 1, maxDelayMs: 1 }, defaultMaxAttempts: 1 });
    const { job } = await jobs.enqueue({ kind: 'deliver-result', dedupeKey: 'retry-route-test', payload: {}, maxAttempts: 1 });
    const lease = await jobs.lease(['deliver-result'], 60_000);
    expect(lease?.job.id).toBe(job.id);
    await jobs.fail(job.id, lease?.leaseToken ?? '', { code: 'RESULT_DELIVERY_FAILED', message: 'destination down' });
    expect((await jobs.deadLetters(10)).map((d) => d.id)).toContain(job.id);

    const retry = () => app.inject({ method: 'POST', url: `/api/jobs/${job.id}/retry`, headers: { authorization: `Bearer ${tokens.get('admin') ?? ''}` } });
    const first = await retry();
    expect(first.statusCode).toBe(200);
    expect(first.json()).toEqual({ jobId: job.id, state: 'ready' });
    expect((await jobs.deadLetters(10)).map((d) => d.id)).not.toContain(job.id);
    expect((await retry()).json<{ code: string }>().code, 'a job that is not dead').toBe('ROUTE_NOT_FOUND');
    // Back in the queue: a worker leases it again (and here completes it, leaving the queue empty).
    const again = await jobs.lease(['deliver-result'], 60_000);
    expect(again?.job.id).toBe(job.id);
    expect(await jobs.complete(job.id, again?.leaseToken ?? '')).toBe(true);

    const entries = await app.inject({
      method: 'GET',
      url: '/api/audit/entries?type=job_retried',
      headers: { authorization: `Bearer ${tokens.get('auditor') ?? ''}` },
    });
    expect(entries.json<{ entries: { event: { jobId: number; role: string } }[] }>().entries.map((e) => e.event)).toContainEqual(
      expect.objectContaining({ jobId: job.id, role: 'admin' }),
    );
  });

  it('audits the creation of an account by surrogate ids, never its name', async () => {
    const created = await app.inject({
      method: 'POST',
      url: '/api/users',
      headers: { authorization: `Bearer ${tokens.get('admin') ?? ''}` },
      payload: { name: 'new.reviewer', role: 'clinician-reviewer' },
    });
    expect(created.statusCode).toBe(201);
    const newUserId = created.json<{ user: { userId: string } }>().user.userId;
    const entries = await app.inject({
      method: 'GET',
      url: '/api/audit/entries?type=user_created',
      headers: { authorization: `Bearer ${tokens.get('auditor') ?? ''}` },
    });
    expect(entries.body).not.toContain('new.reviewer');
    expect(entries.json<{ entries: { event: unknown }[] }>().entries.map((e) => e.event)).toContainEqual({
      type: 'user_created',
      userId: newUserId,
      grantedRole: 'clinician-reviewer',
      createdBy: userIds.get('admin'),
      role: 'admin',
    });
  });

  it('reads the bearer scheme case-insensitively, as RFC 7235 says', async () => {
    const token = tokens.get('ml-engineer') ?? '';
    for (const authorization of [`bearer ${token}`, `BEARER  ${token}`]) {
      expect((await app.inject({ method: 'GET', url: '/api/studies', headers: { authorization } })).statusCode, authorization.slice(0, 8)).toBe(200);
    }
    expect((await app.inject({ method: 'GET', url: '/api/studies', headers: { authorization: `Basic ${token}` } })).statusCode).toBe(401);
  });

  it('serves OpenAPI 3 with every route', async () => {
    const spec = (await app.inject({ method: 'GET', url: '/api/openapi.json' })).json<{ openapi: string; paths: Record<string, unknown> }>();
    expect(spec.openapi).toMatch(/^3\./);
    expect(Object.keys(spec.paths)).toEqual(expect.arrayContaining(['/api/health', '/api/audit/verify', '/api/audit/entries/{auditId}/proof', '/api/users']));
  });

  const METHOD_ORDER = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];
  const byMethod = (a: string, b: string): number => METHOD_ORDER.indexOf(a) - METHOD_ORDER.indexOf(b);

  it('returns coded errors for bad input and unknown routes', async () => {
    const badId = await app.inject({ method: 'GET', url: '/api/audit/entries/SYNTHETIC%5EPATIENT', headers: as('auditor') });
    expect({ ...badId.json(), requestId: '…' }).toMatchInlineSnapshot(`
      {
        "code": "REQUEST_INVALID",
        "message": "The request is invalid: auditId: an audit id such as a-42",
        "requestId": "…",
        "statusCode": 400,
      }
    `);
    const missing = await app.inject({ method: 'GET', url: '/api/audit/entries/a-999', headers: as('auditor') });
    expect(missing.statusCode).toBe(404);
    expect(missing.json<{ code: string }>().code).toBe('AUDIT_ENTRY_NOT_FOUND');
    const nowhere = await app.inject({ method: 'GET', url: '/api/nowhere', headers: as('admin') });
    expect({ ...nowhere.json(), requestId: '…' }).toMatchInlineSnapshot(`
      {
        "code": "ROUTE_NOT_FOUND",
        "message": "No such route",
        "requestId": "…",
        "statusCode": 404,
      }
    `);
    // A path that is a route for other methods: 405 with Allow, for every route (not only this one), before authentication.
    const wrongMethod = await app.inject({ method: 'GET', url: '/api/incidents/inc-00000000-0000-4000-8000-000000000001/acknowledge' });
    expect(wrongMethod.headers.allow).toBe('POST');
    expect({ ...wrongMethod.json(), requestId: '…' }).toMatchInlineSnapshot(`
      {
        "code": "ROUTE_METHOD_NOT_ALLOWED",
        "message": "This route takes POST",
        "requestId": "…",
        "statusCode": 405,
      }
    `);
    let refusedMethods = 0;
    const methods = new Map<string, Set<string>>();
    for (const route of listRoutes(app)) methods.set(route.url, (methods.get(route.url) ?? new Set()).add(route.method));
    for (const [url, taken] of methods) {
      if (url.includes('*')) continue; // the dashboard's wildcard pages: every path, GET only
      const concrete = url.replace(/:(\w+)/g, 'x');
      for (const method of ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'].filter((m) => !taken.has(m))) {
        const response = await app.inject({ method: method as 'GET', url: concrete, headers: as('admin') });
        // Another route's pattern may take the same concrete path for this method (/api/models/versions/x vs …/current).
        if (response.statusCode === 405) {
          expect(response.headers.allow, `${method} ${url}`).toBe([...taken].sort(byMethod).join(', '));
          refusedMethods += 1;
        } else expect(app.findRoute({ method, url: concrete }), `${method} ${url}: ${response.statusCode}`).not.toBeNull();
      }
    }
    expect(refusedMethods).toBeGreaterThan(150);
    // The dashboard's pages match every path for GET; that makes no other method's path a route.
    expect((await app.inject({ method: 'POST', url: '/api/nowhere', headers: as('admin') })).statusCode).toBe(404);
    const badBody = await app.inject({ method: 'POST', url: '/api/users', headers: as('admin'), payload: { name: 'ok', role: 'superuser' } });
    expect(badBody.statusCode).toBe(400);
    expect(badBody.json<{ code: string; message: string }>().message).toContain('role');
    const notJson = await app.inject({ method: 'POST', url: '/api/users', headers: { ...as('admin'), 'content-type': 'application/json' }, payload: '{nope' });
    expect(notJson.json<{ code: string }>().code).toBe('REQUEST_INVALID');
  });

  it('refuses a time range the wrong way round (400 naming its end) on every route that takes one, rather than answer nothing', async () => {
    const later = '2026-12-07T12:00:00Z';
    const earlier = '2026-12-01T00:00:00Z';
    const ranged: readonly { readonly path: string; readonly start: string; readonly end: string; readonly role: Role }[] = [
      { path: '/api/worklist', start: 'from', end: 'to', role: 'clinician-reviewer' },
      { path: '/api/monitoring/{site}/cases', start: 'from', end: 'to', role: 'admin' },
      { path: '/api/audit/entries', start: 'since', end: 'until', role: 'auditor' },
    ];
    // Every route whose query has a range is in the list above.
    const doc = (await app.inject({ url: '/api/openapi.json' })).json<{
      paths: Record<string, Record<string, { parameters?: { in: string; name: string }[] }>>;
    }>();
    const withRange = Object.entries(doc.paths).flatMap(([path, operations]) =>
      Object.values(operations).some((op) => {
        const names = new Set((op.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name));
        return (names.has('from') && names.has('to')) || (names.has('since') && names.has('until'));
      })
        ? [path]
        : [],
    );
    expect(withRange.sort()).toEqual(ranged.map((r) => r.path).sort());
    for (const { path, start, end, role } of ranged) {
      const url = path.replace('{site}', 'default');
      const reversed = await app.inject({ url: `${url}?${start}=${later}&${end}=${earlier}`, headers: as(role) });
      expect(reversed.statusCode, path).toBe(400);
      expect(reversed.json(), path).toMatchObject({ code: 'REQUEST_INVALID', message: `The request is invalid: ${end}: not before ${start}` });
      const ordered = await app.inject({ url: `${url}?${start}=${earlier}&${end}=${later}`, headers: as(role) });
      expect(ordered.statusCode, `${path}: ${ordered.body}`).not.toBe(400);
    }
    // A seq cursor range too: after a seq greater than the last one asked for (found by the trial: 200 and nothing).
    const cursor = await app.inject({ url: '/api/monitoring/default/cases?after=5&through=3', headers: as('admin') });
    expect(cursor.json()).toMatchObject({ code: 'REQUEST_INVALID', statusCode: 400, message: 'The request is invalid: through: not before after' });
    expect((await app.inject({ url: '/api/monitoring/default/cases?after=3&through=3', headers: as('admin') })).statusCode).not.toBe(400);
    // QIDO-RS's StudyDate range (PS3.4 C.2.2.2.5) the same way.
    const qido = await app.inject({ url: '/dicomweb/studies?StudyDate=20261207-20261201', headers: as('clinician-reviewer') });
    expect(qido.json()).toMatchObject({ code: 'REQUEST_INVALID', statusCode: 400 });
    expect((await app.inject({ url: '/dicomweb/studies?StudyDate=20261201-20261207', headers: as('clinician-reviewer') })).statusCode).toBe(200);
  });

  it('verifies and proves the audit log over HTTP', async () => {
    const verify = await app.inject({ method: 'GET', url: '/api/audit/verify', headers: as('auditor') });
    // One entry from the setup, then what the matrix did (sign-ins, password changes…).
    const { treeSize } = verify.json<{ treeSize: number }>();
    expect(verify.json()).toMatchObject({ ok: true });
    expect(treeSize).toBeGreaterThan(1);
    const proof = await app.inject({ method: 'GET', url: '/api/audit/entries/a-0/proof', headers: as('auditor') });
    expect(proof.json()).toMatchObject({ auditId: 'a-0', leafIndex: 0, treeSize, verified: true });
  });

  it('serves a decided case as a FHIR Bundle to an integration, and refuses a case with nothing decided', async () => {
    const { SqliteCaseStore, SqliteStudyRegistry } = await import('../../src/adapters/store-sqlite/sqlite-study-registry.js');
    const clock = { now: () => new Date('2024-02-01T08:30:00.000Z') };
    const studyKey = 'st-00000000000000000000000000000fff';
    const model = { id: 'pneumonia-demo', version: '1.0.0', sha256: 'ab'.repeat(32) };
    // Sent by the integration: it reads the results of the studies it sent, and of no other.
    const sender = { senderId: userIds.get('integration') ?? '' };
    await new SqliteStudyRegistry(db, clock).recordInstance(studyKey, '2.25.42', '2.25.43', sender);
    await new SqliteStudyRegistry(db, clock).recordInstance('st-00000000000000000000000000000ffe', '2.25.44', '2.25.45', sender);
    const result = (decision: string, status = 'decided') => ({
      input: { file: '/objects/2.25.42/2.25.43.png', frame: null },
      studyKey,
      status,
      quality: { verdict: 'pass', reasons: [] },
      outputs: status === 'decided' ? [{ finding: 'pneumonia', probability: 0.125, decision }] : [],
      model,
      auditId: 'a-0',
    });
    const cases = new SqliteCaseStore(db, clock);
    await cases.save({ caseId: 'case-fhir-1', studyKey, model, instances: 1, results: [result('negative'), result('', 'rejected')] });
    await cases.save({ caseId: 'case-fhir-2', studyKey: 'st-00000000000000000000000000000ffe', model, instances: 1, results: [result('', 'rejected')] });

    const response = await app.inject({ method: 'GET', url: '/api/cases/case-fhir-1/fhir', headers: as('integration') });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toContain('application/fhir+json');
    const bundle = response.json<{
      resourceType: string;
      type: string;
      entry: { resource: { resourceType: string; status: string; conclusion?: string } }[];
    }>();
    expect(bundle).toMatchObject({ resourceType: 'Bundle', type: 'collection' });
    // Nobody has read it: a machine result is preliminary (docs/api.md, "Results back").
    expect(bundle.entry.map((e) => `${e.resource.resourceType}:${e.resource.status}`)).toEqual(['DiagnosticReport:preliminary', 'Observation:preliminary']);
    expect(bundle.entry[0]?.resource.conclusion).toContain('pneumonia: negative (probability 0.125)');
    // Uploaded images have no patient identity to restore: the subject is left out rather than invented.
    expect(bundle.entry[0]?.resource).not.toHaveProperty('subject');

    const nothingDecided = await app.inject({ method: 'GET', url: '/api/cases/case-fhir-2/fhir', headers: as('integration') });
    expect(nothingDecided.json()).toMatchObject({ code: 'RESULT_NOT_DECIDED', statusCode: 409 });

    // Another integration did not send it: to that one the case does not exist.
    const access = new SqliteAccessStore(db, { now: () => new Date() });
    const other = await access.createUser('another-sender', 'integration');
    const otherToken = (await access.issueToken(other.userId, 'test')).secret;
    const notTheirs = await app.inject({ method: 'GET', url: '/api/cases/case-fhir-1/fhir', headers: { authorization: `Bearer ${otherToken}` } });
    expect(notTheirs.json()).toMatchObject({ code: 'ROUTE_NOT_FOUND', statusCode: 404 });
    expect((await app.inject({ method: 'GET', url: '/api/cases/case-fhir-1', headers: { authorization: `Bearer ${otherToken}` } })).statusCode).toBe(404);
    expect((await app.inject({ method: 'GET', url: '/api/cases/case-fhir-1', headers: as('integration') })).statusCode).toBe(200);
  });

  it('exposes Prometheus metrics', async () => {
    const metrics = await app.inject({ method: 'GET', url: '/api/metrics', headers: as('ml-engineer') });
    expect(metrics.headers['content-type']).toContain('text/plain');
    expect(metrics.body).toContain('vigil_jobs{state="ready"} 0');
    expect(metrics.body).toMatch(/vigil_audit_entries \d+/);
    expect(metrics.body).toMatch(/vigil_model_pool_bytes\{kind="limit"\} 2147483648\n/);
    for (const name of ['vigil_dead_letters', 'vigil_images_judged_24h', 'vigil_gate_rejections_24h', 'vigil_free_disk_bytes']) {
      expect(metrics.body, name).toMatch(new RegExp(`^# TYPE ${name} gauge\n(.*\n)*${name} \\d+`, 'm'));
    }
  });

  it('logs the route pattern and status, never the raw URL or the token', () => {
    expect(logs).toContain('GET /api/audit/entries/:auditId');
    expect(logs).not.toContain('SYNTHETIC');
    for (const token of tokens.values()) expect(logs).not.toContain(token);
  });
});
