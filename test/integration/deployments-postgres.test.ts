/**
 * Two `vigil serve` servers (createApiServer, in process) on one PostgreSQL store see a promotion at
 * once: a version promoted at a site through server A is what judges the very next study of that site
 * at server B, which judged the site's last study with the old version, without a restart and with no
 * cache to wait out. A has no background work, so every study here is judged by B.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createTestSchema,
  POSTGRES_SKIP_REASON,
  POSTGRES_TEST_URL,
  postgresSkipNote,
  type TestSchema,
} from '../../src/adapters/store-postgres/internal/test-database.js';
import { PostgresCaseStore } from '../../src/adapters/store-postgres/postgres-study-registry.js';
import { loadConfig } from '../../src/config/load-config.js';
import type { UploadResponse } from '../../src/http/contract.js';
import { createLogger } from '../../src/logging/create-logger.js';
import { createApiServer, createServices, type ApiServer } from '../../src/main.js';
import type { PredictResult } from '../../src/workflows/predict-images.js';
import { bundleVersionId } from '../helpers/bundle-version.js';
import { texturedGreyPng } from '../helpers/images.js';
import { DEMO_MODEL_DIR } from '../helpers/sample-data.js';

describe.skipIf(POSTGRES_SKIP_REASON !== undefined)(`two servers on PostgreSQL see a promotion at once${postgresSkipNote}`, () => {
  let schema: TestSchema | undefined;
  let dir: string | undefined;
  const servers: ApiServer[] = [];
  afterEach(async () => {
    for (const server of servers.splice(0)) await server.close();
    await schema?.drop();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('a promotion made through one server judges the next study at the other', async () => {
    schema = await createTestSchema();
    dir = mkdtempSync(join(tmpdir(), 'vigil-deploy-pg-'));
    writeFileSync(join(dir, 'sites.json'), JSON.stringify({ defaultSite: 'north', sites: [{ id: 'north', name: 'North General' }] }));
    const url = new URL(POSTGRES_TEST_URL);
    url.searchParams.set('options', `-c search_path=${schema.schema}`);
    const config = loadConfig(
      {
        VIGIL_DATA_DIR: join(dir, 'data'),
        VIGIL_DATABASE_URL: url.toString(),
        VIGIL_LOG_LEVEL: 'silent',
        VIGIL_DICOM_PORT: '0',
        VIGIL_STUDY_QUIET_MS: '200',
        VIGIL_INTRA_OP_THREADS: '1',
        VIGIL_MIN_FREE_DISK_BYTES: '1',
        VIGIL_SITES_FILE: join(dir, 'sites.json'),
        VIGIL_REVIEW_SAMPLE_RATE: '0',
      },
      process.cwd(),
    );
    const a = await createApiServer(config, createLogger('silent'));
    servers.push(a);
    const b = await createApiServer(config, createLogger('silent'), { background: true });
    servers.push(b);
    const admin = { authorization: `Bearer ${a.bootstrap?.token ?? ''}` };
    const created = await a.app.inject({ method: 'POST', url: '/api/users', headers: admin, payload: { name: 'sender', role: 'integration' } });
    expect(created.statusCode, created.body).toBe(201);
    const sender = { authorization: `Bearer ${created.json<{ token: string }>().token}` };

    // A second version: the demo with another version string, registered from a CLI process on the same store.
    const demo = bundleVersionId(DEMO_MODEL_DIR);
    const bundle = join(dir, 'candidate');
    cpSync(DEMO_MODEL_DIR, bundle, { recursive: true });
    const manifest = JSON.parse(readFileSync(join(bundle, 'vigil-model.json'), 'utf8')) as { version: string };
    writeFileSync(join(bundle, 'vigil-model.json'), JSON.stringify({ ...manifest, version: '1.0.1-candidate' }, null, 2));
    const cli = createServices(config, createLogger('silent'));
    const candidate = await cli
      .registerModel({ directory: bundle, actor: 'local-cli' })
      .then((r) => r.version.versionId)
      .finally(() => cli.close());

    const cases = new PostgresCaseStore(await schema.open(), { now: () => new Date() });
    let seed = 0;
    /** Uploads one PNG to B and waits for its case; returns the versions that judged it. */
    const judgeAtB = async (): Promise<(string | undefined)[]> => {
      const declaration = { modality: 'CR', bodyPart: 'CHEST', view: 'PA', patientAgeYears: { min: 1, max: 5 }, site: 'north' };
      const body = Buffer.concat([
        Buffer.from(`--b1\r\nContent-Disposition: form-data; name="declaration"\r\n\r\n${JSON.stringify(declaration)}\r\n`),
        Buffer.from('--b1\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\nContent-Type: image/png\r\n\r\n'),
        await texturedGreyPng(++seed),
        Buffer.from('\r\n--b1--\r\n'),
      ]);
      const response = await b.app.inject({
        method: 'POST',
        url: '/api/images',
        headers: { ...sender, 'content-type': 'multipart/form-data; boundary=b1' },
        payload: body,
      });
      expect(response.statusCode, response.body).toBe(201);
      const { studyKey } = response.json<UploadResponse>();
      const deadline = Date.now() + 20_000;
      while (Date.now() < deadline) {
        const [saved] = await cases.listForStudy(studyKey);
        if (saved !== undefined) return (saved.results as PredictResult[]).map((r) => r.model.versionId);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      throw new Error('the study was not judged in time');
    };

    // B judges with the configured version (its model loaded, the deployment read: anything it could cache, it has).
    expect(await judgeAtB()).toEqual([demo]);
    // Promoted through A, while B runs; B judges the next study with it.
    await a.deployments.change('north', { kind: 'start_shadow', versionId: candidate, requestId: null }, 'ml-engineer');
    const promoted = await a.deployments.change('north', { kind: 'promote' }, 'ml-engineer');
    expect([promoted.production, promoted.generation]).toEqual([candidate, 3]);
    expect((await b.deployments.status('north')).production).toBe(candidate);
    expect(await judgeAtB()).toEqual([candidate]);
    // And a rollback through A is the next study's version at B too.
    await a.deployments.change('north', { kind: 'rollback' }, 'ml-engineer');
    expect(await judgeAtB()).toEqual([demo]);
  }, 60_000);
});
