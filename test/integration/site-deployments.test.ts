import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeHasher } from '../../src/adapters/crypto-node/node-hasher.js';
import { openSqliteDatabase, type SqliteDatabase } from '../../src/adapters/store-sqlite/open-sqlite.js';
import { SqliteAccessStore } from '../../src/adapters/store-sqlite/sqlite-access-store.js';
import { SqliteAuditSearch } from '../../src/adapters/store-sqlite/sqlite-audit-search.js';
import { SqliteDeploymentStore } from '../../src/adapters/store-sqlite/sqlite-deployment-store.js';
import { SqliteModelRegistry } from '../../src/adapters/store-sqlite/sqlite-model-registry.js';
import { SqliteCaseStore } from '../../src/adapters/store-sqlite/sqlite-study-registry.js';
import { SqliteWorklistStore } from '../../src/adapters/store-sqlite/sqlite-worklist-store.js';
import { loadConfig } from '../../src/config/load-config.js';
import type { CaseRecord } from '../../src/ports/case-store.js';
import { parseSitesConfig } from '../../src/domain/deployment/sites.js';
import type { UploadResponse } from '../../src/http/contract.js';
import { createLogger } from '../../src/logging/create-logger.js';
import { createApiServer, createServices, type ApiServer } from '../../src/main.js';
import { Deployments } from '../../src/workflows/deployments.js';
import type { PredictResult } from '../../src/workflows/predict-images.js';
import type { VigilServices } from '../../src/workflows/vigil-services.js';
import { bundleVersionId } from '../helpers/bundle-version.js';
import { texturedGreyPng } from '../helpers/images.js';
import { DEMO_MODEL_DIR, REPO_ROOT } from '../helpers/sample-data.js';

/**
 * Deployments per site, on a running server: every study is judged by its site's deployment as it is
 * when the study is judged. A promotion, a rollback or a pause made while the server runs (here from a
 * second process on the same store, as an operator's command would) takes effect at the next study,
 * without a restart; a shadow changes nothing a site receives.
 */
describe('a running server judges each study by its site’s deployment', () => {
  let dir: string;
  let server: ApiServer;
  let cli: VigilServices;
  let db: SqliteDatabase;
  let deployments: Deployments;
  let token = '';
  const demo = bundleVersionId(DEMO_MODEL_DIR);
  let candidate = '';

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-deployments-'));
    const sites = {
      defaultSite: 'north',
      sites: [
        { id: 'north', name: 'North General' },
        { id: 'south', name: 'South' },
      ],
    };
    writeFileSync(join(dir, 'sites.json'), JSON.stringify(sites));
    const env = {
      VIGIL_DATA_DIR: join(dir, 'data'),
      VIGIL_DICOM_PORT: '0',
      VIGIL_STUDY_QUIET_MS: '200',
      VIGIL_INTRA_OP_THREADS: '1',
      VIGIL_MIN_FREE_DISK_BYTES: '1',
      VIGIL_SITES_FILE: join(dir, 'sites.json'),
      VIGIL_REVIEW_SAMPLE_RATE: '0',
    };
    const config = loadConfig(env, REPO_ROOT);
    const logger = createLogger('warn', { write: () => undefined });
    server = await createApiServer(config, logger, { background: true });
    // A second version: the demo with another version string (another bundle, another content address).
    const bundle = join(dir, 'candidate');
    cpSync(DEMO_MODEL_DIR, bundle, { recursive: true });
    const manifest = JSON.parse(readFileSync(join(bundle, 'vigil-model.json'), 'utf8')) as { version: string };
    writeFileSync(join(bundle, 'vigil-model.json'), JSON.stringify({ ...manifest, version: '1.0.1-candidate' }, null, 2));
    cli = createServices(config, logger);
    candidate = (await cli.registerModel({ directory: bundle, actor: 'local-cli' })).version.versionId;
    // Removed after registering: what is deployed is read back from the registry's archive, by hash.
    rmSync(bundle, { recursive: true });
    db = openSqliteDatabase({ dataDir: join(dir, 'data') });
    deployments = new Deployments({
      store: new SqliteDeploymentStore(db),
      registry: new SqliteModelRegistry(db),
      sites: parseSitesConfig(sites),
      hasher: nodeHasher,
      clock: { now: () => new Date() },
      recordAudit: (event) => cli.recordAudit(event),
      auditSearch: new SqliteAuditSearch(db),
    });
    const access = new SqliteAccessStore(db, { now: () => new Date() });
    // An account bound to no site: the site each upload declares counts (domain/deployment/sites.ts).
    const sender = await access.createUser('sender', 'integration');
    token = (await access.issueToken(sender.userId, 'test')).secret;
  }, 60_000);
  afterAll(async () => {
    await server?.close();
    await cli?.close();
    db?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  let seed = 0;
  /** Uploads one PNG as if from the site and waits for its case; returns the case's results. */
  const judge = async (
    site: string,
  ): Promise<{ studyKey: string; results: PredictResult[]; reasons: string[]; model: CaseRecord['model']; modalities: string[] }> => {
    const declaration = { modality: 'CR', bodyPart: 'CHEST', view: 'PA', patientAgeYears: { min: 1, max: 5 }, site };
    const boundary = 'b1';
    const body = Buffer.concat([
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="declaration"\r\n\r\n${JSON.stringify(declaration)}\r\n`),
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\nContent-Type: image/png\r\n\r\n`),
      await texturedGreyPng(++seed),
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]);
    const response = await server.app.inject({
      method: 'POST',
      url: '/api/images',
      headers: { authorization: `Bearer ${token}`, 'content-type': `multipart/form-data; boundary=${boundary}` },
      payload: body,
    });
    expect(response.statusCode, response.body).toBe(201);
    const { studyKey } = response.json<UploadResponse>();
    const cases = new SqliteCaseStore(db, { now: () => new Date() });
    const worklist = new SqliteWorklistStore(db, { now: () => new Date() });
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      const [saved] = await cases.listForStudy(studyKey);
      if (saved !== undefined) {
        const items = await worklist.listForCase(saved.caseId);
        return {
          studyKey,
          results: saved.results as PredictResult[],
          reasons: items.flatMap((i) => i.reasons),
          model: saved.model,
          modalities: items.flatMap((i) => [...i.modalities]),
        };
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error('the study was not judged in time');
  };
  const versionOf = (judged: { results: PredictResult[] }): (string | undefined)[] => judged.results.map((r) => r.model.versionId);

  it('starts with the configured model in production at every site, registered and audited once', async () => {
    expect((await deployments.list()).map((d) => [d.site, d.production, d.generation, d.updatedBy])).toEqual([
      ['north', demo, 1, 'system'],
      ['south', demo, 1, 'system'],
    ]);
    expect(versionOf(await judge('north'))).toEqual([demo]);
  }, 60_000);

  it('a shadow judges beside production, its agreement is recorded, and what the site receives is the same as without it', async () => {
    await deployments.change('south', { kind: 'start_shadow', versionId: candidate, requestId: null }, 'ml-engineer');
    const shadowed = await judge('south');
    const alone = await judge('north');
    expect(versionOf(shadowed)).toEqual([demo]);
    // Production's own judgement either way (each upload is another image: compare what does not depend on it).
    const judgedBy = (j: typeof shadowed) => j.results.map((r) => [r.status, r.model, r.outputs.length]);
    expect(judgedBy(shadowed)).toEqual(judgedBy(alone));
    expect(await new SqliteDeploymentStore(db).shadowSummary('south', candidate)).toMatchObject({ cases: 1, images: 1 });
  }, 60_000);

  it('a promotion takes effect at the next study without a restart, and a rollback restores the previous version by hash', async () => {
    await deployments.change('south', { kind: 'promote' }, 'ml-engineer');
    expect(versionOf(await judge('south'))).toEqual([candidate]);
    expect(versionOf(await judge('north'))).toEqual([demo]);
    const rolledBack = await deployments.change('south', { kind: 'rollback' }, 'ml-engineer');
    expect(rolledBack.production).toBe(demo);
    expect(versionOf(await judge('south'))).toEqual([demo]);
  }, 90_000);

  it('a paused site sends every study to review unjudged, with the reason; resuming judges again', async () => {
    await deployments.change('north', { kind: 'pause', reason: 'input drift under investigation' }, 'clinician');
    const paused = await judge('north');
    expect(paused.results.map((r) => [r.status, r.error?.code])).toEqual([['error', 'DEPLOYMENT_PAUSED']]);
    expect(paused.results[0]?.error?.message).toContain('input drift under investigation');
    expect(paused.reasons).toEqual(['not_judged']);
    // The case says no model judged it (it names the site's deployment, marked), and its item says what was received.
    expect(paused.model.judged).toBe(false);
    expect(paused.results.every((r) => r.model.judged === false)).toBe(true);
    expect(paused.modalities).toEqual(['CR']);
    await deployments.change('north', { kind: 'resume' }, 'clinician');
    const resumed = await judge('north');
    expect(resumed.results.map((r) => r.status)).not.toContain('error');
    expect(resumed.model.judged).toBeUndefined();
  }, 60_000);
});
