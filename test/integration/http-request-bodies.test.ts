import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { get as httpGet, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { fc, test } from '@fast-check/vitest';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteAccessStore } from '../../src/adapters/store-sqlite/sqlite-access-store.js';
import { openSqliteDatabase, type SqliteDatabase } from '../../src/adapters/store-sqlite/open-sqlite.js';
import { hasPermission, ROLES, type Role } from '../../src/domain/access/roles.js';
import { loadConfig } from '../../src/config/load-config.js';
import { listRoutes, type RegisteredRoute } from '../../src/http/create-http-app.js';
import { EMPTY_OBJECT_BODY, PUBLIC_BODY_LIMIT_BYTES } from '../../src/http/route-body.js';
import { createLogger } from '../../src/logging/create-logger.js';
import { createApiServer, type ApiServer } from '../../src/main.js';
import { REPO_ROOT } from '../helpers/sample-data.js';

// Field findings I, item 1: every route accepts only the media types and sizes it declares, refuses
// the rest from the headers before reading (415, 413), cuts a chunked body at its limit, and checks
// credentials before any of it. Bodies are counted as the server pulls them, so "never read" is measured.

/**
 * What the streams between the test and the route pull ahead of what the route reads: the test
 * body's and the injected request's buffers (16 KiB each) and the chunks in flight between them.
 * A body refused unread is pulled at most this far; one cut at its limit, the limit and this.
 */
const READ_AHEAD_BYTES = 128 * 1024;
const CHUNK_BYTES = 16 * 1024;
const MIB = 2 ** 20;

let dir: string;
let server: ApiServer;
let app: FastifyInstance;
let db: SqliteDatabase;
const tokens = new Map<Role, string>();
const userIds = new Map<Role, string>();

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vigil-bodies-'));
  const config = loadConfig({ VIGIL_DATA_DIR: dir, VIGIL_INTRA_OP_THREADS: '1' }, REPO_ROOT);
  server = await createApiServer(config, createLogger('silent'));
  app = server.app;
  db = openSqliteDatabase({ dataDir: dir });
  const access = new SqliteAccessStore(db, { now: () => new Date() });
  for (const role of ROLES) {
    const user = await access.createUser(`user-${role}`, role);
    tokens.set(role, (await access.issueToken(user.userId, 'test')).secret);
    userIds.set(role, user.userId);
  }
});
afterAll(async () => {
  await server.close();
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A body of `total` bytes that counts what the server pulls from it. */
function countedBody(total: number): { readonly stream: Readable; readonly pulled: () => number } {
  let pulled = 0;
  const stream = new Readable({
    highWaterMark: CHUNK_BYTES,
    read() {
      if (pulled >= total) return void this.push(null);
      const n = Math.min(CHUNK_BYTES, total - pulled);
      pulled += n;
      this.push(Buffer.alloc(n, 0x41));
    },
  });
  return { stream, pulled: () => pulled };
}

/** A role allowed on the route (none for a public one), and the route's URL with its parameters filled in. */
function callerOf(route: RegisteredRoute): Role | undefined {
  const access = route.access;
  if (access === 'public' || access === undefined) return undefined;
  const role = ROLES.find((r) => hasPermission(r, access));
  if (role === undefined) throw new Error(`no role has ${access}`);
  return role;
}
function urlOf(route: RegisteredRoute, role: Role | undefined): string {
  const values: Record<string, string> = {
    userId: userIds.get(role ?? 'admin') ?? '',
    studyKey: `st-${'0'.repeat(32)}`,
    auditId: 'a-0',
    jobId: '999999',
    index: '0',
    requestId: 'r-00000000-0000-4000-8000-000000000000',
    sha256: '0'.repeat(64),
    site: 'nowhere',
  };
  return route.url.replace(/:(\w+)/g, (_, name: string) => values[name] ?? 'none').replace('*', 'none.js');
}

const routes = (): readonly RegisteredRoute[] => listRoutes(app).filter((r) => r.method !== 'HEAD');

async function send(options: {
  route: RegisteredRoute;
  contentType: string | undefined;
  bytes: number;
  chunked: boolean;
  anonymous?: boolean;
}): Promise<{ status: number; body: Record<string, unknown>; pulled: number; connection: string | undefined }> {
  const { route, contentType, bytes, chunked } = options;
  const role = callerOf(route);
  const body = countedBody(bytes);
  const response = await app.inject({
    method: route.method as 'GET',
    url: urlOf(route, role),
    headers: {
      ...(role === undefined || options.anonymous === true ? {} : { authorization: `Bearer ${tokens.get(role) ?? ''}` }),
      ...(contentType === undefined ? {} : { 'content-type': contentType }),
      ...(chunked ? { 'transfer-encoding': 'chunked' } : { 'content-length': String(bytes) }),
    },
    payload: body.stream,
  });
  const text = response.body;
  return {
    status: response.statusCode,
    body: text.startsWith('{') ? (JSON.parse(text) as Record<string, unknown>) : {},
    pulled: body.pulled(),
    connection: response.headers.connection as string | undefined,
  };
}

/** Media types a client might send; each route declares at most one of them. */
const MEDIA_TYPES = [
  'application/json',
  'multipart/related; type="application/dicom"; boundary=x',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/octet-stream',
  'application/dicom',
  'image/png',
  undefined,
] as const;
const mediaTypeOf = (contentType: string | undefined) => (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
const isDeclared = (route: RegisteredRoute, contentType: string | undefined) => route.body?.mediaTypes.includes(mediaTypeOf(contentType)) === true;

describe('request bodies: every route × media type', () => {
  it('declares a body only where a route reads one, public routes at most PUBLIC_BODY_LIMIT_BYTES', () => {
    const withBody = routes()
      .filter((r) => r.body !== undefined && r.body !== EMPTY_OBJECT_BODY)
      .map((r) => `${r.method} ${r.url} ${r.body?.mediaTypes.join(',')} ${r.body?.limitBytes}`);
    // Every other action (POST, PUT, PATCH, DELETE) takes no body, or `{}` (EMPTY_OBJECT_BODY): what many clients send.
    expect(
      routes()
        .filter((r) => r.body === EMPTY_OBJECT_BODY)
        .map((r) => `${r.method} ${r.url}`),
    ).toEqual([
      'DELETE /api/session',
      'POST /api/jobs/:jobId/retry',
      'POST /api/releases/:requestId/shadow',
      'POST /api/releases/:requestId/promote',
      'POST /api/deployments/:site/resume',
      'POST /api/deployments/:site/rollback',
      'POST /api/incidents/:incidentId/acknowledge',
      'DELETE /api/users/:userId/tokens/:tokenId',
    ]);
    expect(routes().filter((r) => r.body === undefined && !['GET', 'HEAD', 'OPTIONS'].includes(r.method))).toEqual([]);
    expect(withBody).toEqual([
      `POST /api/session application/json ${PUBLIC_BODY_LIMIT_BYTES}`,
      'PUT /api/users/:userId/password application/json 16384',
      'POST /api/releases application/json 4096',
      'POST /api/releases/:requestId/gates application/json 16384',
      'POST /api/releases/:requestId/sign application/json 8192',
      'POST /api/releases/:requestId/canary application/json 1024',
      'POST /api/deployments/:site/pause application/json 4096',
      'POST /api/incidents/:incidentId/assign application/json 16384',
      'POST /api/incidents/:incidentId/note application/json 16384',
      'POST /api/incidents/:incidentId/pause application/json 16384',
      'POST /api/incidents/:incidentId/rollback application/json 16384',
      'POST /api/incidents/:incidentId/resolve application/json 131072',
      'POST /api/users application/json 8192',
      'PATCH /api/users/:userId application/json 1024',
      'POST /api/users/:userId/tokens application/json 1024',
      'POST /api/users/:userId/tokens/:tokenId/rotate application/json 1024',
      'POST /api/worklist/:itemId/review application/json 16384',
      `POST /dicomweb/studies multipart/related ${512 * MIB}`,
      `POST /api/images multipart/related,multipart/form-data ${512 * MIB}`,
    ]);
    for (const route of routes().filter((r) => r.access === 'public')) expect(route.body?.limitBytes ?? 0).toBeLessThanOrEqual(PUBLIC_BODY_LIMIT_BYTES);
  });

  it('refuses a media type the route does not declare with 415, unread', async () => {
    for (const route of routes()) {
      for (const contentType of MEDIA_TYPES.filter((t) => !isDeclared(route, t))) {
        const sent = await send({ route, contentType, bytes: MIB, chunked: false });
        const where = `${route.method} ${route.url} ${contentType ?? '(no type)'}`;
        expect(sent.status, where).toBe(415);
        expect(sent.body, where).toEqual({ code: 'INPUT_FORMAT_UNKNOWN', message: expect.any(String), statusCode: 415, requestId: expect.any(String) });
        expect(sent.pulled, where).toBeLessThanOrEqual(READ_AHEAD_BYTES);
      }
    }
  });

  it('refuses a declared type above the limit with 413: from Content-Length unread, and a chunked body cut at the limit', async () => {
    for (const route of routes().filter((r) => r.body !== undefined)) {
      const limit = route.body?.limitBytes ?? 0;
      for (const contentType of MEDIA_TYPES.filter((t) => isDeclared(route, t))) {
        const where = `${route.method} ${route.url} ${contentType ?? ''}`;
        // Content-Length says it all: nothing is read (the STOW-RS and upload limits are 512 MiB: only
        // the header claims that much, the stream would give it if asked).
        const declared = await send({ route, contentType, bytes: limit + 1, chunked: false });
        expect(declared.status, where).toBe(413);
        expect(declared.body, where).toEqual({
          code: 'INPUT_TOO_LARGE',
          message: expect.stringContaining(String(limit)),
          statusCode: 413,
          requestId: expect.any(String),
        });
        expect(declared.pulled, where).toBeLessThanOrEqual(READ_AHEAD_BYTES);
        if (limit > 64 * MIB) continue; // a chunked 512 MiB body is read to its limit by design; measured on the small limits
        const chunked = await send({ route, contentType, bytes: limit + 4 * MIB, chunked: true });
        expect(chunked.status, where).toBe(413);
        expect(chunked.body, where).toMatchObject({ code: 'INPUT_TOO_LARGE', statusCode: 413 });
        expect(chunked.pulled, where).toBeLessThanOrEqual(limit + READ_AHEAD_BYTES);
      }
    }
  });

  it('answers 401 to an anonymous body on every protected route before reading it', async () => {
    for (const route of routes().filter((r) => r.access !== 'public')) {
      const contentType = route.body === undefined ? 'application/json' : route.body.mediaTypes[0];
      const sent = await send({ route, contentType, bytes: 4 * MIB, chunked: false, anonymous: true });
      expect(sent.status, `${route.method} ${route.url}`).toBe(401);
      expect(sent.pulled, `${route.method} ${route.url}`).toBeLessThanOrEqual(READ_AHEAD_BYTES);
    }
  });

  it('answers 403 to a role without the permission before reading its body', async () => {
    for (const route of routes().filter((r) => r.access !== 'public')) {
      const role = ROLES.find((r) => route.access !== undefined && route.access !== 'public' && !hasPermission(r, route.access));
      if (role === undefined) continue; // account:self: every role has it
      const response = await app.inject({
        method: route.method as 'POST',
        url: urlOf(route, role),
        headers: {
          authorization: `Bearer ${tokens.get(role) ?? ''}`,
          'content-type': route.body?.mediaTypes[0] ?? 'application/json',
          'content-length': String(4 * MIB),
        },
        payload: countedBody(4 * MIB).stream,
      });
      expect(response.statusCode, `${role} ${route.method} ${route.url}`).toBe(403);
    }
    // Counted on the largest body there is: an ml-engineer's STOW-RS.
    const body = countedBody(4 * MIB);
    const stow = await app.inject({
      method: 'POST',
      url: '/dicomweb/studies',
      headers: {
        authorization: `Bearer ${tokens.get('ml-engineer') ?? ''}`,
        'content-type': 'multipart/related; boundary=x',
        'content-length': String(4 * MIB),
      },
      payload: body.stream,
    });
    expect(stow.statusCode).toBe(403);
    expect(body.pulled()).toBeLessThanOrEqual(READ_AHEAD_BYTES);
  });

  it('refuses an upload whose JSON declaration is larger than a declaration can be, before parsing it', async () => {
    const declaration = `{${Array.from({ length: 200_000 }, (_, i) => `"k${i}":1`).join(',')}}`;
    const response = await app.inject({
      method: 'POST',
      url: '/api/images',
      headers: { authorization: `Bearer ${tokens.get('integration') ?? ''}`, 'content-type': 'multipart/related; boundary=u' },
      payload: `--u\r\nContent-Type: application/json\r\n\r\n${declaration}\r\n--u--\r\n`,
    });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ code: 'REQUEST_INVALID', message: 'The declaration is larger than 4096 bytes' });
  });

  it('answers a body sent to no route with 404, unread', async () => {
    const body = countedBody(4 * MIB);
    const response = await app.inject({
      method: 'POST',
      url: '/api/nowhere',
      headers: { 'content-type': 'application/json', 'content-length': String(4 * MIB) },
      payload: body.stream,
    });
    expect(response.json()).toMatchObject({ code: 'ROUTE_NOT_FOUND', statusCode: 404 });
    expect(body.pulled()).toBeLessThanOrEqual(READ_AHEAD_BYTES);
  });

  it('lets an action without arguments take `{}` and answers what it does, but refuses anything in it (400) or another media type (415)', async () => {
    const admin = { authorization: `Bearer ${tokens.get('admin') ?? ''}` };
    const url = '/api/incidents/inc-00000000-0000-4000-8000-0000000000ff/acknowledge';
    for (const payload of ['{}', ' { } ']) {
      const response = await app.inject({ method: 'POST', url, headers: { ...admin, 'content-type': 'application/json' }, payload });
      expect(response.json(), JSON.stringify(payload)).toMatchObject({ code: 'INCIDENT_NOT_FOUND', statusCode: 404 });
    }
    const withField = await app.inject({ method: 'POST', url, headers: { ...admin, 'content-type': 'application/json' }, payload: '{"owner":"x"}' });
    expect(withField.json()).toMatchObject({ code: 'REQUEST_INVALID', statusCode: 400, message: expect.stringContaining('an unknown field "owner"') });
    for (const payload of ['[]', '1', '"x"']) {
      const other = await app.inject({ method: 'POST', url, headers: { ...admin, 'content-type': 'application/json' }, payload });
      expect(other.statusCode, payload).toBe(400);
    }
    // curl -d '{}' labels it a form: the media type really is wrong.
    const form = await app.inject({ method: 'POST', url, headers: { ...admin, 'content-type': 'application/x-www-form-urlencoded' }, payload: '{}' });
    expect(form.json()).toMatchObject({ code: 'INPUT_FORMAT_UNKNOWN', statusCode: 415 });
    // A malformed id is 400, whatever the body.
    const malformed = await app.inject({
      method: 'POST',
      url: '/api/incidents/nosuch/acknowledge',
      headers: { ...admin, 'content-type': 'application/json' },
      payload: '{}',
    });
    expect(malformed.json()).toMatchObject({ code: 'REQUEST_INVALID', statusCode: 400 });
  });

  it('lets every route take a request without content, whatever its Content-Type says', async () => {
    for (const route of routes()) {
      const sent = await send({ route, contentType: 'application/json', bytes: 0, chunked: false });
      expect([413, 415], `${route.method} ${route.url}`).not.toContain(sent.status);
      expect(sent.status, `${route.method} ${route.url}`).toBeLessThan(500);
    }
  });

  // Any route, any media type (the known ones and random ones), any size, chunked or not, with or
  // without credentials: the answer is the one the headers call for, never a 5xx, and what the
  // server pulled is bounded by what it may read.
  test.prop(
    [
      fc.nat(),
      fc.oneof(
        fc.constantFrom(...MEDIA_TYPES),
        fc.tuple(fc.stringMatching(/^[a-z]{1,12}$/), fc.stringMatching(/^[a-z0-9.+-]{1,16}$/)).map(([a, b]) => `${a}/${b}`),
      ),
      fc.oneof(fc.integer({ min: 1, max: 64 * 1024 }), fc.integer({ min: 1, max: 3 * MIB })),
      fc.boolean(),
      fc.boolean(),
    ],
    { numRuns: 150 },
  )('answers from the headers alone, never 5xx, and reads no more than it may', async (pick, contentType, bytes, chunked, anonymous) => {
    const all = routes();
    const route = all[pick % all.length] as RegisteredRoute;
    const sent = await send({ route, contentType, bytes, chunked, anonymous });
    const where = `${route.method} ${route.url} ${contentType} ${bytes}${chunked ? ' chunked' : ''}${anonymous ? ' anonymous' : ''}`;
    expect(sent.status, where).toBeLessThan(500);
    const limit = route.body?.limitBytes ?? 0;
    if (route.access !== 'public' && anonymous) {
      expect(sent.status, where).toBe(401);
      expect(sent.pulled, where).toBeLessThanOrEqual(READ_AHEAD_BYTES);
    } else if (!isDeclared(route, contentType)) {
      expect(sent.status, where).toBe(415);
      expect(sent.pulled, where).toBeLessThanOrEqual(READ_AHEAD_BYTES);
    } else if (bytes > limit) {
      expect(sent.status, where).toBe(413);
      expect(sent.pulled, where).toBeLessThanOrEqual(chunked ? limit + READ_AHEAD_BYTES : READ_AHEAD_BYTES);
    } else {
      // Read and parsed by the route: whatever it says of the bytes, it is not about their size or type.
      expect([413, 415], where).not.toContain(sent.status);
    }
  });
});

describe('request bodies over a socket', () => {
  let port: number;
  beforeAll(async () => {
    await app.listen({ host: '127.0.0.1', port: 0 });
    port = (app.server.address() as AddressInfo).port;
  });

  /** Sends `bytes` (Content-Length, or chunked) while GET /api/health is asked every 10 ms; the slowest health answer is the stall. */
  async function sendWhileProbing(path: string, contentType: string, bytes: number, chunked: boolean) {
    let probing = true;
    let slowestHealthMs = 0;
    const probe = (async () => {
      while (probing) {
        const started = performance.now();
        await new Promise<void>((resolve) => httpGet({ host: '127.0.0.1', port, path: '/api/health' }, (r) => r.resume().on('end', resolve)));
        slowestHealthMs = Math.max(slowestHealthMs, performance.now() - started);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    })();
    const started = performance.now();
    let written = 0;
    const answer = await new Promise<{ status: number; text: string; connection: string | undefined }>((resolve, reject) => {
      const headers = { 'content-type': contentType, ...(chunked ? {} : { 'content-length': String(bytes) }) };
      const request = httpRequest({ host: '127.0.0.1', port, path, method: 'POST', headers }, (response) => {
        let text = '';
        response.on('data', (d: Buffer) => (text += d.toString()));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, text, connection: response.headers.connection }));
      });
      // Once the answer is in, the server closes the connection while the body is still coming: expected.
      request.on('error', (error) => (written >= bytes ? reject(error) : undefined));
      const chunk = Buffer.alloc(64 * 1024, 0x41);
      const pump = (): void => {
        while (written < bytes) {
          written += chunk.length;
          if (!request.write(chunk)) return void request.once('drain', pump);
        }
        request.end();
      };
      pump();
    });
    const answeredMs = performance.now() - started;
    await new Promise((resolve) => setTimeout(resolve, 100));
    probing = false;
    await probe;
    return { ...answer, answeredMs, slowestHealthMs };
  }

  it('refuses a multipart body of megabytes to the public sign-in at once, and health keeps answering', async () => {
    const sent = await sendWhileProbing('/api/session', 'multipart/related; boundary=x', 16 * MIB, false);
    expect(sent.status).toBe(415);
    expect(JSON.parse(sent.text)).toMatchObject({ code: 'INPUT_FORMAT_UNKNOWN', statusCode: 415 });
    expect(sent.connection, 'the rest of the body is not read').toBe('close');
    // Before the fix this body stalled the server for 150 s (1 MB for 1.8 to 10 s). Unloaded, the answer
    // takes ~50 ms and health ~20 ms; the bounds leave room for a full test run on 2 shared cores
    // (health once took 1.2 s there, with the server doing nothing). What was read is counted above.
    expect(sent.answeredMs).toBeLessThan(5000);
    expect(sent.slowestHealthMs).toBeLessThan(3000);
  });

  it('cuts a chunked JSON body to the public sign-in at its limit and closes the connection', async () => {
    const sent = await sendWhileProbing('/api/session', 'application/json', 64 * MIB, true);
    expect(sent.status).toBe(413);
    expect(JSON.parse(sent.text)).toMatchObject({
      code: 'INPUT_TOO_LARGE',
      statusCode: 413,
      message: expect.stringContaining(String(PUBLIC_BODY_LIMIT_BYTES)),
    });
    expect(sent.connection).toBe('close');
    expect(sent.answeredMs).toBeLessThan(5000);
    expect(sent.slowestHealthMs).toBeLessThan(3000);
  });

  it('answers an anonymous STOW-RS of 100 MB with 401 before reading it', async () => {
    const sent = await sendWhileProbing('/dicomweb/studies', 'multipart/related; type="application/dicom"; boundary=x', 100 * MIB, false);
    expect(sent.status).toBe(401);
    expect(sent.connection).toBe('close');
    expect(sent.answeredMs).toBeLessThan(5000);
  });
});

describe('docs/api.md', () => {
  it('states each route’s body as registered', () => {
    const doc = readFileSync(new URL('../../docs/api.md', import.meta.url), 'utf8');
    const section = doc.slice(doc.indexOf('### Request bodies'));
    const documented = [...section.matchAll(/^\| `(GET|POST|PUT|PATCH|DELETE) ([^`]+)` \| `([^`]+)` \| ([\d.]+) (KiB|MiB)/gm)].map(
      ([, method, path, type, size, unit]) => `${method} ${path} ${type} ${Number(size) * (unit === 'KiB' ? 1024 : MIB)}`,
    );
    const registered = routes()
      .filter((r) => r.body !== undefined && r.body !== EMPTY_OBJECT_BODY)
      .map((r) => `${r.method} ${r.url.replace(/:(\w+)/g, '{$1}')} ${r.body?.mediaTypes.join(', ')} ${r.body?.limitBytes}`);
    expect(documented.sort()).toEqual(registered.sort());
    expect(section).toContain(`takes no body, or an empty JSON object \`{}\` (at most ${EMPTY_OBJECT_BODY.limitBytes} bytes)`);
  });
});
