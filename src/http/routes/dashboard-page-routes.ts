import { existsSync } from 'node:fs';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';

/** What the dashboard's page routes use, and nothing else. */
export interface DashboardPageRouteOptions {
  /** The built dashboard (index.html, assets/), or a folder that does not exist yet. */
  readonly dashboardDir: string;
}

/**
 * The dashboard's pages: no inline script, no framing, no third-party origin. Inline styles are
 * allowed because React's `style` props and the chart library set them; `data:` and `blob:` images
 * carry charts and the review image's object URLs.
 */
export const DASHBOARD_CSP =
  "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; script-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/**
 * Sent on every response; a route that sets its own CSP (an evaluation report) keeps it.
 *
 * `Cache-Control: no-store` (RFC 9111 §5.2.2.5) on everything, errors included: cases, studies,
 * FHIR bundles, images, audit entries and the pages that show them must not stay in a browser's or
 * a proxy's cache. It overrides whatever a route set. The one exception is declared by the route
 * (`config.cache: 'immutable-asset'`) and holds on success only: the dashboard's `/assets/*`, built
 * files whose names carry their content hash and which hold no patient data, keep their one-year
 * immutable caching.
 */
export async function addSecurityHeaders(request: FastifyRequest, reply: FastifyReply): Promise<void> {
  void reply.header('x-content-type-options', 'nosniff');
  void reply.header('referrer-policy', 'no-referrer');
  if (!reply.hasHeader('content-security-policy')) void reply.header('content-security-policy', DASHBOARD_CSP);
  const keepsOwnCaching = request.routeOptions.config.cache === 'immutable-asset' && reply.statusCode < 400 && reply.hasHeader('cache-control');
  if (!keepsOwnCaching) void reply.header('cache-control', 'no-store');
  return Promise.resolve();
}

const NOT_BUILT = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Vigil</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 42rem; margin: 3rem auto; line-height: 1.5">
<h1>Vigil is running; the dashboard is not built</h1>
<p>Build it once with <code>npm run build</code> (it goes to <code>dist/dashboard/</code>), then reload this page.</p>
<p>Meanwhile the API answers at <a href="/api/health">/api/health</a> (OpenAPI at <a href="/api/openapi.json">/api/openapi.json</a>).</p>
<p>To send studies: <code>storescu -aec VIGIL 127.0.0.1 11112 some/*.dcm</code> (DICOM C-STORE), or STOW-RS to
<code>POST /dicomweb/studies</code> with an <code>integration</code> token.</p>
</body></html>
`;

/**
 * Serves the built dashboard (Vite's `dist/dashboard`): `/assets/*` as files (content-hashed, so
 * cached for a year), a top-level file by name, and `index.html` (no-store like every other
 * response, so that an upgrade's new asset names are seen at once) for every other non-API GET path,
 * so that the app's own routes (`/worklist`, `/cases/…`) load on refresh. Without a build, a short
 * page says how to make one.
 */
export const dashboardPageRoutes: FastifyPluginAsync<DashboardPageRouteOptions> = async (app, options) => {
  const root = options.dashboardDir;
  // serve: false: only the reply.sendFile decorator; the routes below declare their access like every other.
  await app.register(fastifyStatic, { root, serve: false, wildcard: false });
  const built = (): boolean => existsSync(join(root, 'index.html'));
  const sendIndex = (reply: FastifyReply) =>
    built() ? reply.sendFile('index.html', { cacheControl: false }) : reply.code(200).type('text/html; charset=utf-8').send(NOT_BUILT);

  app.get('/assets/*', { config: { access: 'public', cache: 'immutable-asset' }, schema: { hide: true } }, (request, reply) => {
    const path = (request.params as { '*': string })['*'];
    return reply.sendFile(`assets/${path}`, { maxAge: '1y', immutable: true });
  });

  app.get('/', { config: { access: 'public' }, schema: { hide: true } }, (_request, reply) => sendIndex(reply));

  app.get('/*', { config: { access: 'public' }, schema: { hide: true } }, (request, reply) => {
    const path = (request.params as { '*': string })['*'];
    // The API's and DICOMweb's unknown paths stay API errors, never the app's page: the not-found
    // handler's 404, or 405 for a path that is a route for other methods (create-http-app.ts).
    if (path === 'api' || path.startsWith('api/') || path === 'dicomweb' || path.startsWith('dicomweb/')) {
      reply.callNotFound();
      return reply;
    }
    // A top-level file (favicon.svg, robots.txt); any other path is one of the app's own screens.
    if (!path.includes('/') && path.includes('.') && built()) return reply.sendFile(path, { cacheControl: false });
    return sendIndex(reply);
  });
};
