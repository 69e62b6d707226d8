import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { ModelVersion } from '../../domain/registry/model-version.js';
import { modelVersionCardSchema, modelVersionListSchema, modelVersionSchema } from '../contract.js';

/** What the registry routes use, and nothing else. */
export interface ModelRegistryRouteOptions {
  readonly versions: () => Promise<readonly ModelVersion[]>;
  readonly version: (idOrPrefix: string) => Promise<ModelVersion>;
  readonly card: (idOrPrefix: string) => Promise<{ readonly version: ModelVersion; readonly card: string }>;
}

const versionParams = z.object({ versionId: z.string().regex(/^[0-9a-fA-F]{8,64}$/, 'a version id: 8 to 64 hex digits') });

/**
 * The model registry, read-only over HTTP: every registered version with its lineage, one version, and
 * its generated model card (Markdown). Registering is `vigil model register` (and calibrate/policy).
 */
export const modelRegistryRoutes: FastifyPluginAsync<ModelRegistryRouteOptions> = (app, options) => {
  const api = app.withTypeProvider<ZodTypeProvider>();
  api.get('/api/models/versions', { config: { access: 'models:read' }, schema: { response: { 200: modelVersionListSchema } } }, async () => ({
    versions: [...(await options.versions())],
  }));
  api.get(
    '/api/models/versions/:versionId',
    { config: { access: 'models:read' }, schema: { params: versionParams, response: { 200: modelVersionSchema } } },
    (request) => options.version(request.params.versionId),
  );
  api.get(
    '/api/models/versions/:versionId/card',
    {
      config: { access: 'models:read' },
      schema: { params: versionParams, response: { 200: modelVersionCardSchema } },
    },
    async (request) => {
      const { version, card } = await options.card(request.params.versionId);
      return { versionId: version.versionId, card };
    },
  );
  return Promise.resolve();
};
