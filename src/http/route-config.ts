import type { Permission, Principal } from '../domain/access/roles.js';
import { PlatformError } from '../domain/errors.js';
import type { RouteBody } from './route-body.js';

/**
 * What every route declares (its access, its body, its caching) and what a request carries once
 * authenticated. Routes and create-http-app.ts both import this module; no route imports
 * create-http-app.ts (test/contract/http-route-plugins.test.ts), so the app and its plugins form no
 * cycle, not even a type-only one.
 */

/** `public`: no credentials needed. Every other route names the one permission it requires. */
export type RouteAccess = Permission | 'public';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Required on every route: registration fails without it (default deny). */
    access?: RouteAccess;
    /** The body the route accepts (src/http/route-body.ts); without it, none. */
    body?: RouteBody;
    /**
     * `immutable-asset`: the route's own Cache-Control is kept on success. Only the dashboard's
     * content-hashed build files declare it; every other response is `no-store`.
     */
    cache?: 'immutable-asset';
  }
  interface FastifyRequest {
    principal?: Principal;
  }
}

/** The authenticated principal of a route that needs one (every non-public route has one). */
/** The signed-in user as the actor of a change (releases, deployments, incidents). */
export const userActorOf = (request: { readonly principal?: Principal }) => ({ kind: 'user', userId: principalOf(request).userId }) as const;

export function principalOf(request: { readonly principal?: Principal }): Principal {
  if (request.principal === undefined) throw new PlatformError('AUTH_REQUIRED', 'Authentication required');
  return request.principal;
}
