import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { QueryResultRow } from 'pg';
import { isRole, type Principal, type Role } from '../../domain/access/roles.js';
import { PlatformError } from '../../domain/errors.js';
import type { AccessStore, IssuedToken, UserRecord } from '../../ports/access-store.js';
import type { Clock } from '../../ports/clock.js';
import type { PostgresPool } from './open-postgres.js';

/** Bearer secrets look like `vgl_<43 base64url chars>`: 256 random bits, recognisable in a leak scan (as in SQLite). */
const TOKEN_PREFIX = 'vgl_';

interface UserRow extends QueryResultRow {
  user_id: string;
  name: string;
  role: string;
  disabled: boolean;
  created_at_ms: number;
}

function toUser(row: UserRow): UserRecord {
  if (!isRole(row.role)) throw new PlatformError('STORE_WRITE_FAILED', 'A stored user has an unknown role', {});
  return { userId: row.user_id, name: row.name, role: row.role, createdAt: new Date(row.created_at_ms).toISOString(), disabled: row.disabled };
}

const sha256 = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();

/** Users and API tokens in PostgreSQL, shared by every Vigil server: a token issued through one authenticates at all. */
export class PostgresAccessStore implements AccessStore {
  constructor(
    private readonly pool: PostgresPool,
    private readonly clock: Clock,
  ) {}

  async #query<Row extends QueryResultRow>(sql: string, values: unknown[], failure = 'The access store could not be read or updated'): Promise<Row[]> {
    try {
      return (await this.pool.query<Row>(sql, values)).rows;
    } catch (cause) {
      throw new PlatformError('STORE_WRITE_FAILED', failure, {}, { cause });
    }
  }

  async createUser(name: string, role: Role): Promise<UserRecord> {
    const rows = await this.#query<UserRow>(
      'INSERT INTO users (user_id, name, role, created_at_ms) VALUES ($1, $2, $3, $4) RETURNING *',
      [`u-${randomUUID()}`, name, role, this.clock.now().getTime()],
      'Could not create the user (is the name taken?)',
    );
    return toUser(rows[0] as UserRow);
  }

  async listUsers(): Promise<UserRecord[]> {
    return (await this.#query<UserRow>('SELECT * FROM users ORDER BY created_at_ms, user_id', [])).map(toUser);
  }

  async countUsers(): Promise<number> {
    return (await this.#query<{ n: number }>('SELECT count(*) AS n FROM users', []))[0]?.n ?? 0;
  }

  async issueToken(userId: string, label: string): Promise<IssuedToken> {
    const tokenId = `t-${randomUUID()}`;
    const secret = TOKEN_PREFIX + randomBytes(32).toString('base64url');
    await this.#query(
      'INSERT INTO api_tokens (token_id, user_id, label, secret_sha256, created_at_ms) VALUES ($1, $2, $3, $4, $5)',
      [tokenId, userId, label, sha256(secret), this.clock.now().getTime()],
      'Could not issue the token (unknown user?)',
    );
    return { tokenId, secret };
  }

  async authenticate(secret: string): Promise<Principal | undefined> {
    if (!secret.startsWith(TOKEN_PREFIX) || secret.length > 100) return undefined;
    const digest = sha256(secret);
    const row = (
      await this.#query<{ token_id: string; user_id: string; role: string; secret_sha256: Buffer }>(
        `SELECT t.token_id, t.user_id, u.role, t.secret_sha256 FROM api_tokens t JOIN users u ON u.user_id = t.user_id
         WHERE t.secret_sha256 = $1 AND t.revoked_at_ms IS NULL AND NOT u.disabled`,
        [digest],
      )
    )[0];
    // The lookup is by digest (an index, not a secret comparison); the constant-time compare is belt and braces.
    if (row === undefined || !timingSafeEqual(row.secret_sha256, digest) || !isRole(row.role)) return undefined;
    return { userId: row.user_id, role: row.role, tokenId: row.token_id };
  }

  async revokeToken(tokenId: string): Promise<boolean> {
    const rows = await this.#query('UPDATE api_tokens SET revoked_at_ms = $1 WHERE token_id = $2 AND revoked_at_ms IS NULL RETURNING token_id', [
      this.clock.now().getTime(),
      tokenId,
    ]);
    return rows.length === 1;
  }
}
