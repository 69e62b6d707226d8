import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { PlatformError } from '../../domain/errors.js';
import { unknownValueVerdicts } from '../../domain/model/model-manifest.js';
import type { ModelDocuments } from '../../ports/model-documents.js';
import type { ModelInspection } from '../../workflows/inspect-model.js';
import { REPORT_CHART_KINDS, type ReportChartKind } from '../../workflows/report-charts.js';
import { modelCardSchema } from '../contract.js';

/** What the model page's routes use, and nothing else. */
export interface ModelDocumentRouteOptions {
  readonly currentModel: () => Promise<Pick<ModelInspection, 'manifest'>>;
  readonly modelDocuments: ModelDocuments;
  /** An evaluation report's ROC or reliability plot as SVG (workflows/report-charts.ts); undefined for an unknown report. */
  readonly reportChart: (name: string, kind: ReportChartKind) => Promise<string | undefined>;
}

/**
 * A report is Vigil's own HTML (vega charts as inline SVG, inline styles), but it is served with
 * scripts, frames, forms and network access forbidden all the same: it is a document, not an app.
 */
export const REPORT_CSP =
  "default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'none'; frame-ancestors 'self'; base-uri 'none'; form-action 'none'";

/** The model page: manifest, intended use, model card and evaluation reports. */
export const modelDocumentRoutes: FastifyPluginAsync<ModelDocumentRouteOptions> = (app, options) => {
  const api = app.withTypeProvider<ZodTypeProvider>();

  api.get('/api/models/current/card', { config: { access: 'models:read' }, schema: { response: { 200: modelCardSchema } } }, async () => {
    const { manifest } = await options.currentModel();
    const documents = options.modelDocuments;
    return {
      manifest,
      intendedUse: manifest.intendedUse,
      whenUnknown: unknownValueVerdicts(manifest.intendedUse),
      modelCard: await documents.modelCard(),
      reports: [...(await documents.listReports())],
    };
  });

  api.get(
    '/api/models/current/reports/:name',
    { config: { access: 'models:read' }, schema: { params: z.object({ name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/, 'a report name') }) } },
    async (request, reply) => {
      const html = await options.modelDocuments.reportHtml(request.params.name);
      if (html === undefined) throw new PlatformError('ROUTE_NOT_FOUND', 'No evaluation report has this name');
      return reply.type('text/html; charset=utf-8').header('content-security-policy', REPORT_CSP).send(html);
    },
  );

  // The model page's inline plots: SVG drawn on the server (no script), shown with <img>, so even a
  // crafted report could run nothing; the report CSP is sent as well.
  api.get(
    '/api/models/current/reports/:name/charts/:kind',
    {
      config: { access: 'models:read' },
      schema: { params: z.object({ name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/, 'a report name'), kind: z.enum(REPORT_CHART_KINDS) }) },
    },
    async (request, reply) => {
      const svg = await options.reportChart(request.params.name, request.params.kind);
      if (svg === undefined) throw new PlatformError('ROUTE_NOT_FOUND', 'No evaluation report with this plot has this name');
      return reply.type('image/svg+xml; charset=utf-8').header('content-security-policy', REPORT_CSP).send(svg);
    },
  );
  return Promise.resolve();
};
