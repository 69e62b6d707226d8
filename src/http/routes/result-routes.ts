import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { StudyReads } from '../../workflows/study-reads.js';
import type { VigilServices } from '../../workflows/vigil-services.js';
import { principalOf } from '../route-config.js';

/** What the result routes use, and nothing else. */
export interface ResultRouteOptions {
  readonly reads: StudyReads;
  readonly caseResultBundle: VigilServices['caseResultBundle'];
}

const caseIdParams = z.object({ caseId: z.string().min(1).max(300) });

/** Results for integrations (role `integration`): the FHIR R4 Bundle of a decided case. */
export const resultRoutes: FastifyPluginAsync<ResultRouteOptions> = (app, options) => {
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
      // An integration fetches the results of the studies it sent only (404 for any other, as for none).
      // A result carries the patient's identity when re-identified: every read is an audit entry.
      const { bundle } = await options.reads.fromCase(principalOf(request), request.params.caseId, () => options.caseResultBundle(request.params.caseId));
      return reply.type('application/fhir+json; charset=utf-8').send(JSON.stringify(bundle));
    },
  );
  return Promise.resolve();
};
