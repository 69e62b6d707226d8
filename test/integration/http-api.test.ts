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
import { REPO_ROOT } from '../helpers/sample-data.js';
import { buildPart10, el, imageDataset, SYNTHETIC_IDENTIFIERS } from '../../src/adapters/dicom-dcmjs/internal/test-builders.js';

/** Every route, with the permission it needs (the matrix below asserts each role × route). */
const ROUTES: readonly { method: 'GET' | 'POST'; url: string; access: Permission | 'public'; body?: unknown }[] = [
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
  { method: 'GET', url: '/api/worklist', access: 'worklist:read' },
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
];

let dir: string;
let server: ApiServer;
let app: FastifyInstance;
let db: SqliteDatabase;
const tokens = new Map<Role, string>();
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
      const response = await app.inject({ method: route.method, url: route.url, ...(route.body === undefined ? {} : { payload: route.body as object }) });
      expect(response.statusCode, `${route.method} ${route.url}`).toBe(401);
      expect(response.json()).toEqual({ code: 'AUTH_REQUIRED', message: expect.any(String), statusCode: 401, requestId: response.headers['x-request-id'] });
    }
    const forged = await app.inject({ method: 'GET', url: '/api/metrics', headers: { authorization: 'Bearer vgl_' + 'x'.repeat(43) } });
    expect(forged.statusCode).toBe(401);
  });

  it.each(ROLES)('lets %s do exactly what its role permits (every route)', async (role) => {
    for (const route of ROUTES) {
      const body = route.body === undefined ? undefined : route.url === '/api/users' ? { ...(route.body as object), name: `made-by-${role}` } : route.body;
      const response = await app.inject({
        method: route.method,
        url: route.url,
        headers: { authorization: `Bearer ${tokens.get(role) ?? ''}` },
        ...(body === undefined ? {} : { payload: body as object }),
      });
      const allowed = route.access === 'public' || hasPermission(role, route.access);
      // Allowed: served, a 404 for the placeholder resource, or 415 for the placeholder body (never 401/403).
      if (allowed) expect([200, 201, 404, 415], `${role} ${route.method} ${route.url}`).toContain(response.statusCode);
      else expect(response.statusCode, `${role} ${route.method} ${route.url}`).toBe(403);
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

  it('serves OpenAPI 3 with every route', async () => {
    const spec = (await app.inject({ method: 'GET', url: '/api/openapi.json' })).json<{ openapi: string; paths: Record<string, unknown> }>();
    expect(spec.openapi).toMatch(/^3\./);
    expect(Object.keys(spec.paths)).toEqual(expect.arrayContaining(['/api/health', '/api/audit/verify', '/api/audit/entries/{auditId}/proof', '/api/users']));
  });

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
    const badBody = await app.inject({ method: 'POST', url: '/api/users', headers: as('admin'), payload: { name: 'ok', role: 'superuser' } });
    expect(badBody.statusCode).toBe(400);
    expect(badBody.json<{ code: string; message: string }>().message).toContain('role');
    const notJson = await app.inject({ method: 'POST', url: '/api/users', headers: { ...as('admin'), 'content-type': 'application/json' }, payload: '{nope' });
    expect(notJson.json<{ code: string }>().code).toBe('REQUEST_INVALID');
  });

  it('verifies and proves the audit log over HTTP', async () => {
    const verify = await app.inject({ method: 'GET', url: '/api/audit/verify', headers: as('auditor') });
    expect(verify.json()).toMatchObject({ ok: true, treeSize: 1 });
    const proof = await app.inject({ method: 'GET', url: '/api/audit/entries/a-0/proof', headers: as('auditor') });
    expect(proof.json()).toMatchObject({ auditId: 'a-0', leafIndex: 0, treeSize: 1, verified: true });
  });

  it('exposes Prometheus metrics', async () => {
    const metrics = await app.inject({ method: 'GET', url: '/api/metrics', headers: as('ml-engineer') });
    expect(metrics.headers['content-type']).toContain('text/plain');
    expect(metrics.body).toContain('vigil_jobs{state="ready"} 0');
    expect(metrics.body).toMatch(/vigil_audit_entries \d+/);
  });

  it('logs the route pattern and status, never the raw URL or the token', () => {
    expect(logs).toContain('GET /api/audit/entries/:auditId');
    expect(logs).not.toContain('SYNTHETIC');
    for (const token of tokens.values()) expect(logs).not.toContain(token);
  });
});
