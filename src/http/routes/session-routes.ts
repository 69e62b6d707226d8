import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { PlatformError } from '../../domain/errors.js';
import { sessionSchema, setPasswordRequestSchema, signInRequestSchema } from '../contract.js';
import type { DashboardSessions } from '../../workflows/dashboard-sessions.js';
import { jsonBody, PUBLIC_BODY_LIMIT_BYTES } from '../route-body.js';
import { principalOf } from '../route-config.js';
import { checkCsrf, sessionOf } from '../dashboard/authenticate-request.js';
import { SESSION_COOKIE } from '../dashboard/dashboard-dependencies.js';

/** What sign-in, sign-out and passwords use, and nothing else. */
export interface SessionRouteOptions {
  readonly sessions: DashboardSessions;
  /** The Secure attribute on the session cookie (VIGIL_COOKIE_SECURE). */
  readonly cookieSecure: boolean;
}

const userIdParams = z.object({ userId: z.string().regex(/^u-[0-9a-f-]{36}$/, 'a user id such as u-<uuid>') });

/** Dashboard sign-in: a session cookie (HttpOnly, SameSite=Strict, Secure by default) and its CSRF token. */
export const sessionRoutes: FastifyPluginAsync<SessionRouteOptions> = (app, dashboard) => {
  const api = app.withTypeProvider<ZodTypeProvider>();
  const cookieOptions = { httpOnly: true, sameSite: 'strict', path: '/', secure: dashboard.cookieSecure } as const;
  const clearCookie = (reply: FastifyReply): void => void reply.clearCookie(SESSION_COOKIE, cookieOptions);

  api.post(
    '/api/session',
    // A 64-character name and a 1024-character password: ≤ 6.6 kB even with every character \u-escaped.
    { config: { access: 'public', body: jsonBody(PUBLIC_BODY_LIMIT_BYTES) }, schema: { body: signInRequestSchema, response: { 200: sessionSchema } } },
    async (request, reply) => {
      const { cookieValue, session } = await dashboard.sessions.signIn(request.body, request.ip);
      return reply.setCookie(SESSION_COOKIE, cookieValue, cookieOptions).send(session.view);
    },
  );

  // Public so that it can answer 401 itself: the dashboard asks it on load to learn whether it is signed in.
  api.get('/api/session', { config: { access: 'public' }, schema: { response: { 200: sessionSchema } } }, async (request, reply) => {
    const session = await sessionOf(request, dashboard);
    if (session === undefined) {
      if (request.cookies[SESSION_COOKIE] !== undefined) clearCookie(reply);
      throw new PlatformError('AUTH_REQUIRED', 'Not signed in');
    }
    return session.view;
  });

  api.delete('/api/session', { config: { access: 'public' } }, async (request, reply) => {
    const session = await sessionOf(request, dashboard);
    if (session !== undefined) {
      checkCsrf(request, session, dashboard);
      await dashboard.sessions.signOut(request.cookies[SESSION_COOKIE] ?? '');
    }
    clearCookie(reply);
    return reply.code(204).send();
  });

  // An administrator sets anyone's; everyone may set their own (with the current one, once set).
  api.put(
    '/api/users/:userId/password',
    // Two passwords of ≤ 1024 characters: ≤ 12.3 kB even with every character \u-escaped.
    { config: { access: 'account:self', body: jsonBody(16 * 1024) }, schema: { params: userIdParams, body: setPasswordRequestSchema } },
    async (request, reply) => {
      const principal = principalOf(request);
      await dashboard.sessions.setPassword(
        principal,
        {
          userId: request.params.userId,
          password: request.body.password,
          ...(request.body.currentPassword === undefined ? {} : { currentPassword: request.body.currentPassword }),
        },
        request.ip,
      );
      // The change ended every session of that user, the caller's own included when it is theirs.
      if (principal.userId === request.params.userId) clearCookie(reply);
      return reply.code(204).send();
    },
  );
  return Promise.resolve();
};
