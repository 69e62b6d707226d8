/**
 * The token lifecycle and account changes over HTTP (app.inject on the real server): list, issue,
 * rotate with and without overlap, revoke, disable/enable (sessions and tokens stop at once), and the
 * last enabled administrator kept; each change one audit entry without a secret.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load-config.js';
import { createLogger } from '../../src/logging/create-logger.js';
import { createApiServer, type ApiServer } from '../../src/main.js';
import type { NewTokenBody, RotatedTokenBody, UserTokensBody } from '../../src/http/contract.js';
import { REPO_ROOT } from '../helpers/sample-data.js';

let dir: string;
let server: ApiServer;
let app: FastifyInstance;
let admin: Record<string, string>;
let logs = '';
const secrets: string[] = [];
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vigil-tokens-http-'));
  const config = loadConfig({ VIGIL_DATA_DIR: dir, VIGIL_INTRA_OP_THREADS: '1' }, REPO_ROOT);
  server = await createApiServer(config, createLogger('debug', { write: (line: string) => void (logs += line) }));
  app = server.app;
  secrets.push(server.bootstrap?.token ?? '');
  admin = bearer(server.bootstrap?.token ?? '');
});
afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('token lifecycle over HTTP', () => {
  it('lists, issues, rotates and revokes a user’s tokens; disabling stops sessions and tokens at once', async () => {
    const created = await app.inject({ method: 'POST', url: '/api/users', headers: admin, payload: { name: 'pacs', role: 'integration' } });
    expect(created.statusCode).toBe(201);
    const { user, token: first, tokenId: firstId } = created.json<{ user: { userId: string }; token: string; tokenId: string }>();
    secrets.push(first);
    const tokensUrl = `/api/users/${user.userId}/tokens`;

    const issued = await app.inject({ method: 'POST', url: tokensUrl, headers: admin, payload: { label: 'router', expiresInDays: 30 } });
    expect(issued.statusCode).toBe(201);
    const second = issued.json<NewTokenBody>();
    secrets.push(second.token);
    expect(Date.parse(second.expiresAt ?? '') - Date.now()).toBeGreaterThan(29.9 * 86_400_000);
    expect((await app.inject({ url: '/api/cases/none/fhir', headers: bearer(second.token) })).statusCode).toBe(404);

    const listed = (await app.inject({ url: tokensUrl, headers: admin })).json<UserTokensBody>();
    expect(listed.tokens.map((t) => [t.label, t.state, t.lastUsedAt === null])).toEqual([
      ['router', 'live', false],
      ['created with the user', 'live', true],
    ]);
    expect(JSON.stringify(listed)).not.toContain(second.token.slice(4));

    // Rotation with an overlap: both work until it ends; without one, the old stops at once.
    const overlapped = await app.inject({ method: 'POST', url: `${tokensUrl}/${second.tokenId}/rotate`, headers: admin, payload: { overlapSeconds: 300 } });
    expect(overlapped.statusCode).toBe(201);
    const third = overlapped.json<RotatedTokenBody>();
    secrets.push(third.token);
    expect(third).toMatchObject({ previousTokenId: second.tokenId });
    expect(Date.parse(third.previousEndsAt) - Date.now()).toBeGreaterThan(290_000);
    for (const t of [second.token, third.token]) expect((await app.inject({ url: '/api/cases/none/fhir', headers: bearer(t) })).statusCode).toBe(404);
    const immediate = await app.inject({ method: 'POST', url: `${tokensUrl}/${firstId}/rotate`, headers: admin });
    expect(immediate.statusCode).toBe(201);
    secrets.push(immediate.json<RotatedTokenBody>().token);
    expect((await app.inject({ url: '/api/cases/none/fhir', headers: bearer(first) })).statusCode).toBe(401);
    expect((await app.inject({ method: 'POST', url: `${tokensUrl}/${firstId}/rotate`, headers: admin })).json()).toMatchObject({
      code: 'ACCESS_TOKEN_NOT_FOUND',
      statusCode: 404,
    });
    const tooLong = await app.inject({ method: 'POST', url: `${tokensUrl}/${third.tokenId}/rotate`, headers: admin, payload: { overlapSeconds: 3601 } });
    expect(tooLong.json()).toMatchObject({ code: 'REQUEST_INVALID', statusCode: 400 });

    // Revoke.
    expect((await app.inject({ method: 'DELETE', url: `${tokensUrl}/${third.tokenId}`, headers: admin })).statusCode).toBe(204);
    expect((await app.inject({ url: '/api/cases/none/fhir', headers: bearer(third.token) })).statusCode).toBe(401);
    expect((await app.inject({ method: 'DELETE', url: `${tokensUrl}/${third.tokenId}`, headers: admin })).statusCode).toBe(404);

    // Disable: a live dashboard session and every token stop at once; enabling brings back the tokens only.
    const live = immediate.json<RotatedTokenBody>().token;
    const signIn = await app.inject({ method: 'POST', url: '/api/session', payload: { token: live } });
    const cookie = `vigil_session=${signIn.cookies.find((c) => c.name === 'vigil_session')?.value ?? ''}`;
    expect((await app.inject({ url: '/api/session', headers: { cookie } })).statusCode).toBe(200);
    const disabled = await app.inject({ method: 'PATCH', url: `/api/users/${user.userId}`, headers: admin, payload: { disabled: true } });
    expect(disabled.json()).toMatchObject({ user: { disabled: true, role: 'integration' } });
    expect((await app.inject({ url: '/api/session', headers: { cookie } })).statusCode).toBe(401);
    expect((await app.inject({ url: '/api/cases/none/fhir', headers: bearer(live) })).statusCode).toBe(401);
    await app.inject({ method: 'PATCH', url: `/api/users/${user.userId}`, headers: admin, payload: { disabled: false } });
    expect((await app.inject({ url: '/api/cases/none/fhir', headers: bearer(live) })).statusCode).toBe(404);
    expect((await app.inject({ url: '/api/session', headers: { cookie } })).statusCode).toBe(401);
    expect((await app.inject({ method: 'PATCH', url: `/api/users/${user.userId}`, headers: admin, payload: {} })).statusCode).toBe(400);
  });

  it('refuses to disable or demote the last enabled administrator, with a coded error', async () => {
    const users = (await app.inject({ url: '/api/users', headers: admin })).json<{ users: { userId: string; name: string }[] }>().users;
    const adminId = users.find((u) => u.name === 'admin')?.userId ?? '';
    const refused = await app.inject({ method: 'PATCH', url: `/api/users/${adminId}`, headers: admin, payload: { role: 'auditor' } });
    expect({ ...refused.json(), requestId: '…' }).toMatchInlineSnapshot(`
      {
        "code": "ACCESS_LAST_ADMINISTRATOR",
        "message": "This would disable or demote the last enabled administrator; make another account an administrator first",
        "requestId": "…",
        "statusCode": 409,
      }
    `);
    // With a second administrator, the first may step down (and its token then no longer manages users).
    const second = await app.inject({ method: 'POST', url: '/api/users', headers: admin, payload: { name: 'admin-2', role: 'admin' } });
    secrets.push(second.json<{ token: string }>().token);
    const demoted = await app.inject({ method: 'PATCH', url: `/api/users/${adminId}`, headers: admin, payload: { role: 'auditor' } });
    expect(demoted.json()).toMatchObject({ user: { role: 'auditor' } });
    expect((await app.inject({ url: '/api/users', headers: admin })).statusCode).toBe(403);
    const admin2 = bearer(second.json<{ token: string }>().token);
    const secondId = second.json<{ user: { userId: string } }>().user.userId;
    expect((await app.inject({ method: 'PATCH', url: `/api/users/${secondId}`, headers: admin2, payload: { disabled: true } })).statusCode).toBe(409);
    expect((await app.inject({ method: 'PATCH', url: `/api/users/${adminId}`, headers: admin2, payload: { role: 'admin' } })).statusCode).toBe(200);
  });

  it('audits every change with actor, target and action, and never a secret', async () => {
    const auditor = await app.inject({ method: 'POST', url: '/api/users', headers: admin, payload: { name: 'aud', role: 'auditor' } });
    const entries = (await app.inject({ url: '/api/audit/entries?limit=100', headers: bearer(auditor.json<{ token: string }>().token) })).json<{
      entries: { event: { type: string; changedBy?: string; userId?: string } }[];
    }>().entries;
    const types = entries.map((e) => e.event.type);
    for (const type of ['token_issued', 'token_rotated', 'token_revoked', 'user_updated', 'user_created']) expect(types, type).toContain(type);
    expect(entries.filter((e) => e.event.type === 'token_rotated')).toHaveLength(2);
    for (const e of entries.filter((x) => ['token_issued', 'token_rotated', 'token_revoked', 'user_updated'].includes(x.event.type))) {
      expect(e.event.changedBy).toMatch(/^u-/);
      expect(e.event.userId).toMatch(/^u-/);
    }
    const text = JSON.stringify(entries) + logs;
    for (const secret of secrets) expect(text).not.toContain(secret.slice(4));
  });
});
