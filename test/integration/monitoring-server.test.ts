/**
 * The server records what its inference chain measured for each judged image (no second decode): a
 * PNG upload judged by the real worker appears in the deployment's monitor values, with the chain's
 * probability, gate verdict, image features, noise estimate and OOD distance, and its status says
 * "collecting baseline".
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openSqliteDatabase } from '../../src/adapters/store-sqlite/open-sqlite.js';
import { SqliteMonitorStore } from '../../src/adapters/store-sqlite/sqlite-monitor-store.js';
import { loadConfig } from '../../src/config/load-config.js';
import type { MonitorCasesPageBody, MonitoringOverviewBody, UploadResponse } from '../../src/http/contract.js';
import { createLogger } from '../../src/logging/create-logger.js';
import { createApiServer, type ApiServer } from '../../src/main.js';
import { texturedGreyPng } from '../helpers/images.js';
import { REPO_ROOT } from '../helpers/sample-data.js';

let dir: string | undefined;
let server: ApiServer | undefined;
afterAll(async () => {
  await server?.close();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

describe('monitoring in the running server', () => {
  it('appends each judged image’s chain measurements to its deployment, as the study is judged', async () => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-monitor-server-'));
    const config = loadConfig(
      {
        VIGIL_DATA_DIR: dir,
        VIGIL_INTRA_OP_THREADS: '1',
        VIGIL_STUDY_QUIET_MS: '100',
        VIGIL_DICOM_PORT: '0',
        VIGIL_MIN_FREE_DISK_BYTES: '1',
        VIGIL_MONITOR_BASELINE_CASES: '50',
      },
      REPO_ROOT,
    );
    server = await createApiServer(config, createLogger('silent'), { background: true });
    const admin = { authorization: `Bearer ${server.bootstrap?.token ?? ''}` };
    const created = await server.app.inject({ method: 'POST', url: '/api/users', headers: admin, payload: { name: 'sender', role: 'integration' } });
    const sender = { authorization: `Bearer ${created.json<{ token: string }>().token}` };
    const declaration = { modality: 'CR', bodyPart: 'CHEST', view: 'PA', patientAgeYears: { min: 1, max: 5 }, device: 'Ward 3 portable' };
    for (let seed = 1; seed <= 2; seed++) {
      const body = Buffer.concat([
        Buffer.from(`--b1\r\nContent-Disposition: form-data; name="declaration"\r\n\r\n${JSON.stringify(declaration)}\r\n`),
        Buffer.from('--b1\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\nContent-Type: image/png\r\n\r\n'),
        await texturedGreyPng(seed),
        Buffer.from('\r\n--b1--\r\n'),
      ]);
      const response = await server.app.inject({
        method: 'POST',
        url: '/api/images',
        headers: { ...sender, 'content-type': 'multipart/form-data; boundary=b1' },
        payload: body,
      });
      expect(response.statusCode, response.body).toBe(201);
      expect(response.json<UploadResponse>().studyKey).toMatch(/^st-/);
    }
    const deadline = Date.now() + 30_000;
    let overview: MonitoringOverviewBody | undefined;
    while (Date.now() < deadline) {
      overview = (await server.app.inject({ url: '/api/monitoring', headers: admin })).json<MonitoringOverviewBody>();
      if ((overview.deployments[0]?.cases ?? 0) >= 2) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(overview?.deployments[0]).toMatchObject({
      site: 'default',
      role: 'production',
      state: 'collecting_baseline',
      baseline: { collected: 2, needed: 50 },
      cases: 2,
    });
    expect(overview?.operations.last24h.images).toBeGreaterThanOrEqual(2);
    const page = (await server.app.inject({ url: '/api/monitoring/default/cases', headers: admin })).json<MonitorCasesPageBody>();
    expect(page.cases).toHaveLength(2);
    for (const c of page.cases) {
      expect(c.origin).toBe('production');
      expect(c.device).toEqual({ manufacturer: null, model: 'Ward 3 portable' });
      // What the chain measured: a calibrated probability, gate indicators, the features, noise and OOD distance.
      expect(c.values.gateRejected).toBe(0);
      for (const name of ['probability', 'mean', 'std', 'laplacianVariance', 'noise', 'oodDistance']) expect(Number.isFinite(c.values[name]), name).toBe(true);
      expect(c.values.probability).toBeGreaterThanOrEqual(0);
      expect(c.values.probability).toBeLessThanOrEqual(1);
    }
    // Paged by cursor through a point's last case: one case a page, `next` only while one follows.
    const pageOf = async (q: string) => (await server!.app.inject({ url: `/api/monitoring/default/cases?${q}`, headers: admin })).json<MonitorCasesPageBody>();
    const [one, two] = page.cases;
    const first = await pageOf(`limit=1&through=${two!.seq}`);
    expect([first.cases.map((c) => c.seq), first.next]).toEqual([[one!.seq], one!.seq]);
    const second = await pageOf(`limit=1&after=${first.next!}&through=${two!.seq}`);
    expect([second.cases.map((c) => c.seq), second.next]).toEqual([[two!.seq], null]);
    // The demo version's monitoring-reference.json carries only its embedding reference: each judged image's
    // projection (k = 8) is stored, while its signals still collect a production baseline (above).
    const db = openSqliteDatabase({ dataDir: dir });
    try {
      const stored = await new SqliteMonitorStore(db).readCases({ site: 'default', versionId: overview!.deployments[0]!.versionId! }, 0, 10);
      expect(stored).toHaveLength(2);
      for (const c of stored) {
        expect(c.embedding).toBeInstanceOf(Float32Array);
        expect(c.embedding).toHaveLength(8);
        expect(Array.from(c.embedding!).every((v) => Number.isFinite(v))).toBe(true);
      }
    } finally {
      db.close();
    }
    const metrics = (await server.app.inject({ url: '/api/metrics', headers: admin })).body;
    expect(metrics).toMatch(/^vigil_monitor_collecting_baseline\{site="default",version="[0-9a-f]{12}",role="production"\} 1$/m);
    expect(metrics).toContain('vigil_incidents_open{severity="high"} 0');
  }, 60_000);
});
