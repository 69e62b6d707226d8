import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { healthSchema, modelSummarySchema } from '../contract.js';
import type { HttpDependencies } from '../create-http-app.js';

export function registerSystemRoutes(app: FastifyInstance, deps: HttpDependencies): void {
  const api = app.withTypeProvider<ZodTypeProvider>();

  api.get('/api/health', { config: { access: 'public' }, schema: { response: { 200: healthSchema } } }, () =>
    Promise.resolve({ status: 'ok' as const, version: deps.version, time: new Date().toISOString() }),
  );

  api.get('/api/models/current', { config: { access: 'models:read' }, schema: { response: { 200: modelSummarySchema } } }, async () => {
    const inspection = await deps.services.currentModel();
    return { hashVerified: true as const, modelBytes: inspection.modelBytes, manifest: inspection.manifest as unknown as Record<string, unknown> };
  });

  // Prometheus text exposition format 0.0.4.
  api.get('/api/metrics', { config: { access: 'system:read' } }, async (_request, reply) => {
    const jobs = await deps.jobs.counts();
    const auditEntries = await deps.services.auditSize();
    const lines = [
      '# HELP vigil_jobs Jobs in the durable queue, by state.',
      '# TYPE vigil_jobs gauge',
      ...Object.entries(jobs).map(([state, n]) => `vigil_jobs{state="${state}"} ${n}`),
      '# HELP vigil_audit_entries Entries in the audit log.',
      '# TYPE vigil_audit_entries gauge',
      `vigil_audit_entries ${auditEntries}`,
      ...resultMetricLines(deps),
      '# HELP vigil_process_uptime_seconds Seconds since the process started.',
      '# TYPE vigil_process_uptime_seconds gauge',
      `vigil_process_uptime_seconds ${process.uptime().toFixed(1)}`,
    ];
    return reply.type('text/plain; version=0.0.4; charset=utf-8').send(lines.join('\n') + '\n');
  });
}

/** Counters since the process started (Prometheus resets are fine: rate() handles them). */
function resultMetricLines(deps: HttpDependencies): string[] {
  const counts = deps.resultDeliveries?.();
  if (counts === undefined) return [];
  const entries = Object.entries(counts);
  return [
    '# HELP vigil_results_delivered_total Results delivered (SR by C-STORE, FHIR by webhook), by destination.',
    '# TYPE vigil_results_delivered_total counter',
    ...entries.map(([destination, c]) => `vigil_results_delivered_total{destination="${destination}"} ${c.delivered}`),
    '# HELP vigil_result_delivery_failures_total Failed delivery attempts (each is retried, then dead-lettered), by destination.',
    '# TYPE vigil_result_delivery_failures_total counter',
    ...entries.map(([destination, c]) => `vigil_result_delivery_failures_total{destination="${destination}"} ${c.failed}`),
  ];
}
