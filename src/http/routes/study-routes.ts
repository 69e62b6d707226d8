import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Principal } from '../../domain/access/roles.js';
import { PlatformError } from '../../domain/errors.js';
import { caseSchema, listQuerySchema, studySchema } from '../contract.js';
import type { HttpDependencies } from '../create-http-app.js';

const studyKeyParams = z.object({ studyKey: z.string().regex(/^st-[0-9a-f]{32}$/, 'a study key such as st-<32 hex digits>') });
const caseIdParams = z.object({ caseId: z.string().min(1).max(300) });

export function registerStudyRoutes(app: FastifyInstance, deps: HttpDependencies): void {
  const api = app.withTypeProvider<ZodTypeProvider>();

  api.get(
    '/api/studies',
    { config: { access: 'studies:read' }, schema: { querystring: listQuerySchema, response: { 200: z.object({ studies: z.array(studySchema) }) } } },
    async (request) => ({ studies: [...(await deps.studies.list(request.query.limit))] }),
  );

  api.get(
    '/api/studies/:studyKey',
    { config: { access: 'studies:read' }, schema: { params: studyKeyParams, response: { 200: studySchema.extend({ cases: z.array(caseSchema) }) } } },
    async (request) => {
      const study = await deps.studies.get(request.params.studyKey);
      if (study === undefined) throw new PlatformError('ROUTE_NOT_FOUND', 'No study has this key');
      await auditRead(deps, request.principal, study.studyKey, null);
      return { ...study, cases: (await deps.cases.listForStudy(study.studyKey)).map((c) => ({ ...c, results: [...c.results] })) };
    },
  );

  api.get('/api/cases/:caseId', { config: { access: 'studies:read' }, schema: { params: caseIdParams, response: { 200: caseSchema } } }, async (request) => {
    const found = await deps.cases.get(request.params.caseId);
    if (found === undefined) throw new PlatformError('ROUTE_NOT_FOUND', 'No case has this id');
    await auditRead(deps, request.principal, found.studyKey, found.caseId);
    return { ...found, results: [...found.results] };
  });
}

/** Every read of a study or case is an audit entry (who, by surrogate id and role; which study). */
async function auditRead(deps: HttpDependencies, principal: Principal | undefined, studyKey: string, caseId: string | null): Promise<void> {
  if (principal === undefined) throw new PlatformError('AUTH_REQUIRED', 'Authentication required');
  await deps.services.recordAudit({ type: 'case_read', studyKey, caseId, userId: principal.userId, role: principal.role });
}
