import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { isoOrNull, TOKEN_COLUMNS, toToken, type TokenRow } from '../store-common/token-row.js';
import type { QueryResultRow } from 'pg';
import { removesLastAdministrator, rotatedTokenEndsAtMs, TOKEN_LAST_USED_RESOLUTION_MS, type AccountChange } from '../../domain/access/account-rules.js';
import { isRole, type Principal, type Role } from '../../domain/access/roles.js';
import { PlatformError } from '../../domain/errors.js';
import type { AccessStore, AccountUpdate, IssuedToken, IssueTokenOptions, TokenRecord, TokenRotation, UserRecord } from '../../ports/access-store.js';
import type { Clock } from '../../ports/clock.js';
import { inTransaction, type PostgresClient, type PostgresPool } from './open-postgres.js';

/** Bearer secrets look like `vgl_<43 base64url chars>`: 256 random bits, recognisable in a leak scan (as in SQLite). */
const TOKEN_PREFIX = 'vgl_';
/** listTokens answers at most this many (newest first), as in SQLite. */
const MAX_TOKENS_LISTED = 200;

interface UserRow extends QueryResultRow {
  user_id: string;
  name: string;
  role: string;
  disabled: boolean;
  created_at_ms: number;
}

function toUser(row: UserRow): UserRecord {
  if (!isRole(row.role)) throw new PlatformError('STORE_WRITE_FAILED', 'A stored user has an unknown role', {});
  return { userId: row.user_id, name: row.name, role: row.role, createdAt: new Date(Number(row.created_at_ms)).toISOString(), disabled: row.disabled };
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

  async userById(userId: string): Promise<UserRecord | undefined> {
    const row = (await this.#query<UserRow>('SELECT * FROM users WHERE user_id = $1', [userId]))[0];
    return row === undefined ? undefined : toUser(row);
  }

  async userByName(name: string): Promise<UserRecord | undefined> {
    const row = (await this.#query<UserRow>('SELECT * FROM users WHERE name = $1', [name]))[0];
    return row === undefined ? undefined : toUser(row);
  }

  async updateUser(userId: string, change: AccountChange): Promise<AccountUpdate> {
    const now = this.clock.now().getTime();
    return inTransaction(
      this.pool,
      async (client): Promise<AccountUpdate> => {
        // EXCLUSIVE blocks other writers of `users` (not readers) until commit: two servers disabling
        // the last two administrators at once are serialised, and the second sees the first's change.
        await client.query('LOCK TABLE users IN EXCLUSIVE MODE');
        const users = (await client.query<UserRow>('SELECT * FROM users ORDER BY created_at_ms, user_id')).rows.map(toUser);
        const before = users.find((u) => u.userId === userId);
        if (before === undefined) return { outcome: 'not_found' };
        if (removesLastAdministrator(users, userId, change)) return { outcome: 'last_administrator' };
        const role = change.role ?? before.role;
        const disabled = change.disabled ?? before.disabled;
        await client.query('UPDATE users SET role = $1, disabled = $2 WHERE user_id = $3', [role, disabled, userId]);
        const sessionsEnded =
          disabled && !before.disabled
            ? ((await client.query('UPDATE sessions SET ended_at_ms = $1 WHERE user_id = $2 AND ended_at_ms IS NULL', [now, userId])).rowCount ?? 0)
            : 0;
        return { outcome: 'updated', before, user: { ...before, role, disabled }, sessionsEnded };
      },
      (cause) => new PlatformError('STORE_WRITE_FAILED', 'Could not change the user', {}, { cause }),
    );
  }

  async issueToken(userId: string, label: string, options: IssueTokenOptions = {}): Promise<IssuedToken> {
    try {
      return await insertToken(this.pool, userId, label, options.expiresAtMs ?? null, this.clock.now().getTime());
    } catch (cause) {
      throw new PlatformError('STORE_WRITE_FAILED', 'Could not issue the token (unknown user?)', {}, { cause });
    }
  }

  async listTokens(userId: string): Promise<TokenRecord[]> {
    return (
      await this.#query<TokenRow>(`SELECT ${TOKEN_COLUMNS} FROM api_tokens WHERE user_id = $1 ORDER BY created_at_ms DESC, token_id LIMIT $2`, [
        userId,
        MAX_TOKENS_LISTED,
      ])
    ).map(toToken);
  }

  async authenticate(secret: string): Promise<Principal | undefined> {
    if (!secret.startsWith(TOKEN_PREFIX) || secret.length > 100) return undefined;
    const digest = sha256(secret);
    const now = this.clock.now().getTime();
    const row = (
      await this.#query<{ token_id: string; user_id: string; role: string; secret_sha256: Buffer; last_used_at_ms: string | null }>(
        `SELECT t.token_id, t.user_id, u.role, t.secret_sha256, t.last_used_at_ms FROM api_tokens t JOIN users u ON u.user_id = t.user_id
         WHERE t.secret_sha256 = $1 AND t.revoked_at_ms IS NULL AND (t.expires_at_ms IS NULL OR t.expires_at_ms > $2) AND NOT u.disabled`,
        [digest, now],
      )
    )[0];
    // The lookup is by digest (an index, not a secret comparison); the constant-time compare is belt and braces.
    if (row === undefined || !timingSafeEqual(row.secret_sha256, digest) || !isRole(row.role)) return undefined;
    if (row.last_used_at_ms === null || now - Number(row.last_used_at_ms) >= TOKEN_LAST_USED_RESOLUTION_MS) {
      await this.#query('UPDATE api_tokens SET last_used_at_ms = $1 WHERE token_id = $2', [now, row.token_id]);
    }
    return { userId: row.user_id, role: row.role, tokenId: row.token_id };
  }

  async revokeToken(tokenId: string, userId?: string): Promise<boolean> {
    const now = this.clock.now().getTime();
    const rows = await this.#query(
      `UPDATE api_tokens SET revoked_at_ms = $1 WHERE token_id = $2 AND ($3::text IS NULL OR user_id = $3)
         AND revoked_at_ms IS NULL AND (expires_at_ms IS NULL OR expires_at_ms > $1) RETURNING token_id`,
      [now, tokenId, userId ?? null],
    );
    return rows.length === 1;
  }

  async rotateToken(userId: string, tokenId: string, options: { readonly label: string; readonly overlapMs: number }): Promise<TokenRotation> {
    const now = this.clock.now().getTime();
    return inTransaction(
      this.pool,
      async (client): Promise<TokenRotation> => {
        // FOR UPDATE: two rotations of one token at once make one successor, not two.
        const old = (
          await client.query<TokenRow>(
            `SELECT ${TOKEN_COLUMNS} FROM api_tokens WHERE token_id = $1 AND user_id = $2
               AND revoked_at_ms IS NULL AND (expires_at_ms IS NULL OR expires_at_ms > $3) FOR UPDATE`,
            [tokenId, userId, now],
          )
        ).rows[0];
        if (old === undefined) return { outcome: 'not_found' };
        const oldExpires = old.expires_at_ms === null ? undefined : Number(old.expires_at_ms);
        // The successor lives as long as its predecessor was issued to live.
        const expiresAtMs = oldExpires === undefined ? null : now + (oldExpires - Number(old.created_at_ms));
        const issued = await insertToken(client, userId, options.label, expiresAtMs, now);
        const endsAtMs = rotatedTokenEndsAtMs(now, options.overlapMs, oldExpires);
        if (options.overlapMs === 0) await client.query('UPDATE api_tokens SET revoked_at_ms = $1 WHERE token_id = $2', [now, tokenId]);
        else await client.query('UPDATE api_tokens SET expires_at_ms = $1 WHERE token_id = $2', [endsAtMs, tokenId]);
        return { outcome: 'rotated', issued, previousEndsAt: new Date(endsAtMs).toISOString() };
      },
      (cause) => new PlatformError('STORE_WRITE_FAILED', 'Could not rotate the token', {}, { cause }),
    );
  }
}

async function insertToken(db: PostgresPool | PostgresClient, userId: string, label: string, expiresAtMs: number | null, now: number): Promise<IssuedToken> {
  const tokenId = `t-${randomUUID()}`;
  const secret = TOKEN_PREFIX + randomBytes(32).toString('base64url');
  await db.query('INSERT INTO api_tokens (token_id, user_id, label, secret_sha256, created_at_ms, expires_at_ms) VALUES ($1, $2, $3, $4, $5, $6)', [
    tokenId,
    userId,
    label,
    sha256(secret),
    now,
    expiresAtMs,
  ]);
  return { tokenId, secret, expiresAt: isoOrNull(expiresAtMs) };
}
