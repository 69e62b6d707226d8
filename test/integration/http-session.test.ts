import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteAuditLog } from '../../src/adapters/store-sqlite/sqlite-audit-log.js';
import { loadConfig } from '../../src/config/load-config.js';
import { createLogger } from '../../src/logging/create-logger.js';
import { createApiServer, type ApiServer } from '../../src/main.js';
import { REPO_ROOT } from '../helpers/sample-data.js';

// Dashboard sign-in through the real server (app.inject, no port): passwords, tokens, cookies, CSRF.
let dir: string;
let server: ApiServer;
let app: FastifyInstance;
let adminToken: string;
let logs = '';

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vigil-session-http-'));
  const config = loadConfig({ VIGIL_DATA_DIR: dir, VIGIL_INTRA_OP_THREADS: '1' }, REPO_ROOT);
  server = await createApiServer(config, createLogger('debug', { write: (line: string) => void (logs += line) }));
  app = server.app;
  adminToken = server.bootstrap?.token ?? '';
});
afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
function sessionCookie(response: LightMyRequestResponse): string {
  const cookie = response.cookies.find((c) => c.name === 'vigil_session');
  if (cookie === undefined) throw new Error('no session cookie');
  return cookie.value;
}
const withCookie = (value: string, csrf?: string) => ({ cookie: `vigil_session=${value}`, ...(csrf === undefined ? {} : { 'x-csrf-token': csrf }) });

async function auditTypes(): Promise<{ type: string; text: string }[]> {
  const log = SqliteAuditLog.open({ dataDir: dir, clock: { now: () => new Date() } });
  const out = [];
  for (let i = 0; i < (await log.size()); i++) {
    const entry = await log.get(`a-${i}`);
    if (entry !== undefined) out.push({ type: entry.event.type, text: JSON.stringify(entry.event) });
  }
  await log.close();
  return out;
}

describe('dashboard sessions over HTTP', () => {
  let readerId: string;

  it('lets the bootstrap admin sign in with the token and create a user with a password', async () => {
    const signIn = await app.inject({ method: 'POST', url: '/api/session', payload: { token: adminToken } });
    expect(signIn.statusCode).toBe(200);
    const body = signIn.json<{ user: { name: string; role: string }; csrfToken: string; expiresAt: string; method: string }>();
    expect(body).toMatchObject({ user: { name: 'admin', role: 'admin' }, method: 'token' });
    const setCookie = String(signIn.headers['set-cookie']);
    expect(setCookie).toMatch(/^vigil_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; Secure; SameSite=Strict$/);
    const cookie = sessionCookie(signIn);

    const noHeader = await app.inject({
      method: 'POST',
      url: '/api/users',
      headers: withCookie(cookie),
      payload: { name: 'reader-1', role: 'clinician-reviewer' },
    });
    expect(noHeader.statusCode).toBe(403);
    expect(noHeader.json<{ code: string }>().code).toBe('AUTH_CSRF_FAILED');
    const wrongHeader = await app.inject({
      method: 'POST',
      url: '/api/users',
      headers: withCookie(cookie, 'x'.repeat(43)),
      payload: { name: 'reader-1', role: 'clinician-reviewer' },
    });
    expect(wrongHeader.json<{ code: string }>().code).toBe('AUTH_CSRF_FAILED');
    const created = await app.inject({
      method: 'POST',
      url: '/api/users',
      headers: withCookie(cookie, body.csrfToken),
      payload: { name: 'reader-1', role: 'clinician-reviewer', password: 'a long passphrase' },
    });
    expect(created.statusCode).toBe(201);
    readerId = created.json<{ user: { userId: string } }>().user.userId;
    // GET needs no CSRF header; a bearer request needs none either, even when it changes state.
    expect((await app.inject({ method: 'GET', url: '/api/users', headers: withCookie(cookie) })).statusCode).toBe(200);
    const byBearer = await app.inject({ method: 'POST', url: '/api/users', headers: bearer(adminToken), payload: { name: 'auditor-1', role: 'auditor' } });
    expect(byBearer.statusCode).toBe(201);
    const short = await app.inject({
      method: 'POST',
      url: '/api/users',
      headers: bearer(adminToken),
      payload: { name: 'x-1', role: 'auditor', password: 'too short' },
    });
    expect(short.json<{ code: string }>().code).toBe('REQUEST_INVALID');
  });

  it('signs in with a password, reads the session, and signs out (the cookie stops working)', async () => {
    const signIn = await app.inject({ method: 'POST', url: '/api/session', payload: { userName: 'reader-1', password: 'a long passphrase' } });
    expect(signIn.statusCode).toBe(200);
    const cookie = sessionCookie(signIn);
    const { csrfToken } = signIn.json<{ csrfToken: string }>();

    const current = await app.inject({ method: 'GET', url: '/api/session', headers: withCookie(cookie) });
    expect(current.json()).toEqual({ ...signIn.json<object>(), expiresAt: expect.any(String) });
    // The cookie authenticates other routes with the user's role.
    expect((await app.inject({ method: 'GET', url: '/api/worklist', headers: withCookie(cookie) })).statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url: '/api/users', headers: withCookie(cookie) })).statusCode).toBe(403);

    const noCsrf = await app.inject({ method: 'DELETE', url: '/api/session', headers: withCookie(cookie) });
    expect(noCsrf.statusCode).toBe(403);
    const out = await app.inject({ method: 'DELETE', url: '/api/session', headers: withCookie(cookie, csrfToken) });
    expect(out.statusCode).toBe(204);
    expect(String(out.headers['set-cookie'])).toMatch(
      /^vigil_session=; Max-Age=0; Path=\/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; Secure; SameSite=Strict$/,
    );
    const after = await app.inject({ method: 'GET', url: '/api/session', headers: withCookie(cookie) });
    expect(after.statusCode).toBe(401);
    expect((await app.inject({ method: 'GET', url: '/api/worklist', headers: withCookie(cookie) })).statusCode).toBe(401);
    expect((await app.inject({ method: 'GET', url: '/api/session' })).json<{ code: string }>().code).toBe('AUTH_REQUIRED');
  });

  it('answers unknown user and wrong password with the same 401, then 429 with Retry-After', async () => {
    const attempt = (userName: string, password: string) =>
      app.inject({ method: 'POST', url: '/api/session', remoteAddress: '10.9.9.9', payload: { userName, password } });
    const unknown = await attempt('nobody', 'a long passphrase');
    const wrong = await attempt('reader-1', 'the wrong passphrase');
    expect(unknown.statusCode).toBe(401);
    expect({ ...unknown.json<object>(), requestId: '…' }).toEqual({ ...wrong.json<object>(), requestId: '…' });
    expect(unknown.json<{ code: string }>().code).toBe('AUTH_LOGIN_FAILED');
    for (let i = 0; i < 3; i++) expect((await attempt('reader-1', 'the wrong passphrase')).statusCode).toBe(401);
    const limited = await attempt('reader-1', 'a long passphrase');
    expect(limited.statusCode).toBe(429);
    expect(limited.json<{ code: string }>().code).toBe('AUTH_RATE_LIMITED');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(14 * 60);
    expect(Number(limited.headers['retry-after'])).toBeLessThanOrEqual(15 * 60);
    // That was the address's fifth failure and the name's fourth; a fifth for the name from another address
    // limits the name from every address, the right password included.
    const fifth = await app.inject({
      method: 'POST',
      url: '/api/session',
      remoteAddress: '10.9.9.7',
      payload: { userName: 'reader-1', password: 'wrong again!!' },
    });
    expect(fifth.statusCode).toBe(401);
    const elsewhere = await app.inject({
      method: 'POST',
      url: '/api/session',
      remoteAddress: '10.9.9.8',
      payload: { userName: 'reader-1', password: 'a long passphrase' },
    });
    expect(elsewhere.statusCode).toBe(429);
  });

  it('changes passwords (own with the current one, by cookie and CSRF; anyone’s as admin) and ends the user’s sessions', async () => {
    const made = await app.inject({
      method: 'POST',
      url: '/api/users',
      headers: bearer(adminToken),
      payload: { name: 'reader-2', role: 'clinician-reviewer', password: 'first passphrase' },
    });
    const userId = made.json<{ user: { userId: string } }>().user.userId;
    const signIn = async (password: string) =>
      app.inject({ method: 'POST', url: '/api/session', remoteAddress: '10.8.0.1', payload: { userName: 'reader-2', password } });
    const first = await signIn('first passphrase');
    const cookie = sessionCookie(first);
    const { csrfToken } = first.json<{ csrfToken: string }>();
    const url = `/api/users/${userId}/password`;
    const withoutCurrent = await app.inject({ method: 'PUT', url, headers: withCookie(cookie, csrfToken), payload: { password: 'second passphrase' } });
    expect(withoutCurrent.json<{ code: string }>().code).toBe('AUTH_PASSWORD_REJECTED');
    const someoneElse = await app.inject({
      method: 'PUT',
      url: `/api/users/${readerId}/password`,
      headers: withCookie(cookie, csrfToken),
      payload: { password: 'second passphrase' },
    });
    expect(someoneElse.statusCode).toBe(403);
    const own = await app.inject({
      method: 'PUT',
      url,
      headers: withCookie(cookie, csrfToken),
      payload: { password: 'second passphrase', currentPassword: 'first passphrase' },
    });
    expect(own.statusCode).toBe(204);
    expect(String(own.headers['set-cookie'])).toContain('vigil_session=;');
    expect((await app.inject({ method: 'GET', url: '/api/session', headers: withCookie(cookie) })).statusCode).toBe(401);
    expect((await signIn('first passphrase')).statusCode).toBe(401);
    const second = sessionCookie(await signIn('second passphrase'));

    const set = await app.inject({ method: 'PUT', url, headers: bearer(adminToken), payload: { password: 'set by the admin' } });
    expect(set.statusCode).toBe(204);
    expect((await app.inject({ method: 'GET', url: '/api/session', headers: withCookie(second) })).statusCode).toBe(401);
    expect((await signIn('set by the admin')).statusCode).toBe(200);
  });

  it('audits sign-ins, sign-outs, failures and password changes by surrogate id, never the typed name or a secret', async () => {
    const types = await auditTypes();
    expect(types.map((t) => t.type)).toEqual(expect.arrayContaining(['session_started', 'session_ended', 'login_failed', 'password_changed']));
    const failed = types.filter((t) => t.type === 'login_failed').map((t) => JSON.parse(t.text) as { userId: string | null });
    expect(failed.map((f) => f.userId)).toEqual(expect.arrayContaining([null, readerId]));
    const all = types.map((t) => t.text).join('\n');
    expect(all).not.toContain('nobody');
    expect(all).not.toContain('passphrase');
    expect(logs).not.toContain('passphrase');
    expect(logs).not.toContain(adminToken);
  });

  it('searches the audit log over HTTP, newest first, paged with next (GET /api/audit/entries)', async () => {
    const made = await app.inject({ method: 'POST', url: '/api/users', headers: bearer(adminToken), payload: { name: 'auditor-2', role: 'auditor' } });
    const auditor = bearer(made.json<{ token: string }>().token);
    const ids: string[] = [];
    let next: string | undefined;
    do {
      const page = await app.inject({
        method: 'GET',
        url: `/api/audit/entries?type=login_failed&limit=2${next === undefined ? '' : `&before=${next}`}`,
        headers: auditor,
      });
      expect(page.statusCode).toBe(200);
      const body = page.json<{ entries: { auditId: string; index: number; event: { type: string } }[]; next?: string }>();
      expect(body.entries.every((e) => e.event.type === 'login_failed')).toBe(true);
      ids.push(...body.entries.map((e) => e.auditId));
      next = body.next;
    } while (next !== undefined);
    expect(ids.length).toBeGreaterThanOrEqual(7);
    const indexes = ids.map((id) => Number(id.slice(2)));
    expect(indexes).toEqual([...indexes].sort((a, b) => b - a));
    expect(new Set(ids).size).toBe(ids.length);
    const future = await app.inject({ method: 'GET', url: '/api/audit/entries?since=2999-01-01T00:00:00Z', headers: auditor });
    expect(future.json()).toEqual({ entries: [] });
    expect((await app.inject({ method: 'GET', url: '/api/audit/entries?since=yesterday', headers: auditor })).statusCode).toBe(400);
  });
});
