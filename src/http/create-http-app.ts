import { randomUUID } from 'node:crypto';
import fastifyCookie from '@fastify/cookie';
import fastifySwagger from '@fastify/swagger';
import Fastify, { type FastifyInstance, type FastifyPluginAsync, type FastifyReply, type FastifyRequest } from 'fastify';
import {
  hasZodFastifySchemaValidationErrors,
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import { z } from 'zod';
import { hasPermission } from '../domain/access/roles.js';
import { describeValidationIssues, type ValidationIssue } from '../domain/validation-issues.js';
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
import {
  checkRouteBodyDeclaration,
  EMPTY_OBJECT_BODY,
  hasRequestContent,
  isActionMethod,
  refuseBodyByHeaders,
  tooLarge,
  type RouteBody,
} from './route-body.js';
import { HTTP_STATUS } from './error-status.js';
import { boundBodyReceipt, checkIntervalMs, type ReceiveLimits } from './internal/request-receipt.js';
import type { RouteAccess } from './route-config.js';
import { accessRoutes } from './routes/access-routes.js';
import { auditRoutes } from './routes/audit-routes.js';
import { auditSearchRoutes } from './routes/audit-search-routes.js';
import { caseImageRoutes } from './routes/case-image-routes.js';
import { addSecurityHeaders, dashboardPageRoutes } from './routes/dashboard-page-routes.js';
import { dicomwebQueryRoutes } from './routes/dicomweb-query-routes.js';
import { dicomwebRoutes } from './routes/dicomweb-routes.js';
import { jobRoutes } from './routes/job-routes.js';
import { modelDocumentRoutes } from './routes/model-document-routes.js';
import { monitoringRoutes } from './routes/monitoring-routes.js';
import { modelRegistryRoutes } from './routes/model-registry-routes.js';
import { releaseRoutes } from './routes/release-routes.js';
import { resultRoutes } from './routes/result-routes.js';
import { sessionRoutes } from './routes/session-routes.js';
import { studyRoutes } from './routes/study-routes.js';
import { systemRoutes } from './routes/system-routes.js';
import { systemSummaryRoutes } from './routes/system-summary-routes.js';
import { uploadRoutes } from './routes/upload-routes.js';
import { worklistRoutes } from './routes/worklist-routes.js';
import { prometheusMetrics } from '../workflows/prometheus-metrics.js';
import { retryDeadJob } from '../workflows/retry-dead-job.js';
import { createStudyReads } from '../workflows/study-reads.js';
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
  /** How long a request's headers and body may take to arrive (VIGIL_HTTP_*_TIMEOUT_MS, VIGIL_HTTP_BODY_MIN_BYTES_PER_SECOND). */
  readonly receiveLimits: ReceiveLimits;
  /** Results delivered and failed attempts since the process started, per destination (for /api/metrics). */
  readonly resultDeliveries?: () => Readonly<Record<string, { readonly delivered: number; readonly failed: number }>>;
  /** Sessions, images, search and pages for the web dashboard (src/http/dashboard/). */
  readonly dashboard: DashboardDependencies;
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

/** The body of an action that takes no arguments: absent, or `{}` and nothing in it. */
// Fastify gives a request without content a null body.
const EMPTY_OBJECT_SCHEMA = z.strictObject({}).nullish();

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
    // How long a request may take to arrive (internal/request-receipt.ts): the headers by Node's own
    // deadline, checked this often (Node's 30 s default would let a 1 s limit run to 31 s); a body by the
    // preParsing hook below. No whole-request deadline of Node's (requestTimeout, 0 in Fastify too): it
    // would have to allow the largest upload on the slowest link to every request.
    http: {
      headersTimeout: deps.receiveLimits.headersTimeoutMs,
      requestTimeout: 0,
      connectionsCheckingInterval: checkIntervalMs(deps.receiveLimits.headersTimeoutMs),
    },
    requestTimeout: 0,
    // Every route sets its own from its declared body (onRoute below); this bounds only what is
    // not a route (404), which takes no body either. Fastify's least is 1 byte.
    bodyLimit: 1,
    // Request ids are ours: a client-sent id could smuggle text into logs.
    genReqId: () => randomUUID(),
    requestIdHeader: false,
    // Case and worklist ids embed the study key and the model's SHA-256 (~130 characters).
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 500 },
    // What Node's HTTP parser refuses before Fastify sees a request (headers over 16 KiB, a malformed
    // request line, headers not in within headersTimeout) is answered in our error shape too, and the
    // connection closed: destroyed once the answer is written, since Node's server sockets stay half-open
    // after end() and a stalled client would otherwise keep this one.
    clientErrorHandler: (error: NodeJS.ErrnoException, socket) => {
      const inFlight = (socket as { _httpMessage?: { readonly headersSent?: boolean } | null })._httpMessage;
      // An answer already begun cannot be followed by another one: only close.
      if (!socket.writable || error.code === 'ECONNRESET' || inFlight?.headersSent === true) {
        socket.destroy();
        return;
      }
      const platformError =
        error.code === 'HPE_HEADER_OVERFLOW'
          ? new PlatformError('REQUEST_HEADERS_TOO_LARGE', 'The request line and headers are too large')
          : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
            ? new PlatformError('REQUEST_TIMEOUT', `The request's headers did not arrive within ${deps.receiveLimits.headersTimeoutMs} ms`, {
                headersTimeoutMs: deps.receiveLimits.headersTimeoutMs,
              })
            : new PlatformError('REQUEST_INVALID', 'The request could not be parsed');
      const status = HTTP_STATUS[platformError.code];
      const body = JSON.stringify(errorBody(platformError, status, randomUUID()));
      socket.end(
        `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Bad Request'}\r\nContent-Type: application/json; charset=utf-8\r\n` +
          `Cache-Control: no-store\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
        () => socket.destroy(),
      );
    },
    // Fastify answers an undecodable URL (`%ZZ`) or an over-long parameter before routing, in its own
    // shape and quoting the raw URL, which may hold identifiers: answer in ours, quoting nothing.
    frameworkErrors: (_error, request: FastifyRequest, reply: FastifyReply) => {
      // Sent before routing, so without the onSend hooks: the same headers, set here.
      void addSecurityHeaders(request, reply);
      // Answered without reading a body it may have: close rather than wait for the rest (as the error handler does).
      if (hasRequestContent(request.headers)) void reply.header('connection', 'close');
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
    let body = route.config?.body;
    if (route.config !== undefined && body === undefined && route.schema?.body === undefined && [route.method].flat().every(isActionMethod)) {
      // An action without arguments: nothing, or `{}` (route-body.ts, EMPTY_OBJECT_BODY).
      body = EMPTY_OBJECT_BODY;
      route.config = { ...route.config, body };
      route.schema = { ...route.schema, body: EMPTY_OBJECT_SCHEMA };
    }
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

  // A path that is a route for other methods is 405 with Allow (RFC 9110 §15.5.6), else 404. The
  // dashboard's wildcard GET routes (pages, assets) match every path and make none of them a route here;
  // a route that found no resource (reply.callNotFound) is 404 for its own method.
  const refuseUnrouted = (request: FastifyRequest, reply: FastifyReply): PlatformError => {
    const path = request.url.split('?')[0] ?? '';
    const allowed = HTTP_METHODS.filter((method) => {
      const found = app.findRoute({ method, url: path });
      return found !== null && !Object.hasOwn(found.params, '*');
    });
    if (allowed.length === 0 || allowed.includes(request.method as (typeof HTTP_METHODS)[number])) {
      return new PlatformError('ROUTE_NOT_FOUND', 'No such route');
    }
    void reply.header('allow', allowed.join(', '));
    return new PlatformError('ROUTE_METHOD_NOT_ALLOWED', `This route takes ${allowed.join(', ')}`, { allowed: allowed.length });
  };
  // onRequest runs before Fastify reads a byte of the body: whoever may not call the route, or sends
  // a body it does not take, is answered here and the body is never parsed.
  app.addHook('onRequest', async (request, reply) => {
    void reply.header('x-request-id', request.id);
    const { access, body } = request.routeOptions.config;
    if (request.routeOptions.url === undefined) {
      // No route: answer 404 (or 405) now rather than after reading a body nothing would use.
      if (hasRequestContent(request.headers)) throw refuseUnrouted(request, reply);
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

  // A body is read only while it keeps arriving (internal/request-receipt.ts): a client that stalls or
  // trickles it is answered 408 and the connection closed (the error handler, as for any unread body).
  app.addHook('preParsing', async (request, reply, payload) => {
    if (!hasRequestContent(request.headers)) return payload;
    const limits = deps.receiveLimits;
    const bounded = boundBodyReceipt(
      limits,
      () => performance.now(),
      (reason) =>
        reason === 'idle'
          ? new PlatformError('REQUEST_TIMEOUT', `The request body stopped arriving: nothing for ${limits.idleTimeoutMs} ms`, {
              idleTimeoutMs: limits.idleTimeoutMs,
            })
          : new PlatformError('REQUEST_TIMEOUT', `The request body arrived more slowly than ${limits.bodyMinBytesPerSecond} bytes per second`, {
              bodyMinBytesPerSecond: limits.bodyMinBytesPerSecond,
            }),
    );
    // Whatever ends the exchange first (an answer, a closed socket) stops the body's clock.
    reply.raw.once('close', () => bounded.destroy());
    return payload.pipe(bounded);
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
    const error = refuseUnrouted(request, reply);
    const status = HTTP_STATUS[error.code];
    await reply.code(status).send(errorBody(error, status, request.id));
  });

  app.setErrorHandler(async (error, request, reply) => {
    let platformError: PlatformError;
    if (hasZodFastifySchemaValidationErrors(error)) {
      const fields = describeValidationIssues(error.validation.map(issueOf));
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
  for (const register of routePlugins(deps)) await register(app);
  app.get('/api/openapi.json', { config: { access: 'public' }, schema: { hide: true } }, () => Promise.resolve(app.swagger()));
  return app;
}

/** One route plugin with the options it takes, typed together; registered in its own encapsulated context. */
type RoutePlugin = (app: HttpApp) => PromiseLike<unknown>;
const plugin =
  <Options extends object>(routes: FastifyPluginAsync<Options>, options: Options): RoutePlugin =>
  (app) =>
    app.register(routes, options);

/**
 * Every route plugin, in registration order, each given only what it uses (a route plugin never
 * imports this file). A new group of routes is one more entry.
 */
function routePlugins(deps: HttpDependencies): readonly RoutePlugin[] {
  const { services, dashboard } = deps;
  const reads = createStudyReads({
    studies: deps.studies,
    cases: deps.cases,
    studyLookupKeys: (sent) => services.studyLookupKeys(sent),
    recordAudit: (event) => services.recordAudit(event),
  });
  const links = { studies: deps.studies, cases: deps.cases };
  const ingest = {
    storeInstances: services.storeInstances.bind(services),
    uploadImages: services.uploadImages.bind(services),
    bodyLimitBytes: deps.bodyLimitBytes,
  };
  return [
    plugin(systemRoutes, {
      version: deps.version,
      currentModel: () => services.currentModel(),
      metrics: () =>
        prometheusMetrics({
          jobs: deps.jobs,
          auditSize: () => services.auditSize(),
          systemSummary: dashboard.systemSummary,
          modelPoolStats: () => services.modelPoolStats(),
          resultDeliveries: deps.resultDeliveries,
          uptimeSeconds: () => process.uptime(),
          monitorLines: async () => (await services.monitoring()).metricLines(),
        }),
    }),
    plugin(sessionRoutes, { sessions: dashboard.sessions, cookieSecure: dashboard.cookieSecure }),
    plugin(caseImageRoutes, { reads, renderCaseImage: dashboard.renderCaseImage }),
    plugin(auditSearchRoutes, { auditSearch: dashboard.auditSearch }),
    plugin(modelDocumentRoutes, { currentModel: () => services.currentModel(), modelDocuments: dashboard.modelDocuments, reportChart: dashboard.reportChart }),
    plugin(systemSummaryRoutes, { systemSummary: dashboard.systemSummary }),
    plugin(jobRoutes, {
      retryDeadJob: (operator, jobId) => retryDeadJob({ jobs: deps.jobs, recordAudit: (event) => services.recordAudit(event) }, operator, jobId),
    }),
    plugin(modelRegistryRoutes, {
      versions: () => services.modelVersions(),
      version: (id) => services.modelVersion(id),
      card: (id) => services.modelCard(id),
    }),
    plugin(releaseRoutes, {
      releases: () => services.releases(),
      ledger: (site, at) => services.deploymentLedger(site, at),
      evidencePack: (id) => services.releaseEvidencePack(id),
    }),
    plugin(monitoringRoutes, { monitoring: () => services.monitoring(), systemSummary: dashboard.systemSummary }),
    plugin(dashboardPageRoutes, { dashboardDir: dashboard.dashboardDir }),
    plugin(auditRoutes, {
      verifyAudit: () => services.verifyAudit(),
      getAuditEntry: (auditId) => services.getAuditEntry(auditId),
      proveAudit: (auditId) => services.proveAudit(auditId),
    }),
    plugin(accessRoutes, { accounts: deps.accounts, setPassword: dashboard.sessions.setPassword.bind(dashboard.sessions) }),
    plugin(studyRoutes, { reads }),
    plugin(resultRoutes, { reads, caseResultBundle: (caseId) => services.caseResultBundle(caseId) }),
    plugin(worklistRoutes, { worklist: deps.worklist, recordReview: (itemId, reviewerId, read) => services.recordReview(itemId, reviewerId, read) }),
    plugin(dicomwebRoutes, { ...links, storeInstances: ingest.storeInstances, bodyLimitBytes: ingest.bodyLimitBytes }),
    plugin(dicomwebQueryRoutes, { reads, studyResultObjects: (studyKey) => services.studyResultObjects(studyKey) }),
    plugin(uploadRoutes, { ...links, ...ingest }),
  ];
}

/** The methods a path may be routed for (Fastify adds HEAD beside each GET). */
const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

/** Reason phrases of the answers written to the socket directly (clientErrorHandler). */
const STATUS_TEXT: Readonly<Record<number, string>> = { 400: 'Bad Request', 408: 'Request Timeout', 431: 'Request Header Fields Too Large' };

function errorBody(error: PlatformError, statusCode: number, requestId: string): ErrorBody {
  // A 5xx message from an unexpected failure is generic by construction (toPlatformError); the
  // cause is never serialised.
  return { code: error.code, message: error.message, statusCode, requestId };
}

/** A validation error as fastify-type-provider-zod passes it, back as the zod issue it was (its fields other than path, code and message are in `params`). */
function issueOf(v: {
  readonly keyword: string;
  readonly instancePath: string;
  readonly message?: string;
  readonly params: Record<string, unknown>;
}): ValidationIssue {
  const path = v.instancePath.replace(/^\//, '');
  return { ...(v.params as Partial<ValidationIssue>), code: v.keyword, path: path === '' ? [] : path.split('/'), message: v.message ?? 'invalid' };
}
