/* eslint-disable @typescript-eslint/require-await -- better-sqlite3 is synchronous; the methods are async because the port is. */
import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { isRole, type Principal, type Role } from '../../domain/access/roles.js';
import { PlatformError } from '../../domain/errors.js';
import type { AccessStore, IssuedToken, UserRecord } from '../../ports/access-store.js';
import type { Clock } from '../../ports/clock.js';
import type { SqliteDatabase } from './open-sqlite.js';

/** Bearer secrets look like `vgl_<43 base64url chars>`: 256 random bits, recognisable in a leak scan. */
const TOKEN_PREFIX = 'vgl_';

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
    return this.db.prepare<[], UserRow>('SELECT * FROM users ORDER BY created_at_ms, user_id').all().map(toUser);
  }

  async countUsers(): Promise<number> {
    return this.db.prepare<[], number>('SELECT count(*) FROM users').pluck().get() ?? 0;
  }

  async issueToken(userId: string, label: string): Promise<IssuedToken> {
    const tokenId = `t-${randomUUID()}`;
    const secret = TOKEN_PREFIX + randomBytes(32).toString('base64url');
    try {
      this.db
        .prepare('INSERT INTO api_tokens (token_id, user_id, label, secret_sha256, created_at_ms) VALUES (?, ?, ?, ?, ?)')
        .run(tokenId, userId, label, sha256(secret), this.clock.now().getTime());
    } catch (cause) {
      throw new PlatformError('STORE_WRITE_FAILED', 'Could not issue the token (unknown user?)', {}, { cause });
    }
    return { tokenId, secret };
  }

  async authenticate(secret: string): Promise<Principal | undefined> {
    if (!secret.startsWith(TOKEN_PREFIX) || secret.length > 100) return undefined;
    const digest = sha256(secret);
    const row = this.db
      .prepare<[Buffer], { token_id: string; user_id: string; role: string; secret_sha256: Buffer }>(
        `SELECT t.token_id, t.user_id, u.role, t.secret_sha256 FROM api_tokens t JOIN users u ON u.user_id = t.user_id
         WHERE t.secret_sha256 = ? AND t.revoked_at_ms IS NULL AND u.disabled = 0`,
      )
      .get(digest);
    // The lookup is by digest (an index, not a secret comparison); the constant-time compare is belt and braces.
    if (row === undefined || !timingSafeEqual(row.secret_sha256, digest) || !isRole(row.role)) return undefined;
    return { userId: row.user_id, role: row.role, tokenId: row.token_id };
  }

  async revokeToken(tokenId: string): Promise<boolean> {
    return (
      this.db.prepare('UPDATE api_tokens SET revoked_at_ms = ? WHERE token_id = ? AND revoked_at_ms IS NULL').run(this.clock.now().getTime(), tokenId)
        .changes === 1
    );
  }
}
