import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { HttpDependencies } from '../create-http-app.js';

const counts = z.record(z.string(), z.number());
export const systemSummarySchema = z.object({
  time: z.string(),
  version: z.string(),
  uptimeSeconds: z.number(),
  dicomAddress: z.string().nullable(),
  freeDiskBytes: z.number(),
  queue: z.object({
    byState: counts,
    byKind: z.array(z.object({ kind: z.string(), state: z.string(), count: z.number() })),
    deadLetters: z.array(
      z.object({
        jobId: z.number(),
        kind: z.string(),
        attempts: z.number(),
        errorCode: z.string().nullable(),
        errorMessage: z.string().nullable(),
        updatedAt: z.string(),
      }),
    ),
  }),
  last24h: z.object({
    images: z.number(),
    /** Images `vigil predict` judged on the same store; not in the other counts. */
    commandLineImages: z.number(),
    gateRejected: z.number(),
    byGateVerdict: counts,
    byDecision: counts,
    referRate: z.number().nullable(),
    resultLatencyMs: z.object({ count: z.number(), p50: z.number().nullable(), p95: z.number().nullable() }),
  }),
});

/** The health page in one request (the same numbers /api/metrics exposes, and more, as JSON). */
export function registerSystemSummaryRoutes(app: FastifyInstance, deps: HttpDependencies): void {
  app
    .withTypeProvider<ZodTypeProvider>()
    .get('/api/system/summary', { config: { access: 'system:read' }, schema: { response: { 200: systemSummarySchema } } }, async () => {
      const summary = await deps.dashboard.systemSummary();
      return { ...summary, queue: { ...summary.queue, byKind: [...summary.queue.byKind], deadLetters: [...summary.queue.deadLetters] } };
    });
}
