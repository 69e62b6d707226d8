import type { FastifyRequest } from 'fastify';
import { isUnsafeMethod } from '../../domain/access/session-policy.js';
import type { Principal } from '../../domain/access/roles.js';
import { PlatformError } from '../../domain/errors.js';
import type { AccessStore } from '../../ports/access-store.js';
import type { ActiveSession } from '../../workflows/dashboard-sessions.js';
import { CSRF_HEADER, SESSION_COOKIE, type DashboardDependencies } from './dashboard-dependencies.js';

/**
 * Who sends a request: a bearer token when the Authorization header is present (it wins, and needs
 * no CSRF header: a browser never adds it on its own), otherwise the dashboard's session cookie.
 * A state-changing request authenticated by the cookie must echo the session's CSRF token in
 * `x-csrf-token` (synchronizer token pattern, OWASP CSRF Prevention): SameSite=Strict already keeps
 * the cookie off cross-site requests, and the header covers browsers or same-site pages that do not.
 * Undefined when neither credential is valid; throws AUTH_CSRF_FAILED.
 */
export async function authenticateRequest(
  request: FastifyRequest,
  access: AccessStore,
  dashboard: Pick<DashboardDependencies, 'sessions'>,
): Promise<Principal | undefined> {
  const header = request.headers.authorization;
  if (typeof header === 'string') {
    // RFC 7235: the scheme is case-insensitive and may be followed by several spaces.
    const match = /^bearer +([A-Za-z0-9_-]{1,100})$/i.exec(header.trim());
    return match?.[1] === undefined ? undefined : access.authenticate(match[1]);
  }
  const session = await sessionOf(request, dashboard);
  if (session === undefined) return undefined;
  if (isUnsafeMethod(request.method)) checkCsrf(request, session, dashboard);
  return session.principal;
}

/** The live session the request's cookie names, if any. */
export async function sessionOf(request: FastifyRequest, dashboard: Pick<DashboardDependencies, 'sessions'>): Promise<ActiveSession | undefined> {
  const cookie = request.cookies[SESSION_COOKIE];
  return cookie === undefined || cookie === '' ? undefined : dashboard.sessions.resume(cookie);
}

export function checkCsrf(request: FastifyRequest, session: ActiveSession, dashboard: Pick<DashboardDependencies, 'sessions'>): void {
  const sent = request.headers[CSRF_HEADER];
  if (typeof sent !== 'string' || !dashboard.sessions.isCsrfToken(session, sent)) {
    throw new PlatformError('AUTH_CSRF_FAILED', `A change made with the session cookie needs the session's ${CSRF_HEADER} header`);
  }
}
