import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { PlatformError } from '../../domain/errors.js';
import type { VigilServices } from '../../workflows/vigil-services.js';
import { auditEntrySchema, auditVerificationSchema, inclusionProofSchema } from '../contract.js';

/** What the audit log routes use, and nothing else. */
export interface AuditRouteOptions {
  readonly verifyAudit: VigilServices['verifyAudit'];
  readonly getAuditEntry: VigilServices['getAuditEntry'];
  readonly proveAudit: VigilServices['proveAudit'];
}

const auditIdParams = z.object({ auditId: z.string().regex(/^a-\d{1,15}$/, 'an audit id such as a-42') });

/** The audit log's verification, one entry, and its inclusion proof. */
export const auditRoutes: FastifyPluginAsync<AuditRouteOptions> = (app, options) => {
  const api = app.withTypeProvider<ZodTypeProvider>();

  api.get('/api/audit/verify', { config: { access: 'audit:verify' }, schema: { response: { 200: auditVerificationSchema } } }, () => options.verifyAudit());

  api.get(
    '/api/audit/entries/:auditId',
    { config: { access: 'audit:read' }, schema: { params: auditIdParams, response: { 200: auditEntrySchema } } },
    async (request) => {
      const entry = await options.getAuditEntry(request.params.auditId);
      if (entry === undefined) throw new PlatformError('AUDIT_ENTRY_NOT_FOUND', 'No audit entry has this id');
      return entry;
    },
  );

  api.get(
    '/api/audit/entries/:auditId/proof',
    { config: { access: 'audit:read' }, schema: { params: auditIdParams, response: { 200: inclusionProofSchema } } },
    async (request) => {
      const { proof, verified } = await options.proveAudit(request.params.auditId);
      return { ...proof, auditPath: [...proof.auditPath], verified };
    },
  );
  return Promise.resolve();
};
