/**
 * The embedding summary in the running server: a version whose monitoring-reference.json carries an
 * embedding projection has, for each judged image, its embedding (the model's `embedding` output, as the
 * inference chain computed it while judging) projected and stored with the case's values, bit for bit
 * the float32 projection of the same image's embedding computed here from the same bundle.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FsModelBundleSource } from '../../src/adapters/model-bundle-fs/fs-model-bundle-source.js';
import { OnnxModelRunner } from '../../src/adapters/onnx-runtime/onnx-model-runner.js';
import { openSqliteDatabase } from '../../src/adapters/store-sqlite/open-sqlite.js';
import { SqliteMonitorStore } from '../../src/adapters/store-sqlite/sqlite-monitor-store.js';
import { loadConfig } from '../../src/config/load-config.js';
import { SeededRandom } from '../../src/domain/evaluation/random.js';
import { buildFrame } from '../../src/domain/image/frame-builder.js';
import { MONITOR_SIGNAL_NAMES, signalVectorOf } from '../../src/domain/monitoring/case-signals.js';
import { fitEmbeddingProjection, projectEmbedding, roundSummary } from '../../src/domain/monitoring/embedding-summary.js';
import { embeddingSectionOf, MONITORING_REFERENCE_FILE, monitoringReferenceFileOf } from '../../src/domain/monitoring/monitoring-reference-file.js';
import { preprocessFrame } from '../../src/domain/preprocessing/preprocess.js';
import type { MonitoringOverviewBody } from '../../src/http/contract.js';
import { createLogger } from '../../src/logging/create-logger.js';
import { createApiServer, type ApiServer } from '../../src/main.js';
import { imageMeasures, openMonitoring, SITE, TEST_SETTINGS, V2 } from '../fixtures/monitoring/open-monitoring.js';
import { sqliteMonitoringStores } from '../fixtures/monitoring/sqlite-monitoring-stores.js';
import { createSteppingClock } from '../../src/ports/audit-log.contract.js';
import type { VersionEmbedding } from '../../src/workflows/monitoring.js';
import { texturedGreyPng } from '../helpers/images.js';
import { DEMO_MODEL_DIR, REPO_ROOT } from '../helpers/sample-data.js';

let dir: string | undefined;
let server: ApiServer | undefined;
afterAll(async () => {
  await server?.close();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

/** The 64 × 64 grey raster texturedGreyPng(seed) encodes (PNG is lossless). */
function texturedPixels(seed: number): Uint8Array {
  const pixels = new Uint8Array(64 * 64);
  for (let i = 0; i < pixels.length; i++) pixels[i] = (((i * 7919 + seed * 104729) % 251) + (i % 64) * 2) % 256;
  return pixels;
}

describe('the embedding summary in the running server', () => {
  it('stores each judged image’s projection, made with the version reference’s components, as the chain computed it', async () => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-monitor-embedding-'));
    const modelDir = join(dir, 'model');
    cpSync(DEMO_MODEL_DIR, modelDir, { recursive: true });
    const bundle = await new FsModelBundleSource().loadBundle(modelDir);
    const session = await new OnnxModelRunner({ executionProvider: 'cpu', intraOpThreads: 1 }).createSession(bundle);
    const random = new SeededRandom(11);
    let expected: Float32Array;
    try {
      // A version reference of 80 images: signal values as a deployment's reference, and the embeddings of
      // 80 random inputs in the model's value range, from which the projection is fitted.
      const n = 80;
      const inputs = Float32Array.from({ length: n * 784 }, () => -2 + 4 * random.nextFloat());
      const out = await session.run(inputs, n);
      const rows = Array.from({ length: n }, (_, i) => out.embedding!.data.slice(i * 64, (i + 1) * 64));
      const projection = fitEmbeddingProjection(rows);
      const vectors = Array.from({ length: n }, () => signalVectorOf(imageMeasures(random)));
      const columns = new Map(MONITOR_SIGNAL_NAMES.map((name, j) => [name, vectors.map((v) => v[j]!)]));
      const file = {
        ...monitoringReferenceFileOf(columns, 'random inputs (test)'),
        embedding: embeddingSectionOf(
          'embedding',
          projection,
          rows.map((r) => roundSummary(projectEmbedding(projection, r))),
        ),
      };
      writeFileSync(join(modelDir, MONITORING_REFERENCE_FILE), JSON.stringify(file));
      // What the chain will compute for the uploaded image: the same preprocessing, the same model.
      const frame = buildFrame(texturedPixels(1), 64, 64, { source: 'raster', bitsAllocated: 8, bitsStored: 8 });
      const single = await session.run(preprocessFrame(frame, bundle.manifest).tensor, 1);
      expected = roundSummary(projectEmbedding(projection, single.embedding!.data));
    } finally {
      await session.close();
    }

    const config = loadConfig(
      {
        VIGIL_DATA_DIR: join(dir, 'data'),
        VIGIL_MODEL_DIR: modelDir,
        VIGIL_INTRA_OP_THREADS: '1',
        VIGIL_STUDY_QUIET_MS: '100',
        VIGIL_DICOM_PORT: '0',
        VIGIL_MIN_FREE_DISK_BYTES: '1',
      },
      REPO_ROOT,
    );
    server = await createApiServer(config, createLogger('silent'), { background: true });
    const admin = { authorization: `Bearer ${server.bootstrap?.token ?? ''}` };
    const created = await server.app.inject({ method: 'POST', url: '/api/users', headers: admin, payload: { name: 'sender', role: 'integration' } });
    const sender = { authorization: `Bearer ${created.json<{ token: string }>().token}` };
    const declaration = { modality: 'CR', bodyPart: 'CHEST', view: 'PA', patientAgeYears: { min: 1, max: 5 } };
    const body = Buffer.concat([
      Buffer.from(`--b1\r\nContent-Disposition: form-data; name="declaration"\r\n\r\n${JSON.stringify(declaration)}\r\n`),
      Buffer.from('--b1\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\nContent-Type: image/png\r\n\r\n'),
      await texturedGreyPng(1),
      Buffer.from('\r\n--b1--\r\n'),
    ]);
    const response = await server.app.inject({
      method: 'POST',
      url: '/api/images',
      headers: { ...sender, 'content-type': 'multipart/form-data; boundary=b1' },
      payload: body,
    });
    expect(response.statusCode, response.body).toBe(201);
    const deadline = Date.now() + 45_000;
    let overview: MonitoringOverviewBody | undefined;
    while (Date.now() < deadline) {
      overview = (await server.app.inject({ url: '/api/monitoring', headers: admin })).json<MonitoringOverviewBody>();
      // Cases are appended before the plan is designed: wait for both.
      if ((overview.deployments[0]?.cases ?? 0) >= 1 && overview.deployments[0]?.reference != null) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const deployment = overview?.deployments[0];
    // The version reference makes the deployment monitored from its first study.
    expect(deployment).toMatchObject({ site: 'default', cases: 1, reference: { kind: 'version', cases: 80 } });

    const db = openSqliteDatabase({ dataDir: join(dir, 'data') });
    try {
      const cases = await new SqliteMonitorStore(db).readCases({ site: 'default', versionId: deployment!.versionId! }, 0, 10);
      expect(cases).toHaveLength(1);
      const stored = cases[0]!.embedding;
      expect(stored).toBeInstanceOf(Float32Array);
      expect(Array.from(stored!)).toEqual(Array.from(expected));
      expect(cases[0]!.values[MONITOR_SIGNAL_NAMES.indexOf('gateRejected')]).toBe(0);
    } finally {
      db.close();
    }
  }, 90_000);
});

describe('recordJudged and the version’s embedding reference', () => {
  const cleanups: (() => void | Promise<void>)[] = [];
  afterAll(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });
  const fx = JSON.parse(readFileSync(new URL('../fixtures/monitoring/embedding-summary.json', import.meta.url), 'utf8')) as {
    reference: number[][];
    test: number[][];
  };
  const projection = fitEmbeddingProjection(fx.reference);
  const reference: VersionEmbedding = { kind: 'projection', reference: { output: 'embedding', projection, projected: [] } };

  it('stores the projection of each decided image, none for a rejected one, and keeps the values when the reference cannot be read', async () => {
    const stores = sqliteMonitoringStores(cleanups, 'vigil-monitor-embedding-wf-');
    let reads = 0;
    const versionEmbedding = (): Promise<VersionEmbedding> => (++reads === 1 ? Promise.reject(new Error('archive unreadable')) : Promise.resolve(reference));
    const { monitoring } = await openMonitoring(stores, createSteppingClock(Date.UTC(2026, 11, 7, 12), 60_000), TEST_SETTINGS, true, { versionEmbedding });
    const random = new SeededRandom(3);
    const judge = (n: number, embeddings: (Float32Array | undefined)[]) =>
      monitoring.recordJudged({
        site: SITE,
        versionId: V2,
        origin: 'production',
        caseId: `case-${n}`,
        studyKey: `sk-${n}`,
        images: embeddings.map((embedding, i) => ({
          imageRef: `s${n}/i${i}.dcm`,
          measures: { ...imageMeasures(random), ...(embedding === undefined ? {} : { embedding }) },
          device: null,
        })),
      });
    const e0 = Float32Array.from(fx.test[0]!);
    const e1 = Float32Array.from(fx.test[1]!);
    await judge(1, [e0]); // the reference read fails: the values are kept, without a summary
    await judge(2, [e0, undefined, e1]); // read again (a failure is not remembered)
    const cases = await stores.monitor.readCases({ site: SITE, versionId: V2 }, 0, 10);
    expect(cases).toHaveLength(4);
    expect(cases[0]!.embedding).toBeNull();
    expect(Array.from(cases[1]!.embedding!)).toEqual(Array.from(roundSummary(projectEmbedding(projection, e0))));
    expect(cases[2]!.embedding).toBeNull();
    expect(Array.from(cases[3]!.embedding!)).toEqual(Array.from(roundSummary(projectEmbedding(projection, e1))));
    expect(reads).toBe(2);
    await judge(3, [e1]);
    expect(reads).toBe(2); // read once per version after that
  });
});

describe('the embedding detector in a deployment’s monitors', () => {
  const cleanups: (() => void | Promise<void>)[] = [];
  afterAll(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });
  const fx = JSON.parse(readFileSync(new URL('../fixtures/monitoring/embedding-summary.json', import.meta.url), 'utf8')) as { reference: number[][] };
  const projection = fitEmbeddingProjection(fx.reference);
  const reference: VersionEmbedding = {
    kind: 'projection',
    reference: { output: 'embedding', projection, projected: fx.reference.map((r) => roundSummary(projectEmbedding(projection, r))) },
  };

  it('joins a baseline plan from the version’s embedding reference, consumes the stored summaries, and alarms on a moved embedding as a medium, audited alert', async () => {
    const stores = sqliteMonitoringStores(cleanups, 'vigil-monitor-mmd-');
    const settings = { ...TEST_SETTINGS, embeddingBootstraps: 2000 };
    const { monitoring } = await openMonitoring(stores, createSteppingClock(Date.UTC(2026, 11, 8, 12), 60_000), settings, true, {
      versionEmbedding: () => Promise.resolve(reference),
    });
    const random = new SeededRandom(5);
    const d = projection.dimension;
    // In control: the reference images' own embeddings, resampled; moved: each pushed 3 SD along the first component.
    const along = Math.sqrt(projection.variances[0]!) * 3;
    const embeddingOf = (moved: boolean): Float32Array => {
      const row = fx.reference[random.nextInt(fx.reference.length)]!;
      return Float32Array.from(row, (v, j) => v + (moved ? along * projection.components[j]! : 0));
    };
    const judge = (n: number, moved: boolean) =>
      monitoring.recordJudged({
        site: SITE,
        versionId: V2,
        origin: 'production',
        caseId: `case-${n}`,
        studyKey: `sk-${n}`,
        images: [{ imageRef: `s${n}/i0.dcm`, measures: { ...imageMeasures(random), embedding: embeddingOf(moved) }, device: null }],
      });
    let n = 0;
    for (; n < TEST_SETTINGS.baselineCases + 150; n++) expect(await judge(n, false)).toEqual([]);
    const detail = await monitoring.detail(SITE, 'hour');
    const mmd = detail.plan?.detectors.find((x) => x.kind === 'embedding-mmd');
    expect(detail.status.reference).toMatchObject({ kind: 'baseline' });
    expect(detail.plan?.embeddingNote).toBeNull();
    expect(mmd).toMatchObject({ id: 'embedding:mmd', signal: 'embedding', direction: 'up', arl0: detail.plan!.detectorArl0, p0: null });
    expect(detail.plan!.detectorArl0).toBe(detail.plan!.detectors.length * detail.plan!.familyArl0); // K counts it
    expect(mmd!.statistic).toBeLessThan(mmd!.h);
    expect(d).toBe(64);

    const alerts = [];
    for (const stop = n + 60; n < stop && alerts.length === 0; n++) alerts.push(...(await judge(n, true)).filter((a) => a.alert.detector === 'embedding:mmd'));
    expect(alerts).toHaveLength(1);
    const alert = alerts[0]!;
    expect(alert.alert).toMatchObject({
      signal: 'embedding',
      label: 'representation of the image (embedding)',
      effect: { kind: 'embedding-mmd', windowSize: 20 },
    });
    expect(alert.alert.statistic).toBeGreaterThan(alert.alert.threshold);
    expect(alert.exampleCaseIds.length).toBeGreaterThan(0);
    const incident = await stores.incidents.get(alert.incidentId!);
    expect(incident?.severity).toBe('medium');
    const events = (await stores.search.search({ limit: 1_000 })).entries.map((e) => e.event);
    expect(events).toContainEqual(expect.objectContaining({ type: 'monitor_alert', alertId: alert.alertId, detector: 'embedding:mmd' }));
    const listed = await monitoring.alerts({ site: SITE, limit: 10 });
    expect(listed.find((a) => a.alertId === alert.alertId)).toMatchObject({ arl0: alert.alert.arl0, runLength: alert.alert.runLength });
  }, 120_000);

  it('says why a plan has no embedding detector when the version has no embedding reference', async () => {
    const stores = sqliteMonitoringStores(cleanups, 'vigil-monitor-mmd-none-');
    const { monitoring } = await openMonitoring(stores, createSteppingClock(Date.UTC(2026, 11, 8, 12), 60_000), TEST_SETTINGS, true, {
      versionEmbedding: () => Promise.resolve({ kind: 'none', reason: 'the version carries no monitoring-reference.json' }),
    });
    const random = new SeededRandom(6);
    for (let n = 0; n < TEST_SETTINGS.baselineCases; n++)
      await monitoring.recordJudged({
        site: SITE,
        versionId: V2,
        origin: 'production',
        caseId: `case-${n}`,
        studyKey: `sk-${n}`,
        images: [{ imageRef: `s${n}/i0.dcm`, measures: imageMeasures(random), device: null }],
      });
    const detail = await monitoring.detail(SITE, 'hour');
    expect(detail.plan?.detectors.some((x) => x.kind === 'embedding-mmd')).toBe(false);
    expect(detail.plan?.embeddingNote).toBe('the embedding is not watched: the version carries no monitoring-reference.json');
  }, 120_000);
});
