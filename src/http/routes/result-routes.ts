import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { assertCaseInScope, principalOf } from '../internal/study-access.js';
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
      const principal = principalOf(request);
      // An integration fetches the results of the studies it sent only (404 for any other, as for none).
      await assertCaseInScope(deps, principal, request.params.caseId);
      const { studyKey, bundle } = await deps.services.caseResultBundle(request.params.caseId);
      // A result carries the patient's identity when re-identified: every read is an audit entry.
      await deps.services.recordAudit({ type: 'case_read', studyKey, caseId: request.params.caseId, userId: principal.userId, role: principal.role });
      return reply.type('application/fhir+json; charset=utf-8').send(JSON.stringify(bundle));
    },
  );
}
