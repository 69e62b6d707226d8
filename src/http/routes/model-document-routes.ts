import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { PlatformError } from '../../domain/errors.js';
import { unknownValueVerdicts } from '../../domain/model/model-manifest.js';
import { REPORT_CHART_KINDS } from '../../workflows/report-charts.js';
import type { HttpDependencies } from '../create-http-app.js';

/**
 * A report is Vigil's own HTML (vega charts as inline SVG, inline styles), but it is served with
 * scripts, frames, forms and network access forbidden all the same: it is a document, not an app.
 */
export const REPORT_CSP =
  "default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'none'; frame-ancestors 'self'; base-uri 'none'; form-action 'none'";

const estimate = z.object({ value: z.number().nullable(), ciLow: z.number().nullable(), ciHigh: z.number().nullable() }).nullable();
const reportListing = z.object({
  name: z.string(),
  createdAt: z.string().nullable(),
  summary: z.object({
    schema: z.string().nullable(),
    model: z.object({ id: z.string().nullable(), version: z.string().nullable(), finding: z.string().nullable() }).nullable(),
    dataset: z.string().nullable(),
    n: z.number().nullable(),
    auroc: estimate,
    sensitivity: estimate,
    specificity: estimate,
    ece: estimate,
    referRate: estimate,
    criteriaPassed: z.boolean().nullable(),
  }),
});
const unknownGrade = z.enum(['warn', 'reject']);
export const modelCardSchema = z.object({
  manifest: z.record(z.string(), z.unknown()),
  intendedUse: z.record(z.string(), z.unknown()),
  /** What the gate says when a value this model restricts is unknown, per check, as the manifest's defaults resolve. */
  whenUnknown: z.object({ modality: unknownGrade, bodyPart: unknownGrade, view: unknownGrade, patientAge: unknownGrade }),
  modelCard: z.string().nullable(),
  reports: z.array(reportListing),
});

/** The model page: manifest, intended use, model card and evaluation reports. */
export function registerModelDocumentRoutes(app: FastifyInstance, deps: HttpDependencies): void {
  const api = app.withTypeProvider<ZodTypeProvider>();

  api.get('/api/models/current/card', { config: { access: 'models:read' }, schema: { response: { 200: modelCardSchema } } }, async () => {
    const { manifest } = await deps.services.currentModel();
    const documents = deps.dashboard.modelDocuments;
    return {
      manifest: manifest as unknown as Record<string, unknown>,
      intendedUse: manifest.intendedUse as unknown as Record<string, unknown>,
      whenUnknown: unknownValueVerdicts(manifest.intendedUse),
      modelCard: await documents.modelCard(),
      reports: [...(await documents.listReports())],
    };
  });

  api.get(
    '/api/models/current/reports/:name',
    { config: { access: 'models:read' }, schema: { params: z.object({ name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/, 'a report name') }) } },
    async (request, reply) => {
      const html = await deps.dashboard.modelDocuments.reportHtml(request.params.name);
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
      const svg = await deps.dashboard.reportChart(request.params.name, request.params.kind);
      if (svg === undefined) throw new PlatformError('ROUTE_NOT_FOUND', 'No evaluation report with this plot has this name');
      return reply.type('image/svg+xml; charset=utf-8').header('content-security-policy', REPORT_CSP).send(svg);
    },
  );
}
