import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { PlatformError } from '../../domain/errors.js';
import type { HttpDependencies } from '../create-http-app.js';

const jobParams = z.object({ jobId: z.coerce.number().int().positive() });

/**
 * Operations on the durable job queue. A job that failed every attempt is dead-lettered with its error
 * (the health page lists them); once its cause is fixed (a destination back up, a model replaced), an
 * operator sends it back to the queue. A case or delivery it completes is still saved once.
 */
export function registerJobRoutes(app: FastifyInstance, deps: HttpDependencies): void {
  app.withTypeProvider<ZodTypeProvider>().post(
    '/api/jobs/:jobId/retry',
    {
      config: { access: 'jobs:manage' },
      schema: { params: jobParams, response: { 200: z.object({ jobId: z.number(), state: z.literal('ready') }) } },
    },
    async (request) => {
      const principal = request.principal;
      if (principal === undefined) throw new PlatformError('AUTH_REQUIRED', 'Authentication required');
      const { jobId } = request.params;
      if (!(await deps.jobs.retryDead(jobId))) throw new PlatformError('ROUTE_NOT_FOUND', 'No dead-lettered job has this id');
      await deps.services.recordAudit({ type: 'job_retried', jobId, userId: principal.userId, role: principal.role });
      return { jobId, state: 'ready' as const };
    },
  );
}
