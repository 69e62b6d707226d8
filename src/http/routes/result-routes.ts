import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { PlatformError } from '../../domain/errors.js';
import type { HttpDependencies } from '../create-http-app.js';

const caseIdParams = z.object({ caseId: z.string().min(1).max(300) });

/** Results for integrations (role `integration`): the FHIR R4 Bundle of a decided case. */
export function registerResultRoutes(app: FastifyInstance, deps: HttpDependencies): void {
  const api = app.withTypeProvider<ZodTypeProvider>();

  api.get(
    '/api/cases/:caseId/fhir',
    {
      config: { access: 'results:read' },
      schema: {
        params: caseIdParams,
        description: 'FHIR R4 Bundle (type collection): DiagnosticReport + one Observation per judged image and finding.',
      },
    },
    async (request, reply) => {
      const { studyKey, bundle } = await deps.services.caseResultBundle(request.params.caseId);
      const principal = request.principal;
      if (principal === undefined) throw new PlatformError('AUTH_REQUIRED', 'Authentication required');
      // A result carries the patient's identity when re-identified: every read is an audit entry.
      await deps.services.recordAudit({ type: 'case_read', studyKey, caseId: request.params.caseId, userId: principal.userId, role: principal.role });
      return reply.type('application/fhir+json; charset=utf-8').send(JSON.stringify(bundle));
    },
  );
}
