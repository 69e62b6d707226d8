import type { AccountChange } from '../domain/access/account-rules.js';
import type { Principal, Role } from '../domain/access/roles.js';

export interface UserRecord {
  readonly userId: string;
  /** A login name chosen by the site (staff identity, not patient data). */
  readonly name: string;
  readonly role: Role;
  readonly createdAt: string;
  readonly disabled: boolean;
}

export interface IssuedToken {
  readonly tokenId: string;
  /** The bearer secret, shown once; only its hash is stored. */
  readonly secret: string;
  /** ISO 8601, or null when it lives until revoked. */
  readonly expiresAt: string | null;
}

/** A token as listed: what it is and how it was used, never its secret or hash. */
export interface TokenRecord {
  readonly tokenId: string;
  readonly userId: string;
  readonly label: string;
  readonly createdAt: string;
  /** The last authenticated request (to the minute), or null when never used. */
  readonly lastUsedAt: string | null;
  /** ISO 8601: when it stops (or stopped) working on its own; null when never. */
  readonly expiresAt: string | null;
  /** ISO 8601: when it was revoked; null while not revoked. */
  readonly revokedAt: string | null;
}

export interface IssueTokenOptions {
  /** When it stops working, epoch milliseconds; absent: until revoked. */
  readonly expiresAtMs?: number;
}

/** What changing an account did. The last enabled administrator is never disabled or demoted. */
export type AccountUpdate =
  | { readonly outcome: 'updated'; readonly user: UserRecord; readonly before: UserRecord; readonly sessionsEnded: number }
  | { readonly outcome: 'not_found' }
  | { readonly outcome: 'last_administrator' };

/** What rotating a token did. */
export type TokenRotation = { readonly outcome: 'rotated'; readonly issued: IssuedToken; readonly previousEndsAt: string } | { readonly outcome: 'not_found' };

/** Users and API tokens. Tokens are random 256-bit secrets; the store keeps only their SHA-256. */
export interface AccessStore {
  createUser(name: string, role: Role): Promise<UserRecord>;
  listUsers(): Promise<readonly UserRecord[]>;
  countUsers(): Promise<number>;
  userById(userId: string): Promise<UserRecord | undefined>;
  /** By exact (case-sensitive) name. */
  userByName(name: string): Promise<UserRecord | undefined>;
  /**
   * Changes a user's role or disables/enables them, atomically with the check that an enabled
   * administrator remains (domain/access/account-rules.ts), also against concurrent changes from
   * other servers. Disabling ends the user's live dashboard sessions in the same transaction; their
   * tokens stop authenticating at once (authentication reads the user's state).
   */
  updateUser(userId: string, change: AccountChange): Promise<AccountUpdate>;
  issueToken(userId: string, label: string, options?: IssueTokenOptions): Promise<IssuedToken>;
  /** A user's tokens, newest first, revoked and expired ones included (at most the newest 200). */
  listTokens(userId: string): Promise<readonly TokenRecord[]>;
  /**
   * The principal for a bearer secret, or undefined (unknown, revoked, expired, or its user
   * disabled). Records the token's last use, at most once a minute.
   */
  authenticate(secret: string): Promise<Principal | undefined>;
  /** Revokes a live token (of `userId`, when given); false when there is no such live token. */
  revokeToken(tokenId: string, userId?: string): Promise<boolean>;
  /**
   * Issues a new token for the user of live token `tokenId` and ends the old one, in one transaction:
   * at once, or after `overlapMs` (never later than it would have expired).
   */
  rotateToken(userId: string, tokenId: string, options: { readonly label: string; readonly overlapMs: number }): Promise<TokenRotation>;
}
