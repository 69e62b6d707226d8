import { describe, expect, it } from 'vitest';
import { prometheusMetrics, type PrometheusMetricsDependencies } from './prometheus-metrics.js';

const sources = (over: Partial<PrometheusMetricsDependencies> = {}): PrometheusMetricsDependencies => ({
  jobs: { counts: () => Promise.resolve({ ready: 2, leased: 1, done: 7, dead: 1 }) },
  auditSize: () => Promise.resolve(42),
  systemSummary: () =>
    Promise.resolve({
      freeDiskBytes: 1_000,
      queue: {
        byState: { ready: 2, leased: 1, done: 7, dead: 1 },
        byKind: [{ kind: 'infer_study', state: 'ready', count: 2 }],
        deadLetters: [{ jobId: 3, kind: 'deliver_result', attempts: 5, errorCode: 'X', errorMessage: null, updatedAt: '2026-01-01T00:00:00.000Z' }],
      },
      last24h: {
        images: 10,
        commandLineImages: 0,
        gateRejected: 1,
        byGateVerdict: { pass: 9, reject: 1 },
        byDecision: { positive: 3, refer: 1 },
        referRate: 0.25,
        resultLatencyMs: { count: 4, p50: 1500, p95: null },
      },
    }),
  modelPoolStats: () => ({ maxBytes: 100, bytes: 60, models: [] }),
  uptimeSeconds: () => 12.345,
  ...over,
});

describe('prometheusMetrics', () => {
  it('writes the exposition format: each gauge with HELP and TYPE, labelled samples, nulls left out, latency in seconds', async () => {
    const text = await prometheusMetrics(sources());
    expect(text.endsWith('\n')).toBe(true);
    const lines = text.split('\n');
    expect(lines).toContain('# TYPE vigil_jobs gauge');
    expect(lines).toContain('vigil_jobs{state="dead"} 1');
    expect(lines).toContain('vigil_jobs_by_kind{kind="infer_study",state="ready"} 2');
    expect(lines).toContain('vigil_dead_letters 1');
    expect(lines).toContain('vigil_decisions_24h{decision="refer"} 1');
    expect(lines).toContain('vigil_refer_rate_24h 0.25');
    expect(lines).toContain('vigil_result_latency_seconds_24h{quantile="0.5"} 1.5');
    expect(lines.some((l) => l.startsWith('vigil_result_latency_seconds_24h{quantile="0.95"}'))).toBe(false);
    expect(lines).toContain('vigil_audit_entries 42');
    expect(lines).toContain('vigil_model_pool_bytes{kind="limit"} 100');
    expect(lines).toContain('vigil_process_uptime_seconds 12.3');
    // Without result delivery in this process, no delivery counters at all.
    expect(text).not.toContain('vigil_results_delivered_total');
  });

  it('adds the delivery counters per destination when the process delivers results', async () => {
    const text = await prometheusMetrics(sources({ resultDeliveries: () => ({ dicom: { delivered: 4, failed: 1 } }) }));
    expect(text).toContain('# TYPE vigil_results_delivered_total counter\nvigil_results_delivered_total{destination="dicom"} 4\n');
    expect(text).toContain('vigil_result_delivery_failures_total{destination="dicom"} 1\n');
  });
});
