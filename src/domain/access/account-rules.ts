/**
 * Rules for changing accounts and their API tokens, as pure functions (times in epoch milliseconds,
 * passed in by the caller): who must remain an administrator, how long a token may live, how long a
 * rotated token may overlap its successor.
 */
import type { Role } from './roles.js';

/**
 * An account name: 1 to 64 letters, digits, ".", "_", "@" or "-" (an e-mail address fits). Names are
 * shown in lists, the dashboard and the audit trail and typed in `--user NAME`: no spaces, control,
 * bidi or invisible characters, so two names that look alike are the same name. One rule for the API's
 * `POST /api/users` and every other way an account is created (`vigil users token --user NAME --role`).
 */
export const ACCOUNT_NAME_PATTERN = /^[A-Za-z0-9._@-]{1,64}$/;
/** What ACCOUNT_NAME_PATTERN asks, as messages say it (never quoting the name). */
export const ACCOUNT_NAME_RULE = '1 to 64 letters, digits, ".", "_", "@" or "-"';

export function isAccountName(name: string): boolean {
  return ACCOUNT_NAME_PATTERN.test(name);
}

/** A user as these rules see them. */
export interface AccountState {
  readonly userId: string;
  readonly role: Role;
  readonly disabled: boolean;
}

/** A change to one account: a new role, or disabled / enabled. */
export interface AccountChange {
  readonly role?: Role;
  readonly disabled?: boolean;
}

/**
 * Whether `change` to `userId` would take away the last enabled administrator: the user is one now,
 * would not be after, and no other enabled administrator exists. Without one, nobody could manage
 * accounts through the API again (only `vigil users` on the server's host could), so the API and the
 * CLI refuse such a change (ACCESS_LAST_ADMINISTRATOR). Changes to other accounts are never refused,
 * even where no administrator is left already.
 *
 * @example removesLastAdministrator([{ userId: 'u-1', role: 'admin', disabled: false }], 'u-1', { disabled: true }) // → true
 */
export function removesLastAdministrator(users: readonly AccountState[], userId: string, change: AccountChange): boolean {
  const isEnabledAdmin = (u: { readonly role: Role; readonly disabled: boolean }): boolean => u.role === 'admin' && !u.disabled;
  const target = users.find((u) => u.userId === userId);
  if (target === undefined || !isEnabledAdmin(target)) return false;
  if (isEnabledAdmin({ role: change.role ?? target.role, disabled: change.disabled ?? target.disabled })) return false;
  return !users.some((u) => u.userId !== userId && isEnabledAdmin(u));
}

/**
 * A rotated token may keep working for at most an hour beside its successor: long enough to deploy
 * the new secret to a sender, short enough that a leaked token being rotated away dies soon.
 */
export const MAX_ROTATION_OVERLAP_SECONDS = 3600;

/** Tokens may be issued to expire after 1 to 366 days; without an expiry they live until revoked. */
export const MAX_TOKEN_LIFETIME_DAYS = 366;

const DAY_MS = 86_400_000;

/** When a token issued at `nowMs` to live `days` days expires (undefined: it does not). */
export function tokenExpiresAtMs(nowMs: number, days: number | undefined): number | undefined {
  return days === undefined ? undefined : nowMs + days * DAY_MS;
}

/**
 * When the token being rotated stops working: at once without an overlap, else after the overlap,
 * never later than it would have expired anyway.
 */
export function rotatedTokenEndsAtMs(nowMs: number, overlapMs: number, expiresAtMs: number | undefined): number {
  const end = nowMs + overlapMs;
  return expiresAtMs === undefined ? end : Math.min(end, expiresAtMs);
}

/**
 * A token's last use is recorded at most this often (a durable write per request would cost more than
 * the minute of precision is worth).
 */
export const TOKEN_LAST_USED_RESOLUTION_MS = 60_000;

/** `live` authenticates now; `expired` and `revoked` never will again. */
export const TOKEN_STATES = ['live', 'expired', 'revoked'] as const;
export type TokenState = (typeof TOKEN_STATES)[number];

/** A token's state at `nowMs`: revoked wins over expired; a token expires at its `expiresAt` instant. */
export function tokenStateAt(token: { readonly revokedAt: string | null; readonly expiresAt: string | null }, nowMs: number): TokenState {
  if (token.revokedAt !== null) return 'revoked';
  return token.expiresAt !== null && Date.parse(token.expiresAt) <= nowMs ? 'expired' : 'live';
}
