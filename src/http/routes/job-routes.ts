import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Principal } from '../../domain/access/roles.js';
import { jobRetriedSchema } from '../contract.js';
import { principalOf } from '../route-config.js';

/** What the job routes use, and nothing else. */
export interface JobRouteOptions {
  /** workflows/retry-dead-job.ts. */
  readonly retryDeadJob: (operator: Principal, jobId: number) => Promise<{ readonly jobId: number; readonly state: 'ready' }>;
}

const jobParams = z.object({ jobId: z.coerce.number().int().positive() });

/**
 * Operations on the durable job queue. A job that failed every attempt is dead-lettered with its error
 * (the health page lists them); once its cause is fixed, an operator sends it back to the queue.
 */
export const jobRoutes: FastifyPluginAsync<JobRouteOptions> = (app, options) => {
  app
    .withTypeProvider<ZodTypeProvider>()
    .post('/api/jobs/:jobId/retry', { config: { access: 'jobs:manage' }, schema: { params: jobParams, response: { 200: jobRetriedSchema } } }, (request) =>
      options.retryDeadJob(principalOf(request), request.params.jobId),
    );
  return Promise.resolve();
};
