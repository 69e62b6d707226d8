/* eslint-disable @typescript-eslint/require-await -- better-sqlite3 is synchronous; the methods are async because the port is. */
import { isoOrNull, TOKEN_COLUMNS, toToken, type TokenRow } from '../store-common/token-row.js';
import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { removesLastAdministrator, rotatedTokenEndsAtMs, TOKEN_LAST_USED_RESOLUTION_MS, type AccountChange } from '../../domain/access/account-rules.js';
import { isRole, type Principal, type Role } from '../../domain/access/roles.js';
import { PlatformError } from '../../domain/errors.js';
import type { AccessStore, AccountUpdate, IssuedToken, IssueTokenOptions, TokenRecord, TokenRotation, UserRecord } from '../../ports/access-store.js';
import type { Clock } from '../../ports/clock.js';
import type { SqliteDatabase } from './open-sqlite.js';

/** Bearer secrets look like `vgl_<43 base64url chars>`: 256 random bits, recognisable in a leak scan. */
const TOKEN_PREFIX = 'vgl_';
/** listTokens answers at most this many (newest first): a bounded answer however many were issued. */
const MAX_TOKENS_LISTED = 200;

interface UserRow {
  user_id: string;
  name: string;
  role: string;
  disabled: number;
  created_at_ms: number;
}

function toUser(row: UserRow): UserRecord {
  if (!isRole(row.role)) throw new PlatformError('STORE_WRITE_FAILED', 'A stored user has an unknown role', {});
  return { userId: row.user_id, name: row.name, role: row.role, createdAt: new Date(row.created_at_ms).toISOString(), disabled: row.disabled === 1 };
}

const sha256 = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();
/** A token that still authenticates at `?` (its user aside). */
const LIVE = 'revoked_at_ms IS NULL AND (expires_at_ms IS NULL OR expires_at_ms > ?)';

export class SqliteAccessStore implements AccessStore {
  constructor(
    private readonly db: SqliteDatabase,
    private readonly clock: Clock,
  ) {}

  async createUser(name: string, role: Role): Promise<UserRecord> {
    const userId = `u-${randomUUID()}`;
    try {
      this.db.prepare('INSERT INTO users (user_id, name, role, created_at_ms) VALUES (?, ?, ?, ?)').run(userId, name, role, this.clock.now().getTime());
    } catch (cause) {
      throw new PlatformError('STORE_WRITE_FAILED', 'Could not create the user (is the name taken?)', {}, { cause });
    }
    return toUser(this.db.prepare<[string], UserRow>('SELECT * FROM users WHERE user_id = ?').get(userId) as UserRow);
  }

  async listUsers(): Promise<UserRecord[]> {
    return this.#users();
  }

  #users(): UserRecord[] {
    return this.db.prepare<[], UserRow>('SELECT * FROM users ORDER BY created_at_ms, user_id').all().map(toUser);
  }

  async countUsers(): Promise<number> {
    return this.db.prepare<[], number>('SELECT count(*) FROM users').pluck().get() ?? 0;
  }

  async userById(userId: string): Promise<UserRecord | undefined> {
    const row = this.db.prepare<[string], UserRow>('SELECT * FROM users WHERE user_id = ?').get(userId);
    return row === undefined ? undefined : toUser(row);
  }

  async userByName(name: string): Promise<UserRecord | undefined> {
    const row = this.db.prepare<[string], UserRow>('SELECT * FROM users WHERE name = ?').get(name);
    return row === undefined ? undefined : toUser(row);
  }

  async updateUser(userId: string, change: AccountChange): Promise<AccountUpdate> {
    const now = this.clock.now().getTime();
    // One write transaction (BEGIN IMMEDIATE): the check and the change see no other writer between them.
    const apply = this.db.transaction((): AccountUpdate => {
      const users = this.#users();
      const before = users.find((u) => u.userId === userId);
      if (before === undefined) return { outcome: 'not_found' };
      if (removesLastAdministrator(users, userId, change)) return { outcome: 'last_administrator' };
      const role = change.role ?? before.role;
      const disabled = change.disabled ?? before.disabled;
      this.db.prepare('UPDATE users SET role = ?, disabled = ? WHERE user_id = ?').run(role, disabled ? 1 : 0, userId);
      const sessionsEnded =
        disabled && !before.disabled
          ? this.db.prepare('UPDATE sessions SET ended_at_ms = ? WHERE user_id = ? AND ended_at_ms IS NULL').run(now, userId).changes
          : 0;
      return { outcome: 'updated', before, user: { ...before, role, disabled }, sessionsEnded };
    });
    try {
      return apply.immediate();
    } catch (cause) {
      throw new PlatformError('STORE_WRITE_FAILED', 'Could not change the user', {}, { cause });
    }
  }

  async issueToken(userId: string, label: string, options: IssueTokenOptions = {}): Promise<IssuedToken> {
    try {
      return this.#insertToken(userId, label, options.expiresAtMs ?? null, this.clock.now().getTime());
    } catch (cause) {
      throw new PlatformError('STORE_WRITE_FAILED', 'Could not issue the token (unknown user?)', {}, { cause });
    }
  }

  #insertToken(userId: string, label: string, expiresAtMs: number | null, now: number): IssuedToken {
    const tokenId = `t-${randomUUID()}`;
    const secret = TOKEN_PREFIX + randomBytes(32).toString('base64url');
    this.db
      .prepare('INSERT INTO api_tokens (token_id, user_id, label, secret_sha256, created_at_ms, expires_at_ms) VALUES (?, ?, ?, ?, ?, ?)')
      .run(tokenId, userId, label, sha256(secret), now, expiresAtMs);
    return { tokenId, secret, expiresAt: isoOrNull(expiresAtMs) };
  }

  async listTokens(userId: string): Promise<TokenRecord[]> {
    return this.db
      .prepare<[string, number], TokenRow>(`SELECT ${TOKEN_COLUMNS} FROM api_tokens WHERE user_id = ? ORDER BY created_at_ms DESC, token_id LIMIT ?`)
      .all(userId, MAX_TOKENS_LISTED)
      .map(toToken);
  }

  async authenticate(secret: string): Promise<Principal | undefined> {
    if (!secret.startsWith(TOKEN_PREFIX) || secret.length > 100) return undefined;
    const digest = sha256(secret);
    const now = this.clock.now().getTime();
    const row = this.db
      .prepare<[Buffer, number], { token_id: string; user_id: string; role: string; secret_sha256: Buffer; last_used_at_ms: number | null }>(
        `SELECT t.token_id, t.user_id, u.role, t.secret_sha256, t.last_used_at_ms FROM api_tokens t JOIN users u ON u.user_id = t.user_id
         WHERE t.secret_sha256 = ? AND t.revoked_at_ms IS NULL AND (t.expires_at_ms IS NULL OR t.expires_at_ms > ?) AND u.disabled = 0`,
      )
      .get(digest, now);
    // The lookup is by digest (an index, not a secret comparison); the constant-time compare is belt and braces.
    if (row === undefined || !timingSafeEqual(row.secret_sha256, digest) || !isRole(row.role)) return undefined;
    if (row.last_used_at_ms === null || now - row.last_used_at_ms >= TOKEN_LAST_USED_RESOLUTION_MS) {
      this.db.prepare('UPDATE api_tokens SET last_used_at_ms = ? WHERE token_id = ?').run(now, row.token_id);
    }
    return { userId: row.user_id, role: row.role, tokenId: row.token_id };
  }

  async revokeToken(tokenId: string, userId?: string): Promise<boolean> {
    const now = this.clock.now().getTime();
    return (
      this.db
        .prepare(`UPDATE api_tokens SET revoked_at_ms = ? WHERE token_id = ? AND (? IS NULL OR user_id = ?) AND ${LIVE}`)
        .run(now, tokenId, userId ?? null, userId ?? null, now).changes === 1
    );
  }

  async rotateToken(userId: string, tokenId: string, options: { readonly label: string; readonly overlapMs: number }): Promise<TokenRotation> {
    const now = this.clock.now().getTime();
    const rotate = this.db.transaction((): TokenRotation => {
      const old = this.db
        .prepare<[string, string, number], TokenRow>(`SELECT ${TOKEN_COLUMNS} FROM api_tokens WHERE token_id = ? AND user_id = ? AND ${LIVE}`)
        .get(tokenId, userId, now);
      if (old === undefined) return { outcome: 'not_found' };
      // The successor lives as long as its predecessor was issued to live.
      const expiresAtMs = old.expires_at_ms === null ? null : now + (Number(old.expires_at_ms) - Number(old.created_at_ms));
      const issued = this.#insertToken(userId, options.label, expiresAtMs, now);
      const endsAtMs = rotatedTokenEndsAtMs(now, options.overlapMs, old.expires_at_ms === null ? undefined : Number(old.expires_at_ms));
      if (options.overlapMs === 0) this.db.prepare('UPDATE api_tokens SET revoked_at_ms = ? WHERE token_id = ?').run(now, tokenId);
      else this.db.prepare('UPDATE api_tokens SET expires_at_ms = ? WHERE token_id = ?').run(endsAtMs, tokenId);
      return { outcome: 'rotated', issued, previousEndsAt: new Date(endsAtMs).toISOString() };
    });
    try {
      return rotate.immediate();
    } catch (cause) {
      throw new PlatformError('STORE_WRITE_FAILED', 'Could not rotate the token', {}, { cause });
    }
  }
}
