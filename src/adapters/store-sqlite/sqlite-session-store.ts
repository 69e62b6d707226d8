/* eslint-disable @typescript-eslint/require-await -- better-sqlite3 is synchronous; the methods are async because the port is. */
import { isRole } from '../../domain/access/roles.js';
import { PlatformError } from '../../domain/errors.js';
import type { UserRecord } from '../../ports/access-store.js';
import type { NewSession, SessionStore, SignInMethod, StoredSession, UserCredential } from '../../ports/session-store.js';
import { toBuffer } from '../store-common/to-buffer.js';
import type { SqliteDatabase } from './open-sqlite.js';

interface CredentialRow {
  user_id: string;
  name: string;
  role: string;
  disabled: number;
  created_at_ms: number;
  hash: string | null;
}

interface SessionRow extends Omit<CredentialRow, 'hash'> {
  session_id: string;
  csrf_token: string;
  method: string;
  session_created_at_ms: number;
  last_seen_at_ms: number;
  expires_at_ms: number;
}

function toUser(row: Omit<CredentialRow, 'hash'>): UserRecord {
  if (!isRole(row.role)) throw new PlatformError('STORE_WRITE_FAILED', 'A stored user has an unknown role', {});
  return { userId: row.user_id, name: row.name, role: row.role, createdAt: new Date(row.created_at_ms).toISOString(), disabled: row.disabled === 1 };
}

/** Passwords, sessions and failed sign-ins in the SQLite store (migration 6), beside the users they belong to. */
export class SqliteSessionStore implements SessionStore {
  constructor(private readonly db: SqliteDatabase) {}

  async credentialByName(name: string): Promise<UserCredential | undefined> {
    return this.#credential('u.name = ?', name);
  }

  async credentialById(userId: string): Promise<UserCredential | undefined> {
    return this.#credential('u.user_id = ?', userId);
  }

  #credential(where: string, value: string): UserCredential | undefined {
    const row = this.db
      .prepare<[string], CredentialRow>(`SELECT u.*, p.hash FROM users u LEFT JOIN user_passwords p ON p.user_id = u.user_id WHERE ${where}`)
      .get(value);
    return row === undefined ? undefined : { user: toUser(row), passwordHash: row.hash };
  }

  async setPassword(userId: string, passwordHash: string, atMs: number): Promise<number> {
    return this.db.transaction(() => {
      this.db
        .prepare(
          `INSERT INTO user_passwords (user_id, hash, changed_at_ms) VALUES (?, ?, ?)
           ON CONFLICT (user_id) DO UPDATE SET hash = excluded.hash, changed_at_ms = excluded.changed_at_ms`,
        )
        .run(userId, passwordHash, atMs);
      return this.db.prepare('UPDATE sessions SET ended_at_ms = ? WHERE user_id = ? AND ended_at_ms IS NULL').run(atMs, userId).changes;
    })();
  }

  async createSession(session: NewSession): Promise<void> {
    this.db
      .prepare(
        `INSERT INTO sessions (session_id, secret_sha256, user_id, csrf_token, method, created_at_ms, last_seen_at_ms, expires_at_ms)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        session.sessionId,
        toBuffer(session.secretSha256),
        session.userId,
        session.csrfToken,
        session.method,
        session.createdAtMs,
        session.createdAtMs,
        session.expiresAtMs,
      );
  }

  async findSession(secretSha256: Uint8Array): Promise<StoredSession | undefined> {
    const row = this.db
      .prepare<[Buffer], SessionRow>(
        `SELECT s.session_id, s.csrf_token, s.method, s.created_at_ms AS session_created_at_ms, s.last_seen_at_ms, s.expires_at_ms,
                u.user_id, u.name, u.role, u.disabled, u.created_at_ms
         FROM sessions s JOIN users u ON u.user_id = s.user_id
         WHERE s.secret_sha256 = ? AND s.ended_at_ms IS NULL`,
      )
      .get(toBuffer(secretSha256));
    if (row === undefined) return undefined;
    return {
      sessionId: row.session_id,
      user: toUser(row),
      csrfToken: row.csrf_token,
      method: row.method as SignInMethod,
      createdAtMs: row.session_created_at_ms,
      lastSeenAtMs: row.last_seen_at_ms,
      expiresAtMs: row.expires_at_ms,
    };
  }

  async touchSession(sessionId: string, atMs: number): Promise<void> {
    this.db.prepare('UPDATE sessions SET last_seen_at_ms = max(last_seen_at_ms, ?) WHERE session_id = ?').run(atMs, sessionId);
  }

  async endSession(sessionId: string, atMs: number): Promise<void> {
    this.db.prepare('UPDATE sessions SET ended_at_ms = ? WHERE session_id = ? AND ended_at_ms IS NULL').run(atMs, sessionId);
  }

  async endExpiredSessions(nowMs: number, idleBeforeMs: number): Promise<number> {
    return this.db
      .prepare('UPDATE sessions SET ended_at_ms = ? WHERE ended_at_ms IS NULL AND (expires_at_ms <= ? OR last_seen_at_ms <= ?)')
      .run(nowMs, nowMs, idleBeforeMs).changes;
  }

  async recordFailure(keyDigests: readonly Uint8Array[], atMs: number, forgetBeforeMs: number): Promise<void> {
    const insert = this.db.prepare('INSERT INTO login_failures (key_sha256, at_ms) VALUES (?, ?)');
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM login_failures WHERE at_ms < ?').run(forgetBeforeMs);
      for (const key of keyDigests) insert.run(toBuffer(key), atMs);
    })();
  }

  async failuresSince(keyDigest: Uint8Array, sinceMs: number): Promise<readonly number[]> {
    return this.db
      .prepare<[Buffer, number], number>('SELECT at_ms FROM login_failures WHERE key_sha256 = ? AND at_ms >= ? ORDER BY at_ms')
      .pluck()
      .all(toBuffer(keyDigest), sinceMs);
  }

  async clearFailures(keyDigest: Uint8Array): Promise<void> {
    this.db.prepare('DELETE FROM login_failures WHERE key_sha256 = ?').run(toBuffer(keyDigest));
  }
}
