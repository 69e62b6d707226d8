import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NodeCredentials } from '../../src/adapters/crypto-node/node-credentials.js';
import { openSqliteDatabase, type SqliteDatabase } from '../../src/adapters/store-sqlite/open-sqlite.js';
import { SqliteAccessStore } from '../../src/adapters/store-sqlite/sqlite-access-store.js';
import { SqliteSessionStore } from '../../src/adapters/store-sqlite/sqlite-session-store.js';
import type { AuditEvent } from '../../src/domain/audit/audit-event.js';
import { PlatformError } from '../../src/domain/errors.js';
import { DashboardSessions } from '../../src/workflows/dashboard-sessions.js';

// The sign-in workflow over the real SQLite stores and scrypt (small parameters), with a manual clock.
const MIN = 60_000;
const settings = { idleTimeoutMs: 30 * MIN, absoluteTimeoutMs: 12 * 60 * MIN, loginLimit: { maxFailures: 5, windowMs: 15 * MIN } };

let dir: string;
let db: SqliteDatabase;
let nowMs: number;
let audit: AuditEvent[];
let access: SqliteAccessStore;
const clock = { now: () => new Date(nowMs) };
const credentials = new NodeCredentials({ N: 2 ** 10, r: 8, p: 1 });

const open = (): DashboardSessions =>
  new DashboardSessions({ store: new SqliteSessionStore(db), access, credentials, clock, audit: (e) => Promise.resolve(audit.push(e)) }, settings);

async function failure(promise: Promise<unknown>): Promise<{ code: string; details: Record<string, unknown> }> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof PlatformError) return { code: error.code, details: { ...error.details } };
    throw error;
  }
  throw new Error('expected a failure');
}

let reader: { userId: string };
let admin: { userId: string };
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vigil-sessions-'));
  db = openSqliteDatabase({ dataDir: dir });
  nowMs = Date.UTC(2026, 0, 1, 8);
  audit = [];
  access = new SqliteAccessStore(db, clock);
  admin = await access.createUser('admin', 'admin');
  reader = await access.createUser('reader-1', 'clinician-reviewer');
  await open().setPassword({ userId: admin.userId, role: 'admin', tokenId: 't-x' }, { userId: reader.userId, password: 'a long passphrase' }, '127.0.0.1');
  audit = [];
});
afterEach(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('DashboardSessions', () => {
  it('signs in with a password, resumes by cookie, and signs out; the store holds only the cookie’s hash', async () => {
    const sessions = open();
    const { cookieValue, session } = await sessions.signIn({ userName: 'reader-1', password: 'a long passphrase' }, '10.0.0.1');
    expect(cookieValue).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(session.view).toMatchObject({ user: { userId: reader.userId, name: 'reader-1', role: 'clinician-reviewer' }, method: 'password' });
    expect(session.view.expiresAt).toBe(new Date(nowMs + 30 * MIN).toISOString());
    expect(JSON.stringify(db.prepare('SELECT * FROM sessions').all())).not.toContain(cookieValue);
    expect((await sessions.resume(cookieValue))?.principal).toEqual({ userId: reader.userId, role: 'clinician-reviewer', tokenId: session.sessionId });
    await sessions.signOut(cookieValue);
    expect(await sessions.resume(cookieValue)).toBeUndefined();
    expect(audit.map((e) => e.type)).toEqual(['session_started', 'session_ended']);
    expect(JSON.stringify(audit)).not.toContain('reader-1');
  });

  it('signs in with an API token (the bootstrap admin has no password)', async () => {
    const token = await access.issueToken(admin.userId, 'bootstrap');
    const { session } = await open().signIn({ token: token.secret }, '10.0.0.1');
    expect(session.view).toMatchObject({ user: { name: 'admin', role: 'admin' }, method: 'token' });
    expect(await failure(open().signIn({ token: 'vgl_' + 'x'.repeat(43) }, '10.0.0.1'))).toMatchObject({ code: 'AUTH_LOGIN_FAILED' });
  });

  it('ends a session after 30 idle minutes, and after 12 hours however active', async () => {
    const sessions = open();
    const idle = (await sessions.signIn({ userName: 'reader-1', password: 'a long passphrase' }, '10.0.0.1')).cookieValue;
    nowMs += 29 * MIN;
    expect(await sessions.resume(idle)).toBeDefined();
    nowMs += 29 * MIN; // 29 minutes after the last use: still alive
    expect(await sessions.resume(idle)).toBeDefined();
    nowMs += 30 * MIN;
    expect(await sessions.resume(idle)).toBeUndefined();
    nowMs -= 1; // ended in the store, not only judged expired: going back does not revive it
    expect(await sessions.resume(idle)).toBeUndefined();

    const busy = (await sessions.signIn({ userName: 'reader-1', password: 'a long passphrase' }, '10.0.0.1')).cookieValue;
    const start = nowMs;
    while (nowMs < start + 12 * 60 * MIN - 20 * MIN) {
      nowMs += 20 * MIN;
      expect(await sessions.resume(busy), `${(nowMs - start) / MIN} min`).toBeDefined();
    }
    expect((await sessions.resume(busy))?.view.expiresAt).toBe(new Date(start + 12 * 60 * MIN).toISOString());
    nowMs = start + 12 * 60 * MIN;
    expect(await sessions.resume(busy)).toBeUndefined();
  });

  it('answers unknown user and wrong password alike, and audits them by surrogate id, never the typed name', async () => {
    const sessions = open();
    const unknown = await failure(sessions.signIn({ userName: 'nobody-here', password: 'a long passphrase' }, '10.0.0.1'));
    const wrong = await failure(sessions.signIn({ userName: 'reader-1', password: 'not the passphrase' }, '10.0.0.2'));
    const noPassword = await failure(sessions.signIn({ userName: 'admin', password: 'a long passphrase' }, '10.0.0.3'));
    expect(unknown).toEqual(wrong);
    expect(noPassword).toEqual(wrong);
    expect(audit).toEqual([
      { type: 'login_failed', userId: null, method: 'password', reason: 'unknown_user' },
      { type: 'login_failed', userId: reader.userId, method: 'password', reason: 'wrong_password' },
      { type: 'login_failed', userId: admin.userId, method: 'password', reason: 'no_password' },
    ]);
    expect(JSON.stringify(db.prepare('SELECT * FROM login_failures').all())).not.toContain('nobody');
  });

  it('limits a user name after 5 failures in 15 minutes, correct password included, across a restart', async () => {
    for (let i = 0; i < 5; i++) {
      expect((await failure(open().signIn({ userName: 'reader-1', password: `wrong guess ${i}!!` }, `10.0.1.${i}`))).code).toBe('AUTH_LOGIN_FAILED');
      nowMs += MIN;
    }
    // A new workflow over the same store (a restart) still refuses, even the right password, from a new address.
    const limited = await failure(open().signIn({ userName: 'READER-1', password: 'a long passphrase' }, '10.0.2.1'));
    expect(limited).toEqual({ code: 'AUTH_RATE_LIMITED', details: { retryAfterSeconds: 10 * 60 } });
    const refusedAudits = audit.length;
    await failure(open().signIn({ userName: 'reader-1', password: 'a long passphrase' }, '10.0.2.1'));
    expect(audit.length, 'refusals while limited are not audited one by one').toBe(refusedAudits);
    nowMs += 10 * MIN;
    expect((await open().signIn({ userName: 'reader-1', password: 'a long passphrase' }, '10.0.2.1')).session.view.user.name).toBe('reader-1');
  });

  it('limits a client address after 5 failures whatever names it tries, and a success does not reset the address', async () => {
    const sessions = open();
    await sessions.signIn({ userName: 'reader-1', password: 'a long passphrase' }, '10.0.0.9');
    for (let i = 0; i < 5; i++) await failure(sessions.signIn({ userName: `guess-${i}`, password: 'whatever it is' }, '10.0.0.9'));
    expect((await failure(sessions.signIn({ userName: 'reader-1', password: 'a long passphrase' }, '10.0.0.9'))).code).toBe('AUTH_RATE_LIMITED');
    expect((await failure(sessions.signIn({ token: 'vgl_whatever' }, '10.0.0.9'))).code).toBe('AUTH_RATE_LIMITED');
    expect(await sessions.signIn({ userName: 'reader-1', password: 'a long passphrase' }, '10.0.0.10')).toBeDefined();
  });

  it('forgets a name’s failures after a successful sign-in', async () => {
    const sessions = open();
    for (let i = 0; i < 4; i++) await failure(sessions.signIn({ userName: 'reader-1', password: 'wrong password!' }, `10.0.3.${i}`));
    await sessions.signIn({ userName: 'reader-1', password: 'a long passphrase' }, '10.0.3.9');
    for (let i = 0; i < 4; i++) await failure(sessions.signIn({ userName: 'reader-1', password: 'wrong password!' }, `10.0.4.${i}`));
    expect(await sessions.signIn({ userName: 'reader-1', password: 'a long passphrase' }, '10.0.4.9')).toBeDefined();
  });

  it('changes passwords: own with the current one, anyone’s as admin; every session of the user ends', async () => {
    const sessions = open();
    const self = { userId: reader.userId, role: 'clinician-reviewer' as const, tokenId: 's-1' };
    const first = (await sessions.signIn({ userName: 'reader-1', password: 'a long passphrase' }, '10.0.0.1')).cookieValue;
    const second = (await sessions.signIn({ userName: 'reader-1', password: 'a long passphrase' }, '10.0.0.2')).cookieValue;
    expect((await failure(sessions.setPassword(self, { userId: reader.userId, password: 'another long one' }, '10.0.0.1'))).code).toBe(
      'AUTH_PASSWORD_REJECTED',
    );
    expect(
      (await failure(sessions.setPassword(self, { userId: reader.userId, password: 'another long one', currentPassword: 'nope nope nope' }, '10.0.0.1'))).code,
    ).toBe('AUTH_PASSWORD_REJECTED');
    expect((await failure(sessions.setPassword(self, { userId: reader.userId, password: 'short' }, '10.0.0.1'))).code).toBe('REQUEST_INVALID');
    expect((await failure(sessions.setPassword(self, { userId: admin.userId, password: 'another long one' }, '10.0.0.1'))).code).toBe('AUTH_FORBIDDEN');
    audit = [];
    expect(await sessions.setPassword(self, { userId: reader.userId, password: 'another long one', currentPassword: 'a long passphrase' }, '10.0.0.1')).toEqual(
      { sessionsEnded: 2 },
    );
    expect(await sessions.resume(first)).toBeUndefined();
    expect(await sessions.resume(second)).toBeUndefined();
    expect(audit).toEqual([{ type: 'password_changed', userId: reader.userId, changedBy: reader.userId, role: 'clinician-reviewer', sessionsEnded: 2 }]);
    expect((await failure(sessions.signIn({ userName: 'reader-1', password: 'a long passphrase' }, '10.0.0.3'))).code).toBe('AUTH_LOGIN_FAILED');
    await sessions.signIn({ userName: 'reader-1', password: 'another long one' }, '10.0.0.3');

    const byAdmin = { userId: admin.userId, role: 'admin' as const, tokenId: 't-1' };
    expect(await sessions.setPassword(byAdmin, { userId: reader.userId, password: 'set by the admin' }, '10.0.0.4')).toEqual({ sessionsEnded: 1 });
    expect((await failure(sessions.setPassword(byAdmin, { userId: 'u-missing', password: 'set by the admin' }, '10.0.0.4'))).code).toBe('ROUTE_NOT_FOUND');
  });

  it('refuses sessions of a disabled user', async () => {
    const sessions = open();
    const cookie = (await sessions.signIn({ userName: 'reader-1', password: 'a long passphrase' }, '10.0.0.1')).cookieValue;
    db.prepare('UPDATE users SET disabled = 1 WHERE user_id = ?').run(reader.userId);
    expect(await sessions.resume(cookie)).toBeUndefined();
    expect((await failure(sessions.signIn({ userName: 'reader-1', password: 'a long passphrase' }, '10.0.0.1'))).code).toBe('AUTH_LOGIN_FAILED');
  });
});
