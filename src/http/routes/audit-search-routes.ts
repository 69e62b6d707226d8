import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { AuditSearch } from '../../ports/audit-search.js';
import { auditEntriesPageSchema, auditEntriesQuerySchema } from '../contract.js';

/** What the audit search route uses, and nothing else. */
export interface AuditSearchRouteOptions {
  readonly auditSearch: AuditSearch;
}

/** Audit search for the dashboard: newest first, paged by audit id. */
export const auditSearchRoutes: FastifyPluginAsync<AuditSearchRouteOptions> = (app, options) => {
  const api = app.withTypeProvider<ZodTypeProvider>();

  api.get(
    '/api/audit/entries',
    {
      config: { access: 'audit:read' },
      schema: { querystring: auditEntriesQuerySchema, response: { 200: auditEntriesPageSchema } },
    },
    async (request) => {
      const { type, since, until, limit, before } = request.query;
      const page = await options.auditSearch.search({
        limit,
        ...(type === undefined ? {} : { type }),
        ...(since === undefined ? {} : { since }),
        ...(until === undefined ? {} : { until }),
        ...(before === undefined ? {} : { beforeIndex: Number(before.slice(2)) }),
      });
      return {
        entries: [...page.entries],
        ...(page.nextBeforeIndex === undefined ? {} : { next: `a-${page.nextBeforeIndex}` }),
      };
    },
  );
  return Promise.resolve();
};
