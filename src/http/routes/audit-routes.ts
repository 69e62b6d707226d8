import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { PlatformError } from '../../domain/errors.js';
import { auditEntrySchema, auditVerificationSchema, inclusionProofSchema } from '../contract.js';
import type { HttpDependencies } from '../create-http-app.js';

const auditIdParams = z.object({ auditId: z.string().regex(/^a-\d{1,15}$/, 'an audit id such as a-42') });

export function registerAuditRoutes(app: FastifyInstance, deps: HttpDependencies): void {
  const api = app.withTypeProvider<ZodTypeProvider>();

  api.get('/api/audit/verify', { config: { access: 'audit:verify' }, schema: { response: { 200: auditVerificationSchema } } }, async () =>
    deps.services.verifyAudit(),
  );

  api.get(
    '/api/audit/entries/:auditId',
    { config: { access: 'audit:read' }, schema: { params: auditIdParams, response: { 200: auditEntrySchema } } },
    async (request) => {
      const entry = await deps.services.getAuditEntry(request.params.auditId);
      if (entry === undefined) throw new PlatformError('AUDIT_ENTRY_NOT_FOUND', 'No audit entry has this id');
      return { ...entry, event: entry.event as unknown as Record<string, unknown> };
    },
  );

  api.get(
    '/api/audit/entries/:auditId/proof',
    { config: { access: 'audit:read' }, schema: { params: auditIdParams, response: { 200: inclusionProofSchema } } },
    async (request) => {
      const { proof, verified } = await deps.services.proveAudit(request.params.auditId);
      return { ...proof, auditPath: [...proof.auditPath], entry: { ...proof.entry, event: proof.entry.event as unknown as Record<string, unknown> }, verified };
    },
  );
}
