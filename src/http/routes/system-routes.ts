import type { PoolStats } from '../../workflows/model-pool.js';
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

  // Prometheus text exposition format 0.0.4. The decision figures are the store's, over the last 24 hours
  // (the same numbers as the health page), so every server of a cluster reports the same values.
  api.get('/api/metrics', { config: { access: 'system:read' } }, async (_request, reply) => {
    const jobs = await deps.jobs.counts();
    const auditEntries = await deps.services.auditSize();
    const { queue, last24h, freeDiskBytes } = await deps.dashboard.systemSummary();
    const gauge = (name: string, help: string, samples: readonly (readonly [string, number | null])[]): string[] => [
      `# HELP ${name} ${help}`,
      `# TYPE ${name} gauge`,
      ...samples.filter(([, value]) => value !== null).map(([labels, value]) => `${name}${labels} ${value}`),
    ];
    const lines = [
      ...gauge(
        'vigil_jobs',
        'Jobs in the durable queue, by state.',
        Object.entries(jobs).map(([state, n]) => [`{state="${state}"}`, n]),
      ),
      ...gauge(
        'vigil_jobs_by_kind',
        'Jobs in the durable queue, by kind and state.',
        queue.byKind.map((k) => [`{kind="${k.kind}",state="${k.state}"}`, k.count]),
      ),
      ...gauge('vigil_dead_letters', 'Jobs that failed every attempt and wait for an operator.', [['', queue.deadLetters.length]]),
      ...gauge('vigil_images_judged_24h', 'Images judged in the last 24 hours.', [['', last24h.images]]),
      ...gauge(
        'vigil_gate_verdicts_24h',
        'Quality-gate verdicts in the last 24 hours, by verdict.',
        Object.entries(last24h.byGateVerdict).map(([verdict, n]) => [`{verdict="${verdict}"}`, n]),
      ),
      ...gauge('vigil_gate_rejections_24h', 'Images the quality gate rejected in the last 24 hours.', [['', last24h.gateRejected]]),
      ...gauge(
        'vigil_decisions_24h',
        'Model decisions in the last 24 hours, by decision.',
        Object.entries(last24h.byDecision).map(([decision, n]) => [`{decision="${decision}"}`, n]),
      ),
      ...gauge('vigil_refer_rate_24h', 'Share of decisions referred to a human in the last 24 hours.', [['', last24h.referRate]]),
      ...gauge('vigil_result_latency_seconds_24h', "Time from a study's last instance to its result over the last 24 hours, by quantile.", [
        ['{quantile="0.5"}', last24h.resultLatencyMs.p50 === null ? null : last24h.resultLatencyMs.p50 / 1000],
        ['{quantile="0.95"}', last24h.resultLatencyMs.p95 === null ? null : last24h.resultLatencyMs.p95 / 1000],
      ]),
      ...gauge('vigil_free_disk_bytes', "Free bytes on the data folder's disk.", [['', freeDiskBytes]]),
      ...gauge('vigil_audit_entries', 'Entries in the audit log.', [['', auditEntries]]),
      ...modelPoolLines(deps.services.modelPoolStats()),
      ...resultMetricLines(deps),
      // Production monitoring: each detector's statistic and threshold, open incidents (docs/prometheus-alerts.yml).
      ...(await (await deps.services.monitoring()).metricLines()),
      '# HELP vigil_process_uptime_seconds Seconds since the process started.',
      '# TYPE vigil_process_uptime_seconds gauge',
      `vigil_process_uptime_seconds ${process.uptime().toFixed(1)}`,
    ];
    return reply.type('text/plain; version=0.0.4; charset=utf-8').send(lines.join('\n') + '\n');
  });
}

/** The models this process holds open, within VIGIL_MODEL_POOL_BYTES. */
function modelPoolLines(pool: PoolStats): string[] {
  return [
    '# HELP vigil_model_pool_bytes Bytes of model file held open by this process, and its bound (VIGIL_MODEL_POOL_BYTES).',
    '# TYPE vigil_model_pool_bytes gauge',
    `vigil_model_pool_bytes{kind="held"} ${pool.bytes}`,
    `vigil_model_pool_bytes{kind="limit"} ${pool.maxBytes}`,
    '# HELP vigil_models_loaded Models open in this process, by id and version.',
    '# TYPE vigil_models_loaded gauge',
    ...pool.models.map((m) => `vigil_models_loaded{id="${m.model.id}",version="${m.model.version}"} 1`),
  ];
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
