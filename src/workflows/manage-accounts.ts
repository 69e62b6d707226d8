import { humanTextProblem, TOKEN_LABEL } from '../domain/human-text.js';
import {
  ACCOUNT_NAME_RULE,
  isAccountName,
  MAX_ROTATION_OVERLAP_SECONDS,
  MAX_TOKEN_LIFETIME_DAYS,
  tokenExpiresAtMs,
  type AccountChange,
} from '../domain/access/account-rules.js';
import type { Principal, Role } from '../domain/access/roles.js';
import type { AccountActorFields, AuditEvent } from '../domain/audit/audit-event.js';
import { PlatformError } from '../domain/errors.js';
import type { AccessStore, IssuedToken, TokenRecord, UserRecord } from '../ports/access-store.js';
import type { Clock } from '../ports/clock.js';
import type { Credentials } from '../ports/credentials.js';
import type { SessionStore } from '../ports/session-store.js';
import { checkPasswordRules } from './dashboard-sessions.js';

/**
 * Who changes accounts: a signed-in administrator (through the API), or `vigil users` run on the
 * server's host. The latter needs no token: whoever can run it can already read the data folder or
 * the database, so it is the recovery path for an administrator locked out. Both are audited.
 */
export type AccountActor = { readonly kind: 'user'; readonly principal: Principal } | { readonly kind: 'local-cli'; readonly osUser: string };

export interface AccountDependencies {
  readonly access: AccessStore;
  readonly sessions: SessionStore;
  readonly credentials: Credentials;
  readonly clock: Clock;
  /** Appends to the audit log; resolves once durable. */
  readonly audit: (event: AuditEvent) => Promise<unknown>;
}

export interface IssueRequest {
  readonly label: string;
  /** 1 to MAX_TOKEN_LIFETIME_DAYS; absent: until revoked. */
  readonly expiresInDays?: number;
}

export interface RotateRequest {
  /** The successor's label; default: the old label. */
  readonly label?: string;
  /** 0 (the old token stops at once) to MAX_ROTATION_OVERLAP_SECONDS. */
  readonly overlapSeconds: number;
}

const LOCAL_CLI = 'local-cli';

function actorFields(actor: AccountActor): AccountActorFields {
  return actor.kind === 'user'
    ? { changedBy: actor.principal.userId, role: actor.principal.role }
    : { changedBy: LOCAL_CLI, role: LOCAL_CLI, osUser: actor.osUser };
}

/**
 * Account and token administration, shared by the API (`/api/users/…`) and `vigil users`: every
 * change is one store operation and one audit entry naming actor, target and action (surrogate ids,
 * never a secret, a password or a user name).
 */
export class AccountAdministration {
  constructor(private readonly deps: AccountDependencies) {}

  listUsers(): Promise<readonly UserRecord[]> {
    return this.deps.access.listUsers();
  }

  /** Throws ACCESS_USER_NOT_FOUND. */
  async user(userId: string): Promise<UserRecord> {
    const user = await this.deps.access.userById(userId);
    if (user === undefined) throw new PlatformError('ACCESS_USER_NOT_FOUND', 'No user has this id');
    return user;
  }

  /** Throws ACCESS_USER_NOT_FOUND. */
  async userNamed(name: string): Promise<UserRecord> {
    const user = await this.deps.access.userByName(name);
    if (user === undefined) throw new PlatformError('ACCESS_USER_NOT_FOUND', 'No user has this name');
    return user;
  }

  /** A user's tokens, newest first (never a secret). Throws ACCESS_USER_NOT_FOUND. */
  async listTokens(userId: string): Promise<{ readonly user: UserRecord; readonly tokens: readonly TokenRecord[] }> {
    const user = await this.user(userId);
    return { user, tokens: await this.deps.access.listTokens(userId) };
  }

  /** Creates an account with a first token (shown once); audited `user_created` and `token_issued`. Throws REQUEST_INVALID for a name outside the rule. */
  async createUser(actor: AccountActor, name: string, role: Role, token: IssueRequest): Promise<{ readonly user: UserRecord; readonly token: IssuedToken }> {
    if (!isAccountName(name)) throw new PlatformError('REQUEST_INVALID', `An account name is ${ACCOUNT_NAME_RULE}`, {});
    checkLabel(token.label);
    const user = await this.deps.access.createUser(name, role);
    const { changedBy, ...by } = actorFields(actor);
    await this.deps.audit({ type: 'user_created', userId: user.userId, grantedRole: user.role, createdBy: changedBy, ...by });
    return { user, token: await this.issueToken(actor, user.userId, token) };
  }

  /** Issues a token (its secret returned this once); audited. Throws ACCESS_USER_NOT_FOUND, REQUEST_INVALID. */
  async issueToken(actor: AccountActor, userId: string, request: IssueRequest): Promise<IssuedToken> {
    checkLabel(request.label);
    const days = request.expiresInDays;
    if (days !== undefined && !(Number.isInteger(days) && days >= 1 && days <= MAX_TOKEN_LIFETIME_DAYS)) {
      throw new PlatformError('REQUEST_INVALID', `A token expires after 1 to ${MAX_TOKEN_LIFETIME_DAYS} whole days`, {});
    }
    await this.user(userId);
    const expiresAtMs = tokenExpiresAtMs(this.deps.clock.now().getTime(), days);
    const issued = await this.deps.access.issueToken(userId, request.label, expiresAtMs === undefined ? {} : { expiresAtMs });
    await this.deps.audit({ type: 'token_issued', userId, tokenId: issued.tokenId, expiresAt: issued.expiresAt, ...actorFields(actor) });
    return issued;
  }

  /** Revokes a live token of the user; audited. Throws ACCESS_USER_NOT_FOUND, ACCESS_TOKEN_NOT_FOUND. */
  async revokeToken(actor: AccountActor, userId: string, tokenId: string): Promise<void> {
    await this.user(userId);
    if (!(await this.deps.access.revokeToken(tokenId, userId))) throw new PlatformError('ACCESS_TOKEN_NOT_FOUND', 'The user has no live token with this id');
    await this.deps.audit({ type: 'token_revoked', userId, tokenId, ...actorFields(actor) });
  }

  /**
   * Replaces a live token with a new one atomically; the old one ends at once or after the overlap.
   * Audited. Throws ACCESS_USER_NOT_FOUND, ACCESS_TOKEN_NOT_FOUND, REQUEST_INVALID.
   */
  async rotateToken(
    actor: AccountActor,
    userId: string,
    tokenId: string,
    request: RotateRequest,
  ): Promise<{ readonly issued: IssuedToken; readonly previousEndsAt: string }> {
    const { overlapSeconds } = request;
    if (!(Number.isInteger(overlapSeconds) && overlapSeconds >= 0 && overlapSeconds <= MAX_ROTATION_OVERLAP_SECONDS)) {
      throw new PlatformError('REQUEST_INVALID', `The overlap is 0 to ${MAX_ROTATION_OVERLAP_SECONDS} whole seconds`, {});
    }
    await this.user(userId);
    const old = (await this.deps.access.listTokens(userId)).find((t) => t.tokenId === tokenId);
    const label = request.label ?? old?.label ?? 'rotated';
    checkLabel(label);
    const rotation = await this.deps.access.rotateToken(userId, tokenId, { label, overlapMs: overlapSeconds * 1000 });
    if (rotation.outcome === 'not_found') throw new PlatformError('ACCESS_TOKEN_NOT_FOUND', 'The user has no live token with this id');
    await this.deps.audit({
      type: 'token_rotated',
      userId,
      tokenId,
      newTokenId: rotation.issued.tokenId,
      previousEndsAt: rotation.previousEndsAt,
      ...actorFields(actor),
    });
    return { issued: rotation.issued, previousEndsAt: rotation.previousEndsAt };
  }

  /**
   * Changes a user's role and/or disables or enables them; disabling ends their sessions, and their
   * tokens stop at once. Audited. Throws ACCESS_USER_NOT_FOUND, ACCESS_LAST_ADMINISTRATOR.
   */
  async updateUser(actor: AccountActor, userId: string, change: AccountChange): Promise<UserRecord> {
    const update = await this.deps.access.updateUser(userId, change);
    if (update.outcome === 'not_found') throw new PlatformError('ACCESS_USER_NOT_FOUND', 'No user has this id');
    if (update.outcome === 'last_administrator') {
      throw new PlatformError(
        'ACCESS_LAST_ADMINISTRATOR',
        'This would disable or demote the last enabled administrator; make another account an administrator first',
      );
    }
    await this.deps.audit({
      type: 'user_updated',
      userId,
      previousRole: update.before.role,
      grantedRole: update.user.role,
      disabled: update.user.disabled,
      sessionsEnded: update.sessionsEnded,
      ...actorFields(actor),
    });
    return update.user;
  }

  /**
   * Sets a password from the server's host (`vigil users set-password`): no current password is asked
   * for, as for an administrator. Ends the user's sessions; audited `password_changed`.
   * Throws ACCESS_USER_NOT_FOUND, REQUEST_INVALID.
   */
  async setPasswordLocally(actor: Extract<AccountActor, { kind: 'local-cli' }>, userId: string, password: string): Promise<{ readonly sessionsEnded: number }> {
    checkPasswordRules(password);
    await this.user(userId);
    const sessionsEnded = await this.deps.sessions.setPassword(userId, await this.deps.credentials.hashPassword(password), this.deps.clock.now().getTime());
    await this.deps.audit({ type: 'password_changed', userId, sessionsEnded, ...actorFields(actor) });
    return { sessionsEnded };
  }
}

/** A token's label: the human-text rule of TOKEN_LABEL (1 to 64 characters, one line, no control, bidi or invisible formatting characters; it is shown in lists and the dashboard). */
function checkLabel(label: string): void {
  const problem = humanTextProblem(TOKEN_LABEL, label);
  if (problem !== undefined) throw new PlatformError('REQUEST_INVALID', `A token label: ${problem}`, {});
}
