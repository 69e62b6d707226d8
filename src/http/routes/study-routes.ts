import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { StudyReads } from '../../workflows/study-reads.js';
import { caseSchema, studyListQuerySchema, studyListSchema, studyWithCasesSchema } from '../contract.js';
import { principalOf } from '../route-config.js';

/** What the study and case routes use, and nothing else. */
export interface StudyRouteOptions {
  readonly reads: StudyReads;
}

const studyKeyParams = z.object({ studyKey: z.string().regex(/^st-[0-9a-f]{32}$/, 'a study key such as st-<32 hex digits>') });
const caseIdParams = z.object({ caseId: z.string().min(1).max(300) });

/** Studies and their cases, within the caller's scope; every read of one is audited (workflows/study-reads.ts). */
export const studyRoutes: FastifyPluginAsync<StudyRouteOptions> = (app, { reads }) => {
  const api = app.withTypeProvider<ZodTypeProvider>();

  api.get(
    '/api/studies',
    {
      config: { access: 'studies:read' },
      schema: {
        querystring: studyListQuerySchema,
        response: { 200: studyListSchema },
        description:
          'Received studies, newest first; an integration sees only those it sent. With studyInstanceUid or accessionNumber: the studies ' +
          'sent with that value, found by the keyed pseudonym ingest computed from it (the value itself is neither stored nor logged).',
      },
    },
    async (request) => {
      const studies = await reads.search(principalOf(request), request.query);
      return { studies: studies.map((st) => ({ ...st, modalities: [...st.modalities] })) };
    },
  );

  api.get(
    '/api/studies/:studyKey',
    { config: { access: 'studies:read' }, schema: { params: studyKeyParams, response: { 200: studyWithCasesSchema } } },
    async (request) => {
      const { study, cases } = await reads.study(principalOf(request), request.params.studyKey);
      return { ...study, modalities: [...study.modalities], cases: cases.map((c) => ({ ...c, results: [...c.results] })) };
    },
  );

  api.get('/api/cases/:caseId', { config: { access: 'studies:read' }, schema: { params: caseIdParams, response: { 200: caseSchema } } }, async (request) => {
    const found = await reads.case(principalOf(request), request.params.caseId);
    return { ...found, results: [...found.results] };
  });
  return Promise.resolve();
};
