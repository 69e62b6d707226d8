import { describe, expect, it } from 'vitest';
import type { Principal } from '../domain/access/roles.js';
import { PlatformError } from '../domain/errors.js';
import { createAccount, type CreateAccountDependencies } from './create-account.js';

const admin: Principal = { userId: 'u-admin', role: 'admin', tokenId: 't-admin' };
const user = { userId: 'u-new', name: 'reader', role: 'clinician-reviewer', createdAt: '2026-01-01T00:00:00.000Z', disabled: false } as const;
const token = { tokenId: 't-new', secret: 'secret', expiresAt: null };

/**
 * The two steps are AccountAdministration.createUser and DashboardSessions.setPassword (each tested
 * with its stores; test/integration/http-session.test.ts creates a user with a password end to end):
 * here, what is asked of each and in which order.
 */
function steps(passwordRefused = false): CreateAccountDependencies & { readonly calls: unknown[][] } {
  const calls: unknown[][] = [];
  return {
    calls,
    accounts: {
      createUser: (...args) => {
        calls.push(['createUser', ...args]);
        return Promise.resolve({ user, token });
      },
    },
    setPassword: (...args) => {
      calls.push(['setPassword', ...args]);
      return passwordRefused ? Promise.reject(new PlatformError('AUTH_PASSWORD_REJECTED', 'too short')) : Promise.resolve({ sessionsEnded: 0 });
    },
  };
}

describe('createAccount', () => {
  it('creates the user with a first token as the administrator, then sets the password on the new user', async () => {
    const deps = steps();
    expect(await createAccount(deps, admin, { name: 'reader', role: 'clinician-reviewer', password: 'long enough password' }, '10.0.0.1')).toEqual({
      user,
      token,
    });
    expect(deps.calls).toEqual([
      ['createUser', { kind: 'user', principal: admin }, 'reader', 'clinician-reviewer', { label: 'created with the user' }],
      ['setPassword', admin, { userId: 'u-new', password: 'long enough password' }, '10.0.0.1'],
    ]);
  });

  it('sets no password when none is given, and a refused one fails the request after the account exists', async () => {
    const without = steps();
    await createAccount(without, admin, { name: 'reader', role: 'clinician-reviewer' }, '10.0.0.1');
    expect(without.calls.map((c) => c[0])).toEqual(['createUser']);
    const refused = steps(true);
    await expect(createAccount(refused, admin, { name: 'reader', role: 'clinician-reviewer', password: 'x' }, '10.0.0.1')).rejects.toThrow('too short');
    expect(refused.calls.map((c) => c[0])).toEqual(['createUser', 'setPassword']);
  });
});
