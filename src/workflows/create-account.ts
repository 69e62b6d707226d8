import type { Principal, Role } from '../domain/access/roles.js';
import type { IssuedToken, UserRecord } from '../ports/access-store.js';
import type { DashboardSessions } from './dashboard-sessions.js';
import type { AccountAdministration } from './manage-accounts.js';

export interface CreateAccountDependencies {
  readonly accounts: Pick<AccountAdministration, 'createUser'>;
  readonly setPassword: DashboardSessions['setPassword'];
}

export interface AccountRequest {
  readonly name: string;
  readonly role: Role;
  /** For the dashboard; without one the user signs in with the token only. */
  readonly password?: string | undefined;
}

/**
 * An administrator creates a user with a first API token (its secret returned this once; audited
 * `user_created` and `token_issued`) and, when given, a dashboard password (scrypt-hashed; audited as a
 * password change by the administrator). The account exists once the first step succeeds, as before a
 * refused password: the administrator then sets one with `PUT /api/users/{userId}/password`.
 */
export async function createAccount(
  deps: CreateAccountDependencies,
  admin: Principal,
  request: AccountRequest,
  clientAddress: string,
): Promise<{ readonly user: UserRecord; readonly token: IssuedToken }> {
  const created = await deps.accounts.createUser({ kind: 'user', principal: admin }, request.name, request.role, { label: 'created with the user' });
  if (request.password !== undefined) await deps.setPassword(admin, { userId: created.user.userId, password: request.password }, clientAddress);
  return created;
}
