/**
 * Rules for dashboard sign-in, as pure functions of times in epoch milliseconds (the caller passes
 * the clock's reading): when a session has expired, when sign-in attempts are rate limited, and
 * what a password must be.
 */

export interface SessionLimits {
  /** A session unused for this long ends (OWASP Session Management: 15–30 min for sensitive data). */
  readonly idleTimeoutMs: number;
  /** A session ends this long after sign-in, however active it is. */
  readonly absoluteTimeoutMs: number;
}

export interface SessionTimes {
  readonly createdAtMs: number;
  readonly lastSeenAtMs: number;
}

export type SessionExpiry =
  | { readonly expired: false; readonly expiresAtMs: number; readonly absoluteExpiresAtMs: number }
  | { readonly expired: true; readonly reason: 'idle' | 'absolute' };

/**
 * Whether a session is still alive at `nowMs`, and when it will end if left idle from now on. The
 * absolute limit wins over activity.
 *
 * @example sessionExpiry({ createdAtMs: 0, lastSeenAtMs: 0 }, 60_000, { idleTimeoutMs: 1_800_000, absoluteTimeoutMs: 43_200_000 })
 *   // → { expired: false, expiresAtMs: 1_860_000, absoluteExpiresAtMs: 43_200_000 }
 */
export function sessionExpiry(session: SessionTimes, nowMs: number, limits: SessionLimits): SessionExpiry {
  const absoluteExpiresAtMs = session.createdAtMs + limits.absoluteTimeoutMs;
  if (nowMs >= absoluteExpiresAtMs) return { expired: true, reason: 'absolute' };
  if (nowMs >= session.lastSeenAtMs + limits.idleTimeoutMs) return { expired: true, reason: 'idle' };
  return { expired: false, expiresAtMs: Math.min(nowMs + limits.idleTimeoutMs, absoluteExpiresAtMs), absoluteExpiresAtMs };
}

export interface RateLimit {
  /** Failed attempts allowed within the window; the next attempt is refused. */
  readonly maxFailures: number;
  readonly windowMs: number;
}

export type RateVerdict = { readonly limited: false } | { readonly limited: true; readonly retryAfterMs: number };

/**
 * Sliding-window limit over the times of failed attempts for one key (a user name or a client
 * address). Limited while `maxFailures` or more failures lie within the last `windowMs`; it lifts
 * when the oldest of the most recent `maxFailures` leaves the window.
 *
 * @example rateVerdict([0, 1, 2, 3, 4], 10, { maxFailures: 5, windowMs: 900_000 }) // → { limited: true, retryAfterMs: 899_990 }
 */
export function rateVerdict(failureTimesMs: readonly number[], nowMs: number, limit: RateLimit): RateVerdict {
  const recent = failureTimesMs.filter((t) => t > nowMs - limit.windowMs && t <= nowMs).sort((a, b) => a - b);
  if (recent.length < limit.maxFailures) return { limited: false };
  const oldestThatCounts = recent[recent.length - limit.maxFailures] as number;
  return { limited: true, retryAfterMs: Math.max(1, oldestThatCounts + limit.windowMs - nowMs) };
}

/** NIST SP 800-63B §5.1.1.2: at least 8 characters, and long passphrases allowed; we ask for 12. */
export const PASSWORD_MIN_LENGTH = 12;
/** Bounds the work a single sign-in request can ask of the password hash. */
export const PASSWORD_MAX_LENGTH = 1024;

/** HTTP methods that change state, and so need the CSRF header when authenticated by cookie. */
export function isUnsafeMethod(method: string): boolean {
  return method !== 'GET' && method !== 'HEAD' && method !== 'OPTIONS';
}
