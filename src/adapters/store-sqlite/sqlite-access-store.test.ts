import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openSqliteDatabase, type SqliteDatabase } from './open-sqlite.js';
import { SqliteAccessStore } from './sqlite-access-store.js';

let dir: string;
let db: SqliteDatabase;
const open = (): SqliteAccessStore => {
  dir = mkdtempSync(join(tmpdir(), 'vigil-access-'));
  db = openSqliteDatabase({ dataDir: dir });
  return new SqliteAccessStore(db, { now: () => new Date(Date.UTC(2026, 0, 1)) });
};
afterEach(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('SqliteAccessStore', () => {
  it('authenticates an issued token as its user and role, and stores only its hash', async () => {
    const store = open();
    const user = await store.createUser('reader-1', 'clinician-reviewer');
    const token = await store.issueToken(user.userId, 'laptop');
    expect(token.secret).toMatch(/^vgl_[A-Za-z0-9_-]{43}$/);
    expect(await store.authenticate(token.secret)).toEqual({ userId: user.userId, role: 'clinician-reviewer', tokenId: token.tokenId });
    const raw = JSON.stringify(db.prepare('SELECT * FROM api_tokens').all());
    expect(raw).not.toContain(token.secret.slice(4));
  });

  it('refuses unknown, malformed and revoked tokens, and tokens of disabled users', async () => {
    const store = open();
    const user = await store.createUser('svc', 'integration');
    const token = await store.issueToken(user.userId, 'pacs');
    expect(await store.authenticate('vgl_' + 'A'.repeat(43))).toBeUndefined();
    expect(await store.authenticate('Bearer nonsense')).toBeUndefined();
    expect(await store.authenticate('')).toBeUndefined();
    expect(await store.revokeToken(token.tokenId)).toBe(true);
    expect(await store.authenticate(token.secret)).toBeUndefined();
    expect(await store.revokeToken(token.tokenId)).toBe(false);
    const second = await store.issueToken(user.userId, 'pacs-2');
    db.prepare('UPDATE users SET disabled = 1 WHERE user_id = ?').run(user.userId);
    expect(await store.authenticate(second.secret)).toBeUndefined();
  });

  it('keeps user names unique', async () => {
    const store = open();
    await store.createUser('admin', 'admin');
    await expect(store.createUser('admin', 'auditor')).rejects.toMatchObject({ code: 'STORE_WRITE_FAILED' });
    expect(await store.countUsers()).toBe(1);
  });
});
