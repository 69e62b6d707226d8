import { randomUUID } from 'node:crypto';
import { hasPermission, type Principal } from '../domain/access/roles.js';
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH, rateVerdict, sessionExpiry, type RateLimit, type SessionLimits } from '../domain/access/session-policy.js';
import type { AuditEvent, LoginFailedEvent } from '../domain/audit/audit-event.js';
import { PlatformError } from '../domain/errors.js';
import type { AccessStore, UserRecord } from '../ports/access-store.js';
import type { Clock } from '../ports/clock.js';
import type { Credentials } from '../ports/credentials.js';
import type { SessionStore, SignInMethod, StoredSession } from '../ports/session-store.js';

export interface SessionSettings extends SessionLimits {
  readonly loginLimit: RateLimit;
}

export interface SessionDependencies {
  readonly store: SessionStore;
  readonly access: AccessStore;
  readonly credentials: Credentials;
  readonly clock: Clock;
  /** Appends to the audit log; resolves once durable. */
  readonly audit: (event: AuditEvent) => Promise<unknown>;
}

export type SignIn = { readonly userName: string; readonly password: string } | { readonly token: string };

/** What the dashboard learns about its session (GET/POST /api/session). */
export interface SessionView {
  readonly user: { readonly userId: string; readonly name: string; readonly role: UserRecord['role'] };
  readonly csrfToken: string;
  /** When the session ends if left idle from now (never after `absoluteExpiresAt`). ISO 8601. */
  readonly expiresAt: string;
  readonly absoluteExpiresAt: string;
  readonly method: SignInMethod;
}

export interface ActiveSession {
  readonly sessionId: string;
  readonly principal: Principal;
  readonly csrfToken: string;
  readonly view: SessionView;
}

/** Refresh `last_seen` at most this often: one durable write per request would be wasted work. */
const TOUCH_EVERY_MS = 10_000;

/**
 * Dashboard sign-in: passwords or an API token exchanged for a session cookie, sessions that end
 * when idle, at an absolute limit, on sign-out or when the password changes, and a rate limit on
 * failed attempts per user name and per client address, kept in the store.
 */
export class DashboardSessions {
  constructor(
    private readonly deps: SessionDependencies,
    private readonly settings: SessionSettings,
  ) {}

  /**
   * Signs in and returns the cookie value (shown once; only its SHA-256 is kept) with the session.
   * Throws AUTH_RATE_LIMITED (details.retryAfterSeconds) while a key is limited, even for correct
   * credentials, and AUTH_LOGIN_FAILED for any wrong or unknown credential, alike.
   */
  async signIn(request: SignIn, clientAddress: string): Promise<{ readonly cookieValue: string; readonly session: ActiveSession }> {
    const { store, credentials } = this.deps;
    const now = this.deps.clock.now().getTime();
    const keys = [credentials.digest(`address:${clientAddress}`)];
    // Names are case-sensitive accounts, but the limit is per name whatever its case.
    if ('userName' in request) keys.push(credentials.digest(`user:${request.userName.toLowerCase()}`));
    await this.#refuseIfLimited(keys, now);

    const method: SignInMethod = 'userName' in request ? 'password' : 'token';
    let user: UserRecord | undefined;
    let failure: LoginFailedEvent['reason'] | undefined;
    let failedUserId: string | null = null;
    if ('userName' in request) {
      const found = await store.credentialByName(request.userName);
      // An unknown name costs the same hash as a known one, so timing does not tell them apart.
      const ok = await credentials.verifyPassword(request.password, found?.passwordHash ?? (await this.#dummyHash()));
      failedUserId = found?.user.userId ?? null;
      if (found === undefined) failure = 'unknown_user';
      else if (found.passwordHash === null) failure = 'no_password';
      else if (!ok) failure = 'wrong_password';
      else if (found.user.disabled) failure = 'user_disabled';
      else user = found.user;
    } else {
      const principal = await this.deps.access.authenticate(request.token);
      const found = principal === undefined ? undefined : await store.credentialById(principal.userId);
      if (found === undefined || found.user.disabled) failure = 'invalid_token';
      else user = found.user;
    }
    if (user === undefined) {
      await store.recordFailure(keys, now, now - this.settings.loginLimit.windowMs);
      await this.deps.audit({ type: 'login_failed', userId: failedUserId, method, reason: failure ?? 'invalid_token' });
      throw new PlatformError('AUTH_LOGIN_FAILED', 'Sign-in failed: unknown user name or wrong password (or token)');
    }
    // A success forgets the name's failures, not the address's: one good account must not reset an address.
    if (keys[1] !== undefined) await store.clearFailures(keys[1]);
    await store.endExpiredSessions(now, now - this.settings.idleTimeoutMs);

    const cookieValue = credentials.newSecret();
    const sessionId = `s-${randomUUID()}`;
    const csrfToken = credentials.newSecret();
    await store.createSession({
      sessionId,
      secretSha256: credentials.digest(cookieValue),
      userId: user.userId,
      csrfToken,
      method,
      createdAtMs: now,
      expiresAtMs: now + this.settings.absoluteTimeoutMs,
    });
    await this.deps.audit({ type: 'session_started', userId: user.userId, role: user.role, sessionId, method });
    const session = this.#active(
      { sessionId, user, csrfToken, method, createdAtMs: now, lastSeenAtMs: now, expiresAtMs: now + this.settings.absoluteTimeoutMs },
      now,
    );
    if (session === undefined) throw new PlatformError('INTERNAL', 'A new session expired at once (check the session timeouts)');
    return { cookieValue, session };
  }

  /** The live session a cookie value names, refreshed as used; undefined when unknown, ended or expired. */
  async resume(cookieValue: string): Promise<ActiveSession | undefined> {
    if (!/^[A-Za-z0-9_-]{43}$/.test(cookieValue)) return undefined;
    const stored = await this.deps.store.findSession(this.deps.credentials.digest(cookieValue));
    if (stored === undefined || stored.user.disabled) return undefined;
    const now = this.deps.clock.now().getTime();
    const active = this.#active(stored, now);
    if (active === undefined) {
      await this.deps.store.endSession(stored.sessionId, now);
      return undefined;
    }
    if (now - stored.lastSeenAtMs >= TOUCH_EVERY_MS) await this.deps.store.touchSession(stored.sessionId, now);
    return active;
  }

  /** Whether `sent` is the session's CSRF token (constant-time). */
  isCsrfToken(session: ActiveSession, sent: string): boolean {
    return this.deps.credentials.equal(sent, session.csrfToken);
  }

  /** Ends the session a cookie names (nothing when there is none); audited. */
  async signOut(cookieValue: string): Promise<void> {
    const session = await this.resume(cookieValue);
    if (session === undefined) return;
    await this.deps.store.endSession(session.sessionId, this.deps.clock.now().getTime());
    await this.deps.audit({ type: 'session_ended', userId: session.principal.userId, sessionId: session.sessionId, reason: 'logout' });
  }

  /**
   * Sets a password and ends every session of that user (the caller's own too, when it is theirs).
   * An administrator (users:manage) may set anyone's; a user may set their own, giving the current
   * password if they have one. Throws AUTH_FORBIDDEN, AUTH_PASSWORD_REJECTED, ROUTE_NOT_FOUND.
   */
  async setPassword(
    actor: Principal,
    request: { readonly userId: string; readonly password: string; readonly currentPassword?: string },
    clientAddress: string,
  ): Promise<{ readonly sessionsEnded: number }> {
    const { store, credentials } = this.deps;
    checkPasswordRules(request.password);
    const own = actor.userId === request.userId;
    if (!own && !hasPermission(actor.role, 'users:manage')) throw new PlatformError('AUTH_FORBIDDEN', 'Only an administrator may set another user’s password');
    const target = await store.credentialById(request.userId);
    if (target === undefined) throw new PlatformError('ROUTE_NOT_FOUND', 'No user has this id');
    if (own && target.passwordHash !== null) {
      // Proving the current password stops a borrowed session from taking the account over for good.
      const now = this.deps.clock.now().getTime();
      const keys = [credentials.digest(`address:${clientAddress}`), credentials.digest(`user:${target.user.name.toLowerCase()}`)];
      await this.#refuseIfLimited(keys, now);
      const ok = request.currentPassword !== undefined && (await credentials.verifyPassword(request.currentPassword, target.passwordHash));
      if (!ok) {
        await store.recordFailure(keys, now, now - this.settings.loginLimit.windowMs);
        await this.deps.audit({ type: 'login_failed', userId: target.user.userId, method: 'password', reason: 'wrong_current_password' });
        throw new PlatformError('AUTH_PASSWORD_REJECTED', 'The current password is missing or wrong');
      }
    }
    const sessionsEnded = await store.setPassword(request.userId, await credentials.hashPassword(request.password), this.deps.clock.now().getTime());
    await this.deps.audit({ type: 'password_changed', userId: request.userId, changedBy: actor.userId, role: actor.role, sessionsEnded });
    return { sessionsEnded };
  }

  async #refuseIfLimited(keys: readonly Uint8Array[], now: number): Promise<void> {
    const { windowMs } = this.settings.loginLimit;
    let retryAfterMs = 0;
    for (const key of keys) {
      const verdict = rateVerdict(await this.deps.store.failuresSince(key, now - windowMs), now, this.settings.loginLimit);
      if (verdict.limited) retryAfterMs = Math.max(retryAfterMs, verdict.retryAfterMs);
    }
    if (retryAfterMs > 0) {
      throw new PlatformError('AUTH_RATE_LIMITED', 'Too many failed sign-in attempts: try again later', { retryAfterSeconds: Math.ceil(retryAfterMs / 1000) });
    }
  }

  #dummy: Promise<string> | undefined;
  #dummyHash(): Promise<string> {
    return (this.#dummy ??= this.deps.credentials.hashPassword(this.deps.credentials.newSecret()));
  }

  #active(stored: StoredSession, now: number): ActiveSession | undefined {
    const expiry = sessionExpiry(stored, now, this.settings);
    if (expiry.expired || now >= stored.expiresAtMs) return undefined;
    const { user } = stored;
    return {
      sessionId: stored.sessionId,
      principal: { userId: user.userId, role: user.role, tokenId: stored.sessionId },
      csrfToken: stored.csrfToken,
      view: {
        user: { userId: user.userId, name: user.name, role: user.role },
        csrfToken: stored.csrfToken,
        expiresAt: new Date(Math.min(expiry.expiresAtMs, stored.expiresAtMs)).toISOString(),
        absoluteExpiresAt: new Date(Math.min(expiry.absoluteExpiresAtMs, stored.expiresAtMs)).toISOString(),
        method: stored.method,
      },
    };
  }
}

/** Throws REQUEST_INVALID unless the password has 12 to 1024 characters. */
export function checkPasswordRules(password: string): void {
  const length = [...password].length;
  if (length < PASSWORD_MIN_LENGTH || length > PASSWORD_MAX_LENGTH) {
    throw new PlatformError('REQUEST_INVALID', `A password needs ${PASSWORD_MIN_LENGTH} to ${PASSWORD_MAX_LENGTH} characters`, {
      minLength: PASSWORD_MIN_LENGTH,
    });
  }
}
