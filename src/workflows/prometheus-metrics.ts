import type { IncidentStore } from '../ports/incident-store.js';
import type { JobQueue } from '../ports/job-queue.js';
import type { DeploymentMonitoring } from './monitoring.js';
import type { PoolStats } from './model-pool.js';
import type { SystemSummary } from './system-summary.js';

/** Results delivered and failed attempts since the process started, per destination. */
export type ResultDeliveryCounts = Readonly<Record<string, { readonly delivered: number; readonly failed: number }>>;

export interface PrometheusMetricsDependencies {
  readonly jobs: Pick<JobQueue, 'counts'>;
  readonly auditSize: () => Promise<number>;
  readonly systemSummary: () => Promise<Pick<SystemSummary, 'queue' | 'last24h' | 'freeDiskBytes'>>;
  readonly modelPoolStats: () => PoolStats;
  /** Absent in a process that delivers no results. */
  readonly resultDeliveries?: (() => ResultDeliveryCounts) | undefined;
  readonly uptimeSeconds: () => number;
  /** Production monitoring: each detector's statistic and threshold, alerts, open incidents (docs/prometheus-alerts.yml). */
  readonly monitorLines?: (() => Promise<readonly string[]>) | undefined;
}

/**
 * `/api/metrics` in the Prometheus text exposition format 0.0.4. The decision figures are the store's,
 * over the last 24 hours (the same numbers as the health page), so every server of a cluster reports
 * the same values; the model pool, deliveries and uptime are this process's.
 */
export async function prometheusMetrics(deps: PrometheusMetricsDependencies): Promise<string> {
  const jobs = await deps.jobs.counts();
  const auditEntries = await deps.auditSize();
  const { queue, last24h, freeDiskBytes } = await deps.systemSummary();
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
    ...modelPoolLines(deps.modelPoolStats()),
    ...resultMetricLines(deps.resultDeliveries?.()),
    ...((await deps.monitorLines?.()) ?? []),
    '# HELP vigil_process_uptime_seconds Seconds since the process started.',
    '# TYPE vigil_process_uptime_seconds gauge',
    `vigil_process_uptime_seconds ${deps.uptimeSeconds().toFixed(1)}`,
  ];
  return lines.join('\n') + '\n';
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
function resultMetricLines(counts: ResultDeliveryCounts | undefined): string[] {
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

/** One gauge in the exposition format: HELP, TYPE, and a sample per labelled value (a null value left out). */
function gauge(name: string, help: string, samples: readonly (readonly [string, number | null])[]): string[] {
  return [
    `# HELP ${name} ${help}`,
    `# TYPE ${name} gauge`,
    ...samples.filter(([, value]) => value !== null).map(([labels, value]) => `${name}${labels} ${value}`),
  ];
}

/** Label values in the exposition format: backslash, quote and newline escaped. */
const label = (value: string): string => value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

/**
 * Each monitored deployment's detectors (statistic and threshold h, labelled by site, version and
 * detector; an alert rule compares the two), the alerts stored, and open incidents by severity. The
 * statistics are the store's, so every server of a cluster reports the same values.
 */
export async function monitorMetricLines(monitoring: DeploymentMonitoring, incidents: Pick<IncidentStore, 'countOpen'>): Promise<readonly string[]> {
  const statistic: [string, number][] = [];
  const threshold: [string, number][] = [];
  const collecting: [string, number][] = [];
  const alerts: [string, number][] = [];
  for (const status of await monitoring.overview()) {
    if (status.versionId === null) continue;
    const base = `site="${label(status.site)}",version="${status.versionId.slice(0, 12)}",role="${status.role}"`;
    collecting.push([`{${base}}`, status.state === 'collecting_baseline' ? 1 : 0]);
    alerts.push([`{${base}}`, status.alerts]);
    if (status.state !== 'monitoring') continue;
    for (const d of await monitoring.detectorStatistics({ site: status.site, versionId: status.versionId })) {
      statistic.push([`{${base},detector="${label(d.id)}"}`, d.statistic]);
      threshold.push([`{${base},detector="${label(d.id)}"}`, d.h]);
    }
  }
  const open = await incidents.countOpen();
  return [
    ...gauge('vigil_monitor_statistic', 'CUSUM statistic of each detector of each monitored deployment (alarm at the threshold).', statistic),
    ...gauge(
      'vigil_monitor_threshold',
      'Decision threshold h of each detector (set for one false alarm per VIGIL_MONITOR_FALSE_ALARM_DAYS per deployment).',
      threshold,
    ),
    ...gauge('vigil_monitor_collecting_baseline', '1 while a deployment collects its production baseline (not yet monitored).', collecting),
    ...gauge('vigil_monitor_alerts', 'Alerts stored for each monitored deployment (up to 500).', alerts),
    ...gauge('vigil_incidents_open', 'Incidents not resolved, by severity.', [
      ['{severity="high"}', open.high],
      ['{severity="medium"}', open.medium],
    ]),
  ];
}
