import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load-config.js';
import type { IncidentBody, IncidentDetailBody, MonitoringDetailBody, StudyBody } from '../../src/http/contract.js';
import { DEMO_SHIFT } from '../../src/workflows/seed-monitoring-stream.js';
import type { PredictResult } from '../../src/workflows/predict-images.js';
import { createLogger } from '../../src/logging/create-logger.js';
import { createApiServer, type ApiServer } from '../../src/main.js';
import { hasDicomSamples, PNEUMONIA_NPZ, REPO_ROOT, SAMPLE_DATA } from '../helpers/sample-data.js';
import { existsSync } from 'node:fs';

const hasSamples = hasDicomSamples && existsSync(PNEUMONIA_NPZ);
let dir: string;
let server: ApiServer;
let token: string;

async function get<T>(url: string): Promise<T> {
  const response = await server.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } });
  expect(response.statusCode, url).toBe(200);
  return response.json<T>();
}

describe.skipIf(!hasSamples)(`npm start (serve --demo) seeds an empty store${hasSamples ? '' : ' (skipped: no ../shared/data samples)'}`, () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-seed-'));
    const config = loadConfig(
      {
        VIGIL_DATA_DIR: dir,
        VIGIL_SAMPLE_DATA: SAMPLE_DATA,
        VIGIL_DICOM_PORT: '0',
        VIGIL_STUDY_QUIET_MS: '300',
        VIGIL_INTRA_OP_THREADS: '1',
        VIGIL_MIN_FREE_DISK_BYTES: '1',
      },
      REPO_ROOT,
    );
    server = await createApiServer(config, createLogger('silent'), { background: true });
    const created = await server.app.inject({
      method: 'POST',
      url: '/api/users',
      headers: { authorization: `Bearer ${server.bootstrap?.token ?? ''}` },
      payload: { name: 'engineer', role: 'ml-engineer' },
    });
    token = created.json<{ token: string }>().token;
  });
  afterAll(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('ingests the samples through the real ingest, judges every study, and seeds only once', async () => {
    const outcome = await server.seedDemo();
    expect(outcome.status).toBe('seeded');
    if (outcome.status !== 'seeded') return;
    // 20 DICOM samples (2 more files in the folder are not DICOM) and 24 PneumoniaMNIST images.
    expect(outcome.instances).toBeGreaterThanOrEqual(18);
    expect(outcome.images).toBe(24);
    expect(outcome.refused).toBeGreaterThanOrEqual(1);
    // And a second version with its release request, gates passed, waiting for its two signatures.
    expect(outcome.release).toEqual({ requestId: expect.stringMatching(/^r-/), state: 'validated' });
    const release = await get<{ request: { state: string; requestedBy: { userName: string } }; missingApprovals: unknown[] }>(
      `/api/releases/${outcome.release?.requestId ?? ''}`,
    );
    expect(release.request).toMatchObject({ state: 'validated', requestedBy: { userName: 'demo-ml-engineer' } });
    expect(release.missingApprovals).toHaveLength(2);

    const deadline = Date.now() + 90_000;
    let studies: StudyBody[] = [];
    let results: PredictResult[] = [];
    for (;;) {
      studies = (await get<{ studies: StudyBody[] }>('/api/studies?limit=500')).studies;
      if (studies.length > 0 && studies.every((s) => s.state === 'judged')) {
        const cases = await Promise.all(studies.map((s) => get<{ cases: { results: PredictResult[] }[] }>(`/api/studies/${s.studyKey}`)));
        if (cases.every((c) => c.cases.length === 1)) {
          results = cases.flatMap((c) => c.cases.flatMap((k) => k.results));
          // Images are named inside the store, never by the server's own folders.
          const files = results.map((r) => r.input.file);
          expect(files.length).toBeGreaterThan(24);
          for (const file of files) expect(file).toMatch(/^2\.25\.\d+\/2\.25\.\d+\.(dcm|png|jpg)$/);
          break;
        }
      }
      if (Date.now() > deadline) throw new Error(`studies not all judged: ${JSON.stringify(studies.map((s) => s.state))}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    // Each upload is a study of its own; the DICOM samples group into their studies.
    expect(studies.length).toBeGreaterThan(24);
    // The model decides exactly the 24 PneumoniaMNIST images (declared CR chest PA; no age, so none is
    // refused for it). The gate refuses every DICOM sample: the one chest film is of a 64-year-old.
    const decided = results.filter((r) => r.status === 'decided');
    expect(decided).toHaveLength(24);
    for (const r of decided) expect(r.input.file).toMatch(/\.png$/);
    expect(results.filter((r) => r.input.file.endsWith('.dcm') && r.status !== 'rejected')).toEqual([]);
    expect(
      results
        .filter((r) => r.quality?.reasons.some((x) => x.code === 'patient_age_not_intended' && x.measured === 64))
        .map((r) => r.quality?.reasons.map((x) => x.code)),
    ).toEqual([['patient_age_not_intended']]);

    // What the metrics say about it: the decisions, the gate's refusals, the refer rate, time to result.
    const metrics = await server.app.inject({ method: 'GET', url: '/api/metrics', headers: { authorization: `Bearer ${token}` } });
    const value = (series: string): number => Number(new RegExp(`^${series.replace(/[{}"=.]/g, (c) => `\\${c}`)} (\\S+)$`, 'm').exec(metrics.body)?.[1]);
    expect(value('vigil_decisions_24h{decision="positive"}')).toBeGreaterThan(0);
    expect(value('vigil_gate_rejections_24h')).toBeGreaterThan(10);
    expect(value('vigil_refer_rate_24h')).toBeGreaterThanOrEqual(0);
    expect(value('vigil_result_latency_seconds_24h{quantile="0.95"}')).toBeGreaterThan(0);
    expect(value('vigil_dead_letters')).toBe(0);

    expect(await server.seedDemo()).toEqual({ status: 'skipped', reason: 'store-not-empty' });
  }, 120_000);

  it('then streams in-distribution images and a contrast-shifted device through the upload: the monitors open an incident by themselves', async () => {
    const started = Date.now();
    const streamed = server.streamDemoMonitoring();
    const deadline = started + 480_000;
    let incidents: IncidentBody[] = [];
    while (incidents.length === 0) {
      if (Date.now() > deadline) throw new Error('no incident within 8 minutes of the stream');
      await new Promise((resolve) => setTimeout(resolve, 1000));
      incidents = (await get<{ incidents: IncidentBody[] }>('/api/incidents')).incidents;
    }
    // 1,024 in distribution (val cycled: the 1,000-image baseline, which begins at go-live after the seed's
    // studies are judged, and some in control), then 100 shifted.
    expect(await streamed).toEqual({ status: 'sent', inDistribution: 1024, shifted: 100, failed: 0 });
    const [incident] = incidents;
    expect(incident).toMatchObject({ site: 'default', state: 'open' });
    const detail = await get<IncidentDetailBody>(`/api/incidents/${incident!.incidentId}`);
    // The alarm that opened it came from the shifted device's images (no false alarm before), with example cases.
    const first = detail.alerts.find((a) => a.alertId === incident!.alertIds[0]);
    expect(
      first?.devices.map((d) => d.model),
      JSON.stringify(detail.alerts.map((a) => [a.detector, a.window, a.devices])),
    ).toContain(DEMO_SHIFT.device);
    expect(first?.exampleCaseIds.length).toBeGreaterThan(0);
    const monitoring = await get<MonitoringDetailBody>('/api/monitoring/default?bucket=cases50');
    expect(monitoring.status.openIncident?.incidentId).toBe(incident!.incidentId);
    expect(monitoring.alerts.length).toBeGreaterThan(0);
    // The demo bundle's embedding reference puts the online MMD on its embedding in the baseline plan, in the family budget.
    expect(monitoring.status.reference?.kind).toBe('baseline');
    expect(monitoring.plan?.embeddingNote).toBeNull();
    const mmd = monitoring.plan?.detectors.find((d) => d.kind === 'embedding-mmd');
    expect(mmd).toMatchObject({ id: 'embedding:mmd', arl0: monitoring.plan!.detectorArl0 });
    expect(monitoring.plan!.detectorArl0).toBe(monitoring.plan!.detectors.length * monitoring.plan!.familyArl0);
    // The seed's refused DICOM samples are not in the baseline: its gate-reject reference rate is that of
    // none in 1,000 (Jeffreys, 0.5 / 1,001), not the ≈ 2 % the samples would make it.
    const rejectUp = monitoring.plan?.detectors.find((d) => d.signal === 'gateRejected');
    expect(rejectUp?.p0, JSON.stringify(monitoring.plan?.detectors.map((d) => d.id))).toBeLessThan(0.002);
    // A second start does not stream again: seedDemo skips a store that holds studies, and the stream follows only a seed.
    expect(await server.seedDemo()).toEqual({ status: 'skipped', reason: 'store-not-empty' });
    process.stdout.write(`demo stream: incident ${((Date.now() - started) / 1000).toFixed(0)} s after the stream started\n`);
  }, 600_000);
});
