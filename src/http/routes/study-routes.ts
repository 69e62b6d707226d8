import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Principal } from '../../domain/access/roles.js';
import { PlatformError } from '../../domain/errors.js';
import { caseSchema, studyListQuerySchema, studySchema } from '../contract.js';
import { assertCaseInScope, assertStudyInScope, principalOf, scopeFilter, sentStudyKeys } from '../internal/study-access.js';
import type { HttpDependencies } from '../create-http-app.js';

const studyKeyParams = z.object({ studyKey: z.string().regex(/^st-[0-9a-f]{32}$/, 'a study key such as st-<32 hex digits>') });
const caseIdParams = z.object({ caseId: z.string().min(1).max(300) });

export function registerStudyRoutes(app: FastifyInstance, deps: HttpDependencies): void {
  const api = app.withTypeProvider<ZodTypeProvider>();

  api.get(
    '/api/studies',
    {
      config: { access: 'studies:read' },
      schema: {
        querystring: studyListQuerySchema,
        response: { 200: z.object({ studies: z.array(studySchema) }) },
        description:
          'Received studies, newest first; an integration sees only those it sent. With studyInstanceUid or accessionNumber: the studies ' +
          'sent with that value, found by the keyed pseudonym ingest computed from it (the value itself is neither stored nor logged).',
      },
    },
    async (request) => {
      const { limit, studyInstanceUid, accessionNumber } = request.query;
      const keys = await sentStudyKeys(deps.services, { studyInstanceUid, accessionNumber });
      if (keys === undefined) return { studies: [] };
      const studies = await deps.studies.search({ limit, ...keys, ...scopeFilter(principalOf(request)) });
      return { studies: studies.map((st) => ({ ...st, modalities: [...st.modalities] })) };
    },
  );

  api.get(
    '/api/studies/:studyKey',
    { config: { access: 'studies:read' }, schema: { params: studyKeyParams, response: { 200: studySchema.extend({ cases: z.array(caseSchema) }) } } },
    async (request) => {
      await assertStudyInScope(deps.studies, principalOf(request), request.params.studyKey);
      const study = await deps.studies.get(request.params.studyKey);
      if (study === undefined) throw new PlatformError('ROUTE_NOT_FOUND', 'No study has this key');
      await auditRead(deps, request.principal, study.studyKey, null);
      return {
        ...study,
        modalities: [...study.modalities],
        cases: (await deps.cases.listForStudy(study.studyKey)).map((c) => ({ ...c, results: [...c.results] })),
      };
    },
  );

  api.get('/api/cases/:caseId', { config: { access: 'studies:read' }, schema: { params: caseIdParams, response: { 200: caseSchema } } }, async (request) => {
    await assertCaseInScope(deps, principalOf(request), request.params.caseId);
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
