import type { QueryResultRow } from 'pg';
import { isRole } from '../../domain/access/roles.js';
import { PlatformError } from '../../domain/errors.js';
import type { UserRecord } from '../../ports/access-store.js';
import type { NewSession, SessionStore, SignInMethod, StoredSession, UserCredential } from '../../ports/session-store.js';
import { toBuffer } from '../store-common/to-buffer.js';
import { inTransaction, type PostgresPool } from './open-postgres.js';

interface UserRow extends QueryResultRow {
  user_id: string;
  name: string;
  role: string;
  disabled: boolean;
  created_at_ms: number;
}

interface SessionRow extends UserRow {
  session_id: string;
  csrf_token: string;
  method: string;
  session_created_at_ms: number;
  last_seen_at_ms: number;
  expires_at_ms: number;
}

function toUser(row: UserRow): UserRecord {
  if (!isRole(row.role)) throw new PlatformError('STORE_WRITE_FAILED', 'A stored user has an unknown role', {});
  return { userId: row.user_id, name: row.name, role: row.role, createdAt: new Date(row.created_at_ms).toISOString(), disabled: row.disabled };
}

const failed = (cause: unknown): PlatformError => new PlatformError('STORE_WRITE_FAILED', 'The session store could not be read or updated', {}, { cause });

/**
 * Passwords, dashboard sessions and failed sign-ins in PostgreSQL (migration 6), shared by every Vigil
 * server: a session started at one is resumed at another, and a rate limit counted at one holds at all.
 */
export class PostgresSessionStore implements SessionStore {
  constructor(private readonly pool: PostgresPool) {}

  async #query<Row extends QueryResultRow>(sql: string, values: unknown[]): Promise<{ rows: Row[]; rowCount: number }> {
    try {
      const result = await this.pool.query<Row>(sql, values);
      return { rows: result.rows, rowCount: result.rowCount ?? 0 };
    } catch (cause) {
      throw failed(cause);
    }
  }

  credentialByName(name: string): Promise<UserCredential | undefined> {
    return this.#credential('u.name = $1', name);
  }

  credentialById(userId: string): Promise<UserCredential | undefined> {
    return this.#credential('u.user_id = $1', userId);
  }

  async #credential(where: string, value: string): Promise<UserCredential | undefined> {
    const { rows } = await this.#query<UserRow & { hash: string | null }>(
      `SELECT u.*, p.hash FROM users u LEFT JOIN user_passwords p ON p.user_id = u.user_id WHERE ${where}`,
      [value],
    );
    const row = rows[0];
    return row === undefined ? undefined : { user: toUser(row), passwordHash: row.hash };
  }

  setPassword(userId: string, passwordHash: string, atMs: number): Promise<number> {
    return inTransaction(
      this.pool,
      async (client) => {
        await client.query(
          `INSERT INTO user_passwords (user_id, hash, changed_at_ms) VALUES ($1, $2, $3)
           ON CONFLICT (user_id) DO UPDATE SET hash = excluded.hash, changed_at_ms = excluded.changed_at_ms`,
          [userId, passwordHash, atMs],
        );
        const ended = await client.query('UPDATE sessions SET ended_at_ms = $1 WHERE user_id = $2 AND ended_at_ms IS NULL', [atMs, userId]);
        return ended.rowCount ?? 0;
      },
      failed,
    );
  }

  async createSession(session: NewSession): Promise<void> {
    await this.#query(
      `INSERT INTO sessions (session_id, secret_sha256, user_id, csrf_token, method, created_at_ms, last_seen_at_ms, expires_at_ms)
       VALUES ($1, $2, $3, $4, $5, $6, $6, $7)`,
      [session.sessionId, toBuffer(session.secretSha256), session.userId, session.csrfToken, session.method, session.createdAtMs, session.expiresAtMs],
    );
  }

  async findSession(secretSha256: Uint8Array): Promise<StoredSession | undefined> {
    const { rows } = await this.#query<SessionRow>(
      `SELECT s.session_id, s.csrf_token, s.method, s.created_at_ms AS session_created_at_ms, s.last_seen_at_ms, s.expires_at_ms,
              u.user_id, u.name, u.role, u.disabled, u.created_at_ms
       FROM sessions s JOIN users u ON u.user_id = s.user_id
       WHERE s.secret_sha256 = $1 AND s.ended_at_ms IS NULL`,
      [toBuffer(secretSha256)],
    );
    const row = rows[0];
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
    // Servers touch in any order; the last use only moves forward.
    await this.#query('UPDATE sessions SET last_seen_at_ms = greatest(last_seen_at_ms, $1) WHERE session_id = $2', [atMs, sessionId]);
  }

  async endSession(sessionId: string, atMs: number): Promise<void> {
    await this.#query('UPDATE sessions SET ended_at_ms = $1 WHERE session_id = $2 AND ended_at_ms IS NULL', [atMs, sessionId]);
  }

  async endExpiredSessions(nowMs: number, idleBeforeMs: number): Promise<number> {
    const { rowCount } = await this.#query(
      'UPDATE sessions SET ended_at_ms = $1 WHERE ended_at_ms IS NULL AND (expires_at_ms <= $1 OR last_seen_at_ms <= $2)',
      [nowMs, idleBeforeMs],
    );
    return rowCount;
  }

  async recordFailure(keyDigests: readonly Uint8Array[], atMs: number, forgetBeforeMs: number): Promise<void> {
    await inTransaction(
      this.pool,
      async (client) => {
        await client.query('DELETE FROM login_failures WHERE at_ms < $1', [forgetBeforeMs]);
        // One row per key, in one statement.
        await client.query('INSERT INTO login_failures (key_sha256, at_ms) SELECT k, $2 FROM unnest($1::bytea[]) AS k', [keyDigests.map(toBuffer), atMs]);
      },
      failed,
    );
  }

  async failuresSince(keyDigest: Uint8Array, sinceMs: number): Promise<readonly number[]> {
    const { rows } = await this.#query<{ at_ms: number }>('SELECT at_ms FROM login_failures WHERE key_sha256 = $1 AND at_ms >= $2 ORDER BY at_ms', [
      toBuffer(keyDigest),
      sinceMs,
    ]);
    return rows.map((r) => r.at_ms);
  }

  async clearFailures(keyDigest: Uint8Array): Promise<void> {
    await this.#query('DELETE FROM login_failures WHERE key_sha256 = $1', [toBuffer(keyDigest)]);
  }
}
