import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { SystemSummary } from '../../workflows/system-summary.js';
import { systemSummarySchema } from '../contract.js';

/** What the health page's route uses, and nothing else. */
export interface SystemSummaryRouteOptions {
  readonly systemSummary: () => Promise<SystemSummary>;
}

/** The health page in one request (the same numbers /api/metrics exposes, and more, as JSON). */
export const systemSummaryRoutes: FastifyPluginAsync<SystemSummaryRouteOptions> = (app, options) => {
  app
    .withTypeProvider<ZodTypeProvider>()
    .get('/api/system/summary', { config: { access: 'system:read' }, schema: { response: { 200: systemSummarySchema } } }, async () => {
      const summary = await options.systemSummary();
      return { ...summary, queue: { ...summary.queue, byKind: [...summary.queue.byKind], deadLetters: [...summary.queue.deadLetters] } };
    });
  return Promise.resolve();
};
