import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { auditEntrySchema } from '../contract.js';
import type { HttpDependencies } from '../create-http-app.js';

const instant = z.iso.datetime({ offset: true }).transform((text) => new Date(text).toISOString());
const query = z.object({
  type: z
    .string()
    .regex(/^[a-z_]{1,40}$/, 'an event type such as decision or case_read')
    .optional(),
  since: instant.optional(),
  until: instant.optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  /** The `next` of the previous page. */
  before: z
    .string()
    .regex(/^a-\d{1,15}$/, 'an audit id such as a-42')
    .optional(),
});

/** Audit search for the dashboard: newest first, paged by audit id. */
export function registerAuditSearchRoutes(app: FastifyInstance, deps: HttpDependencies): void {
  const api = app.withTypeProvider<ZodTypeProvider>();

  api.get(
    '/api/audit/entries',
    {
      config: { access: 'audit:read' },
      schema: { querystring: query, response: { 200: z.object({ entries: z.array(auditEntrySchema), next: z.string().optional() }) } },
    },
    async (request) => {
      const { type, since, until, limit, before } = request.query;
      const page = await deps.dashboard.auditSearch.search({
        limit,
        ...(type === undefined ? {} : { type }),
        ...(since === undefined ? {} : { since }),
        ...(until === undefined ? {} : { until }),
        ...(before === undefined ? {} : { beforeIndex: Number(before.slice(2)) }),
      });
      return {
        entries: page.entries.map((entry) => ({ ...entry, event: entry.event as unknown as Record<string, unknown> })),
        ...(page.nextBeforeIndex === undefined ? {} : { next: `a-${page.nextBeforeIndex}` }),
      };
    },
  );
}
