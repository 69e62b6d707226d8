import type { UserRecord } from './access-store.js';

/** A user as sign-in sees them: the account and its password hash (null when none was ever set). */
export interface UserCredential {
  readonly user: UserRecord;
  readonly passwordHash: string | null;
}

export type SignInMethod = 'password' | 'token';

export interface NewSession {
  /** Surrogate id (`s-…`): what logs and the audit trail name. */
  readonly sessionId: string;
  /** SHA-256 of the cookie value; the value itself is never stored. */
  readonly secretSha256: Uint8Array;
  readonly userId: string;
  readonly csrfToken: string;
  readonly method: SignInMethod;
  readonly createdAtMs: number;
  /** The absolute end (sign-in + the absolute timeout). */
  readonly expiresAtMs: number;
}

export interface StoredSession {
  readonly sessionId: string;
  readonly user: UserRecord;
  readonly csrfToken: string;
  readonly method: SignInMethod;
  readonly createdAtMs: number;
  readonly lastSeenAtMs: number;
  readonly expiresAtMs: number;
}

/**
 * Dashboard sign-in state: passwords, sessions, and failed attempts (for the rate limit). Kept in
 * the store, so a restart neither signs anyone out nor resets a rate limit.
 */
export interface SessionStore {
  credentialByName(name: string): Promise<UserCredential | undefined>;
  credentialById(userId: string): Promise<UserCredential | undefined>;
  /** Sets a user's password hash and ends all their live sessions, atomically; resolves to how many ended. */
  setPassword(userId: string, passwordHash: string, atMs: number): Promise<number>;
  createSession(session: NewSession): Promise<void>;
  /** A session not yet ended, by its secret's digest, with its user as now stored; expiry is the caller's rule. */
  findSession(secretSha256: Uint8Array): Promise<StoredSession | undefined>;
  touchSession(sessionId: string, atMs: number): Promise<void>;
  endSession(sessionId: string, atMs: number): Promise<void>;
  /** Ends sessions past `idleBeforeMs` (last seen before it) or their absolute end; resolves to how many. */
  endExpiredSessions(nowMs: number, idleBeforeMs: number): Promise<number>;
  /** Records one failed attempt under each key digest; failures older than `forgetBeforeMs` are dropped. */
  recordFailure(keyDigests: readonly Uint8Array[], atMs: number, forgetBeforeMs: number): Promise<void>;
  /** Times of the failures recorded under a key since `sinceMs`, ascending. */
  failuresSince(keyDigest: Uint8Array, sinceMs: number): Promise<readonly number[]>;
  clearFailures(keyDigest: Uint8Array): Promise<void>;
}
