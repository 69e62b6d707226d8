import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { RasterDeclaration } from '../../domain/image/image-frame.js';
import type { LedgerAnswer } from '../../workflows/deployment-ledger.js';
import type { Releases } from '../../workflows/releases.js';
import {
  canaryRequestSchema,
  createReleaseRequestSchema,
  deploymentListSchema,
  ledgerAnswerSchema,
  ledgerQuerySchema,
  gateRunSchema,
  listQuerySchema,
  pauseRequestSchema,
  releaseListSchema,
  releaseViewSchema,
  runGatesRequestSchema,
  signReleaseRequestSchema,
  siteDeploymentSchema,
} from '../contract.js';
import { jsonBody } from '../route-body.js';
import { principalOf, userActorOf } from '../route-config.js';

/** What the release and deployment routes use, and nothing else. */
export interface ReleaseRouteOptions {
  readonly releases: () => Promise<Releases>;
  readonly ledger: (site: string, at: Date) => Promise<LedgerAnswer>;
  /** A request's evidence pack (docs/releases.md, "Evidence pack"), as `vigil release evidence` writes it. */
  readonly evidencePack: (requestId: string) => Promise<{ readonly zip: Uint8Array; readonly manifest: { readonly requestId: string } }>;
}

// The id whole, or a unique prefix of it: r- and at least 8 of its characters (as `vigil release`, and as model versions take 8+ hex digits).
const requestParams = z.object({ requestId: z.string().regex(/^r-[0-9a-fA-F-]{8,36}$/, 'a release request id (r-…), or r- and at least 8 of its characters') });
const siteParams = z.object({ site: z.string().min(1).max(64) });
const evidenceParams = requestParams.extend({ sha256: z.string().regex(/^[0-9a-f]{64}$/, 'a SHA-256') });
const listQuery = listQuerySchema.extend({ site: z.string().min(1).max(64).optional() });

/** The declaration without its absent fields (the workflow's types hold no explicit `undefined`). */
function definedOnly(declared: NonNullable<z.infer<typeof runGatesRequestSchema>['declared']>): RasterDeclaration {
  const { modality, bodyPartExamined, viewPosition, patientAgeYears } = declared;
  return {
    ...(modality === undefined ? {} : { modality }),
    ...(bodyPartExamined === undefined ? {} : { bodyPartExamined }),
    ...(viewPosition === undefined ? {} : { viewPosition }),
    ...(patientAgeYears === undefined ? {} : { patientAgeYears }),
  };
}

/**
 * Release requests (docs/releases.md) and deployments per site. A route parses, authorises (its
 * permission; the workflow then checks what the state machine and the protocol allow) and calls one
 * workflow method. The caller is the requester or the signer: nobody requests or signs for another.
 */
export const releaseRoutes: FastifyPluginAsync<ReleaseRouteOptions> = (app, options) => {
  const api = app.withTypeProvider<ZodTypeProvider>();
  const releases = options.releases;
  api.get(
    '/api/releases',
    {
      config: { access: 'releases:read' },
      schema: { querystring: listQuery, response: { 200: releaseListSchema } },
    },
    async (request) => ({
      releases: await (await releases()).list({ limit: request.query.limit, ...(request.query.site === undefined ? {} : { site: request.query.site }) }),
    }),
  );
  api.post(
    '/api/releases',
    // A change type, a site id and a version id: well under 1 kB.
    { config: { access: 'releases:request', body: jsonBody(4 * 1024) }, schema: { body: createReleaseRequestSchema, response: { 201: releaseViewSchema } } },
    async (request, reply) => {
      const view = await (await releases()).create({ userId: principalOf(request).userId }, request.body);
      return reply.code(201).send(view);
    },
  );
  api.get(
    '/api/releases/:requestId',
    { config: { access: 'releases:read' }, schema: { params: requestParams, response: { 200: releaseViewSchema } } },
    async (request) => (await releases()).show(request.params.requestId),
  );
  api.get('/api/releases/:requestId/evidence/:sha256', { config: { access: 'releases:read' }, schema: { params: evidenceParams } }, async (request, reply) => {
    const bytes = await (await releases()).evidence(request.params.requestId, request.params.sha256);
    return reply.type('application/octet-stream').send(Buffer.from(bytes));
  });
  api.get('/api/releases/:requestId/evidence.zip', { config: { access: 'releases:read' }, schema: { params: requestParams } }, async (request, reply) => {
    const { zip, manifest } = await options.evidencePack(request.params.requestId);
    return reply
      .type('application/zip')
      .header('content-disposition', `attachment; filename="evidence-${manifest.requestId}.zip"`)
      .send(Buffer.from(zip.buffer, zip.byteOffset, zip.byteLength));
  });
  api.post(
    '/api/releases/:requestId/gates',
    // A dataset spec (≤ 1024 characters) and a declaration: ≤ 8 kB even with every character \u-escaped.
    {
      config: { access: 'releases:request', body: jsonBody(16 * 1024) },
      schema: { params: requestParams, body: runGatesRequestSchema.optional(), response: { 200: gateRunSchema } },
    },
    async (request) => {
      const body = request.body ?? {};
      return (await releases()).runGates(userActorOf(request), request.params.requestId, {
        ...(body.dataset === undefined ? {} : { dataset: body.dataset }),
        ...(body.declared === undefined ? {} : { declared: definedOnly(body.declared) }),
      });
    },
  );
  api.post(
    '/api/releases/:requestId/sign',
    // A meaning and a ≤ 1024-character password (or token): ≤ 7 kB escaped.
    {
      config: { access: 'releases:sign', body: jsonBody(8 * 1024) },
      schema: { params: requestParams, body: signReleaseRequestSchema, response: { 200: releaseViewSchema } },
    },
    async (request) => {
      const body = request.body;
      const proof = 'password' in body ? { password: body.password } : { token: body.token };
      const caller = principalOf(request);
      // The caller's own bearer token is passed so that it cannot double as the signing token.
      return (await releases()).sign(request.params.requestId, { userId: caller.userId }, body.meaning, proof, caller.tokenId);
    },
  );
  api.post(
    '/api/releases/:requestId/shadow',
    { config: { access: 'releases:deploy' }, schema: { params: requestParams, response: { 200: releaseViewSchema } } },
    async (request) => (await releases()).startShadow(userActorOf(request), request.params.requestId),
  );
  api.post(
    '/api/releases/:requestId/canary',
    {
      config: { access: 'releases:deploy', body: jsonBody(1024) },
      schema: { params: requestParams, body: canaryRequestSchema, response: { 200: releaseViewSchema } },
    },
    async (request) => (await releases()).startCanary(userActorOf(request), request.params.requestId, request.body.fraction),
  );
  api.post(
    '/api/releases/:requestId/promote',
    { config: { access: 'releases:deploy' }, schema: { params: requestParams, response: { 200: releaseViewSchema } } },
    async (request) => (await releases()).promote(userActorOf(request), request.params.requestId),
  );
  api.get('/api/deployments', { config: { access: 'releases:read' }, schema: { response: { 200: deploymentListSchema } } }, async () => ({
    deployments: await (await releases()).deployments(),
  }));
  // The ledger reads the audit log: an auditor's question as much as QA's.
  api.get(
    '/api/deployments/:site/ledger',
    { config: { access: 'audit:read' }, schema: { params: siteParams, querystring: ledgerQuerySchema, response: { 200: ledgerAnswerSchema } } },
    (request) => options.ledger(request.params.site, request.query.at === undefined ? new Date() : new Date(request.query.at)),
  );
  api.post(
    '/api/deployments/:site/pause',
    // A ≤ 500-character reason: ≤ 3.1 kB escaped.
    {
      config: { access: 'deployments:pause', body: jsonBody(4 * 1024) },
      schema: { params: siteParams, body: pauseRequestSchema, response: { 200: siteDeploymentSchema } },
    },
    async (request) => (await releases()).pause(userActorOf(request), request.params.site, request.body.reason),
  );
  api.post(
    '/api/deployments/:site/resume',
    { config: { access: 'deployments:pause' }, schema: { params: siteParams, response: { 200: siteDeploymentSchema } } },
    async (request) => (await releases()).resume(userActorOf(request), request.params.site),
  );
  api.post(
    '/api/deployments/:site/rollback',
    { config: { access: 'deployments:rollback' }, schema: { params: siteParams, response: { 200: siteDeploymentSchema } } },
    async (request) => (await releases()).rollback(userActorOf(request), request.params.site),
  );
  return Promise.resolve();
};
