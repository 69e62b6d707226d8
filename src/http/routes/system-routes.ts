import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { ModelInspection } from '../../workflows/inspect-model.js';
import { healthSchema, modelSummarySchema } from '../contract.js';

/** What the health, current-model and metrics routes use, and nothing else. */
export interface SystemRouteOptions {
  readonly version: string;
  readonly currentModel: () => Promise<Pick<ModelInspection, 'manifest' | 'modelBytes'>>;
  /** The Prometheus text (workflows/prometheus-metrics.ts). */
  readonly metrics: () => Promise<string>;
}

export const systemRoutes: FastifyPluginAsync<SystemRouteOptions> = (app, options) => {
  const api = app.withTypeProvider<ZodTypeProvider>();

  api.get('/api/health', { config: { access: 'public' }, schema: { response: { 200: healthSchema } } }, () =>
    Promise.resolve({ status: 'ok' as const, version: options.version, time: new Date().toISOString() }),
  );

  api.get('/api/models/current', { config: { access: 'models:read' }, schema: { response: { 200: modelSummarySchema } } }, async () => {
    const inspection = await options.currentModel();
    return { hashVerified: true as const, modelBytes: inspection.modelBytes, manifest: inspection.manifest };
  });

  // Prometheus text exposition format 0.0.4 (workflows/prometheus-metrics.ts).
  api.get('/api/metrics', { config: { access: 'system:read' } }, async (_request, reply) =>
    reply.type('text/plain; version=0.0.4; charset=utf-8').send(await options.metrics()),
  );
  return Promise.resolve();
};
