import { randomUUID } from 'node:crypto';
import fastifyCookie from '@fastify/cookie';
import fastifySwagger from '@fastify/swagger';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import {
  hasZodFastifySchemaValidationErrors,
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import { hasPermission, type Permission, type Principal } from '../domain/access/roles.js';
import { PlatformError, toPlatformError } from '../domain/errors.js';
import type { AccessStore } from '../ports/access-store.js';
import type { CaseStore } from '../ports/case-store.js';
import type { JobQueue } from '../ports/job-queue.js';
import type { StudyRegistry } from '../ports/study-registry.js';
import type { WorklistStore } from '../ports/worklist-store.js';
import type { Logger } from '../ports/logger.js';
import type { VigilServices } from '../workflows/vigil-services.js';
import type { AccountAdministration } from '../workflows/manage-accounts.js';
import type { ErrorBody } from './contract.js';
import { checkRouteBodyDeclaration, hasRequestContent, refuseBodyByHeaders, tooLarge, type RouteBody } from './route-body.js';
import { HTTP_STATUS } from './error-status.js';
import { registerAccessRoutes } from './routes/access-routes.js';
import { registerDicomwebRoutes } from './routes/dicomweb-routes.js';
import { registerDicomwebQueryRoutes } from './routes/dicomweb-query-routes.js';
import { registerAuditRoutes } from './routes/audit-routes.js';
import { registerStudyRoutes } from './routes/study-routes.js';
import { registerResultRoutes } from './routes/result-routes.js';
import { registerSystemRoutes } from './routes/system-routes.js';
import { registerUploadRoutes } from './routes/upload-routes.js';
import { registerWorklistRoutes } from './routes/worklist-routes.js';
import { registerSessionRoutes } from './routes/session-routes.js';
import { registerCaseImageRoutes } from './routes/case-image-routes.js';
import { registerAuditSearchRoutes } from './routes/audit-search-routes.js';
import { registerModelDocumentRoutes } from './routes/model-document-routes.js';
import { registerSystemSummaryRoutes } from './routes/system-summary-routes.js';
import { registerJobRoutes } from './routes/job-routes.js';
import { monitoringRoutes } from './routes/monitoring-routes.js';
import { modelRegistryRoutes } from './routes/model-registry-routes.js';
import { releaseRoutes } from './routes/release-routes.js';
import { addSecurityHeaders, registerDashboardPageRoutes } from './routes/dashboard-page-routes.js';
import { authenticateRequest } from './dashboard/authenticate-request.js';
import type { DashboardDependencies } from './dashboard/dashboard-dependencies.js';

export interface HttpDependencies {
  readonly services: VigilServices;
  readonly access: AccessStore;
  /** Account and token administration (users:manage routes), audited. */
  readonly accounts: AccountAdministration;
  readonly jobs: JobQueue;
  readonly studies: StudyRegistry;
  readonly cases: CaseStore;
  readonly worklist: WorklistStore;
  readonly logger: Logger;
  readonly version: string;
  /** Largest STOW-RS or upload body, in bytes (authenticated callers with `ingest:write` only; every other route declares its own, a few kB). */
  readonly bodyLimitBytes: number;
  /** Results delivered and failed attempts since the process started, per destination (for /api/metrics). */
  readonly resultDeliveries?: () => Readonly<Record<string, { readonly delivered: number; readonly failed: number }>>;
  /** Sessions, images, search and pages for the web dashboard (src/http/dashboard/). */
  readonly dashboard: DashboardDependencies;
}

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

/** The HTTP application, as the composition root and tests hold it (inject, listen, close). */
export type HttpApp = FastifyInstance;

/** One route as registered: what it requires and what body it accepts (HEAD routes included). */
export interface RegisteredRoute {
  readonly method: string;
  readonly url: string;
  readonly access: RouteAccess | undefined;
  readonly body: RouteBody | undefined;
  readonly cache: 'immutable-asset' | undefined;
}

const routeTables = new WeakMap<HttpApp, RegisteredRoute[]>();

/** Every route of an app made by createHttpApp, in registration order (for tests and documentation checks). */
export function listRoutes(app: HttpApp): readonly RegisteredRoute[] {
  return routeTables.get(app) ?? [];
}

/**
 * Builds the HTTP API (Fastify, zod schemas, OpenAPI at /api/openapi.json). Every route declares its
 * access; authentication is a bearer token, authorisation the role's permissions. Errors leave as
 * `{ code, message, statusCode, requestId }`; logs carry the route pattern, never the raw URL (it may
 * hold identifiers).
 */
export async function createHttpApp(deps: HttpDependencies): Promise<HttpApp> {
  const app = Fastify({
    logger: false,
    // Every route sets its own from its declared body (onRoute below); this bounds only what is
    // not a route (404), which takes no body either. Fastify's least is 1 byte.
    bodyLimit: 1,
    // Request ids are ours: a client-sent id could smuggle text into logs.
    genReqId: () => randomUUID(),
    requestIdHeader: false,
    // Case and worklist ids embed the study key and the model's SHA-256 (~130 characters).
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 500 },
    // What Node's HTTP parser refuses before Fastify sees a request (headers over 16 KiB, a malformed
    // request line) is answered in our error shape too, and the connection closed.
    clientErrorHandler: (error: NodeJS.ErrnoException, socket) => {
      if (!socket.writable) return;
      const platformError =
        error.code === 'HPE_HEADER_OVERFLOW'
          ? new PlatformError('REQUEST_HEADERS_TOO_LARGE', 'The request line and headers are too large')
          : new PlatformError('REQUEST_INVALID', 'The request could not be parsed');
      const status = HTTP_STATUS[platformError.code];
      const body = JSON.stringify(errorBody(platformError, status, randomUUID()));
      socket.end(
        `HTTP/1.1 ${status} ${status === 431 ? 'Request Header Fields Too Large' : 'Bad Request'}\r\nContent-Type: application/json; charset=utf-8\r\n` +
          `Cache-Control: no-store\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
    },
    // Fastify answers an undecodable URL (`%ZZ`) or an over-long parameter before routing, in its own
    // shape and quoting the raw URL, which may hold identifiers: answer in ours, quoting nothing.
    frameworkErrors: (_error, request: FastifyRequest, reply: FastifyReply) => {
      // Sent before routing, so without the onSend hooks: the same headers, set here.
      void addSecurityHeaders(request, reply);
      void reply
        .code(400)
        .header('x-request-id', request.id)
        .send(errorBody(new PlatformError('REQUEST_INVALID', 'The URL could not be read'), 400, request.id));
    },
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  const routeTable: RegisteredRoute[] = [];
  routeTables.set(app, routeTable);
  app.addHook('onRoute', (route) => {
    const name = `${route.method.toString()} ${route.url}`;
    if (route.config?.access === undefined && !route.url.startsWith('/api/openapi')) {
      throw new Error(`route ${name} declares no access (default deny)`);
    }
    const body = route.config?.body;
    checkRouteBodyDeclaration({ name, isPublic: route.config?.access === 'public', body, hasBodySchema: route.schema?.body !== undefined });
    // Fastify cuts the stream here when the body is longer than its headers said, or chunked; a
    // route without a body gets the least Fastify allows (onRequest refuses any content before).
    route.bodyLimit = body?.limitBytes ?? 1;
    for (const method of [route.method].flat()) routeTable.push({ method, url: route.url, access: route.config?.access, body, cache: route.config?.cache });
  });

  await app.register(fastifySwagger, {
    openapi: {
      info: { title: 'Vigil API', version: deps.version, description: 'Medical-image AI in clinical production: decisions, audit, models.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
    transform: jsonSchemaTransform,
  });
  // Parses the Cookie header only (the session cookie is an opaque random value, looked up by its hash; no signing secret needed).
  await app.register(fastifyCookie);

  // onRequest runs before Fastify reads a byte of the body: whoever may not call the route, or sends
  // a body it does not take, is answered here and the body is never parsed.
  app.addHook('onRequest', async (request, reply) => {
    void reply.header('x-request-id', request.id);
    const { access, body } = request.routeOptions.config;
    if (request.routeOptions.url === undefined) {
      // No route: answer 404 now rather than after reading a body nothing would use.
      if (hasRequestContent(request.headers)) throw new PlatformError('ROUTE_NOT_FOUND', 'No such route');
      return;
    }
    if (access !== 'public') {
      const principal = await authenticateRequest(request, deps.access, deps.dashboard);
      if (principal === undefined) throw new PlatformError('AUTH_REQUIRED', 'Authentication required: send a bearer token or sign in');
      if (access === undefined || !hasPermission(principal.role, access)) {
        throw new PlatformError('AUTH_FORBIDDEN', 'Your role may not do this', {
          role: principal.role,
          ...(access === undefined ? {} : { permission: access }),
        });
      }
      request.principal = principal;
    }
    const refusal = refuseBodyByHeaders(request.headers, body);
    if (refusal !== undefined) throw refusal;
  });

  // nosniff, no referrer, no-store, and the dashboard's CSP on every response (src/http/routes/dashboard-page-routes.ts).
  app.addHook('onSend', addSecurityHeaders);

  app.addHook('onResponse', async (request, reply) => {
    deps.logger.info(
      {
        stage: 'http',
        status: String(reply.statusCode),
        durationMs: Math.round(reply.elapsedTime * 10) / 10,
        code: `${request.method} ${request.routeOptions.url ?? '(no route)'}`,
      },
      'request',
    );
  });

  app.setNotFoundHandler(async (request, reply) => {
    await reply.code(404).send(errorBody(new PlatformError('ROUTE_NOT_FOUND', 'No such route'), 404, request.id));
  });

  app.setErrorHandler(async (error, request, reply) => {
    let platformError: PlatformError;
    if (hasZodFastifySchemaValidationErrors(error)) {
      const fields = error.validation.map((v) => `${fieldPath(v.instancePath)}: ${validationMessage(v)}`);
      platformError = new PlatformError('REQUEST_INVALID', `The request is invalid: ${fields.join('; ')}`, { fields: fields.length });
    } else if (error instanceof PlatformError) {
      platformError = error;
    } else if (typeof (error as { statusCode?: unknown }).statusCode === 'number' && (error as { statusCode: number }).statusCode < 500) {
      // Fastify's own 4xx (malformed JSON, a body that outgrew the route's limit while being read).
      const status = (error as { statusCode: number }).statusCode;
      platformError =
        status === 413
          ? tooLarge(request.routeOptions.bodyLimit)
          : new PlatformError(status === 415 ? 'INPUT_FORMAT_UNKNOWN' : 'REQUEST_INVALID', 'The request could not be read');
    } else {
      platformError = toPlatformError(error);
    }
    const status = HTTP_STATUS[platformError.code];
    if (status >= 500) deps.logger.error({ code: platformError.code, stage: 'http' }, 'request failed');
    const retryAfter = platformError.details['retryAfterSeconds'];
    if (typeof retryAfter === 'number') void reply.header('retry-after', String(retryAfter));
    // Refused with a body not read to its end (onRequest, or cut at the limit): stop reading it and
    // close the connection after the answer, rather than read and discard the rest for keep-alive.
    if (hasRequestContent(request.headers) && !request.raw.readableEnded) {
      request.raw.pause();
      void reply.header('connection', 'close');
    }
    await reply.code(status).send(errorBody(platformError, status, request.id));
  });

  // STOW-RS and uploads: the body is parsed by the route (internal/multipart-related.ts). JSON keeps
  // Fastify's parser; text/plain has no route, so no parser. Each route's bodyLimit applies.
  app.removeContentTypeParser('text/plain');
  app.addContentTypeParser(['multipart/related', 'multipart/form-data'], { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
  registerSystemRoutes(app, deps);
  registerSessionRoutes(app, deps);
  registerCaseImageRoutes(app, deps);
  registerAuditSearchRoutes(app, deps);
  registerModelDocumentRoutes(app, deps);
  registerSystemSummaryRoutes(app, deps);
  registerJobRoutes(app, deps);
  await app.register(modelRegistryRoutes, {
    versions: () => deps.services.modelVersions(),
    version: (id) => deps.services.modelVersion(id),
    card: (id) => deps.services.modelCard(id),
  });
  await app.register(releaseRoutes, {
    releases: () => deps.services.releases(),
    ledger: (site, at) => deps.services.deploymentLedger(site, at),
    evidencePack: (id) => deps.services.releaseEvidencePack(id),
  });
  await app.register(monitoringRoutes, { monitoring: () => deps.services.monitoring(), systemSummary: () => deps.dashboard.systemSummary() });
  await registerDashboardPageRoutes(app, deps);
  registerAuditRoutes(app, deps);
  registerAccessRoutes(app, deps);
  registerStudyRoutes(app, deps);
  registerResultRoutes(app, deps);
  registerWorklistRoutes(app, deps);
  registerDicomwebRoutes(app, deps);
  registerDicomwebQueryRoutes(app, deps);
  registerUploadRoutes(app, deps);
  app.get('/api/openapi.json', { config: { access: 'public' }, schema: { hide: true } }, () => Promise.resolve(app.swagger()));
  return app;
}

function errorBody(error: PlatformError, statusCode: number, requestId: string): ErrorBody {
  // A 5xx message from an unexpected failure is generic by construction (toPlatformError); the
  // cause is never serialised.
  return { code: error.code, message: error.message, statusCode, requestId };
}

/** A validation issue's path as `a.b`, or `(root)`. */
function fieldPath(instancePath: string): string {
  const path = instancePath.replace(/^\//, '').replaceAll('/', '.');
  return path === '' ? '(root)' : path;
}

/**
 * A validation issue's message, quoting nothing the client chose: the names of unknown fields are the
 * sender's text (they could carry anything), so they are counted, not repeated.
 */
function validationMessage(issue: { readonly keyword: string; readonly message?: string; readonly params: Record<string, unknown> }): string {
  if (issue.keyword === 'unrecognized_keys') {
    const count = Array.isArray(issue.params.keys) ? issue.params.keys.length : 1;
    return count === 1 ? 'an unknown field' : `${count} unknown fields`;
  }
  return issue.message ?? 'invalid';
}
