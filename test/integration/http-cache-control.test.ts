import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildPart10, el, imageDataset } from '../../src/adapters/dicom-dcmjs/internal/test-builders.js';
import { SqliteAccessStore } from '../../src/adapters/store-sqlite/sqlite-access-store.js';
import { SqliteJobQueue } from '../../src/adapters/store-sqlite/sqlite-job-queue.js';
import { openSqliteDatabase, type SqliteDatabase } from '../../src/adapters/store-sqlite/open-sqlite.js';
import { SqliteCaseStore, SqliteStudyRegistry } from '../../src/adapters/store-sqlite/sqlite-study-registry.js';
import { SqliteWorklistStore } from '../../src/adapters/store-sqlite/sqlite-worklist-store.js';
import { SqliteReleaseStore } from '../../src/adapters/store-sqlite/sqlite-release-store.js';
import { SqliteDeploymentStore } from '../../src/adapters/store-sqlite/sqlite-deployment-store.js';
import { SqliteIncidentStore } from '../../src/adapters/store-sqlite/sqlite-incident-store.js';
import { openIncident } from '../../src/domain/incident/incident.js';
import type { ReleaseRequest } from '../../src/domain/release/release-request.js';
import { ROLES, type Role } from '../../src/domain/access/roles.js';
import { loadConfig } from '../../src/config/load-config.js';
import { listRoutes } from '../../src/http/create-http-app.js';
import { createLogger } from '../../src/logging/create-logger.js';
import { createApiServer, type ApiServer } from '../../src/main.js';
import { texturedGreyPng } from '../helpers/images.js';
import { runVigil } from '../helpers/run-vigil.js';
import { DEMO_MODEL_DIR, REPO_ROOT } from '../helpers/sample-data.js';

// Field findings I, item 8: clinical content must not be cached. Every registered route is called
// once so that it succeeds (a route without a way to succeed here fails the test), and every answer
// (successes, errors, the image, FHIR and DICOMweb) must say `Cache-Control: no-store`; the only
// exception is a hashed dashboard asset served successfully.

const NO_STORE = 'no-store';
const ASSET_CACHING = 'public, max-age=31536000, immutable';

let dir: string;
let server: ApiServer;
let app: FastifyInstance;
let db: SqliteDatabase;
const tokens = new Map<Role, string>();
let signingToken = '';
const userIds = new Map<Role, string>();
let spareTokens: string[] = [];
let judgedCaseId: string;
let studyKey: string;
let itemId: string;
let deadJobId: number;
let versionId: string;
let png: Buffer;
let studyUid: string;
let srSeriesUid: string;
let srSopUid: string;
/** Release requests, one in the state each release route succeeds from (made by POST /api/releases, then moved on in the store). */
const release: Record<'sign' | 'shadow' | 'canary' | 'promote' | 'gates' | 'evidence', string> = {
  sign: '',
  shadow: '',
  canary: '',
  promote: '',
  gates: '',
  evidence: '',
};
let candidateId: string;
const incidentId = 'inc-00000000-0000-4000-8000-00000000c0de';
let protocolSha256: string;

const stowBody = (instance: Uint8Array) =>
  Buffer.concat([Buffer.from('--b\r\nContent-Type: application/dicom\r\n\r\n'), Buffer.from(instance), Buffer.from('\r\n--b--\r\n')]);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vigil-cache-control-'));
  const dashboard = join(dir, 'dashboard');
  mkdirSync(join(dashboard, 'assets'), { recursive: true });
  writeFileSync(join(dashboard, 'index.html'), '<!doctype html><title>Vigil</title><script type="module" src="/assets/index-abc123.js"></script>');
  writeFileSync(join(dashboard, 'assets', 'index-abc123.js'), 'console.log("app");');
  writeFileSync(join(dashboard, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
  const report = join(dir, 'reports', 'test-split');
  mkdirSync(report, { recursive: true });
  writeFileSync(join(report, 'report.json'), JSON.stringify({ schema: 'vigil-evaluation-report/1', generatedAt: '2026-01-02T03:04:05.000Z' }));
  writeFileSync(join(report, 'report.html'), '<!doctype html><h1>Evaluation</h1>');

  const config = loadConfig(
    { VIGIL_DATA_DIR: join(dir, 'data'), VIGIL_INTRA_OP_THREADS: '1', VIGIL_STUDY_QUIET_MS: '50', VIGIL_REPORTS_DIR: join(dir, 'reports') },
    REPO_ROOT,
  );
  server = await createApiServer(config, createLogger('silent'), { dashboardDir: dashboard });
  app = server.app;
  db = openSqliteDatabase({ dataDir: join(dir, 'data') });
  const clock = { now: () => new Date() };
  const access = new SqliteAccessStore(db, clock);
  for (const role of ROLES) {
    const user = await access.createUser(`user-${role}`, role);
    tokens.set(role, (await access.issueToken(user.userId, 'test')).secret);
    userIds.set(role, user.userId);
  }
  // Spare tokens of one user: one to revoke, one to rotate.
  spareTokens = [
    (await access.issueToken(userIds.get('qa-regulatory') ?? '', 'to revoke')).tokenId,
    (await access.issueToken(userIds.get('qa-regulatory') ?? '', 'to rotate')).tokenId,
  ];
  // A token-only signer re-authenticates with a fresh token that is not the one the request carries (it signs once).
  signingToken = (await access.issueToken(userIds.get('qa-regulatory') ?? '', 'to sign')).secret;
  png = await texturedGreyPng(7);

  // A study in through STOW-RS and judged by the real worker: its case, image and worklist item.
  const instance = buildPart10(imageDataset({ rows: 8, columns: 8, bitsAllocated: 16, modality: 'CR', pixelData: el(0x7fe00010, 'OW', new Uint8Array(128)) }), {
    transferSyntaxUid: '1.2.840.10008.1.2.1',
  });
  const stow = await app.inject({
    method: 'POST',
    url: '/dicomweb/studies',
    headers: { ...as('integration'), 'content-type': 'multipart/related; type="application/dicom"; boundary=b' },
    payload: stowBody(instance),
  });
  expect(stow.statusCode).toBe(200);
  server.loop.start();
  const deadline = Date.now() + 30_000;
  while (judgedCaseId === undefined && Date.now() < deadline) {
    const key = (await app.inject({ method: 'GET', url: '/api/studies', headers: as('ml-engineer') })).json<{ studies: { studyKey: string }[] }>().studies[0]
      ?.studyKey;
    if (key !== undefined) {
      const study = (await app.inject({ method: 'GET', url: `/api/studies/${key}`, headers: as('ml-engineer') })).json<{ cases: { caseId: string }[] }>();
      if (study.cases[0] !== undefined) [studyKey, judgedCaseId] = [key, study.cases[0].caseId];
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  expect(judgedCaseId, 'the study was judged').toBeDefined();
  // No more judging: the instance recorded below would otherwise send the study back to the worker,
  // whose new case would supersede the one made here and close its worklist item.
  await server.loop.stop();

  // A decided case for FHIR, a worklist item to review and a dead-lettered job to retry, straight into the stores.
  const model = { id: 'pneumonia-demo', version: '1.0.0', sha256: 'ab'.repeat(32) };
  await new SqliteStudyRegistry(db, clock).recordInstance(studyKey, '2.25.42', '2.25.43');
  await new SqliteCaseStore(db, clock).save({
    caseId: 'case-decided',
    studyKey,
    // The study's second instance (recorded just above): this case supersedes the judged one.
    instances: 2,
    model,
    results: [
      {
        input: { file: '/objects/2.25.42/2.25.43.png', frame: null },
        studyKey,
        status: 'decided',
        quality: { verdict: 'pass', reasons: [], checks: [] },
        outputs: [{ finding: 'pneumonia', probability: 0.125, decision: 'negative' }],
        model,
        auditId: 'a-0',
      },
    ],
  });
  itemId = 'item-cache-test';
  await new SqliteWorklistStore(db, clock).addItems([
    {
      itemId,
      caseId: 'case-decided',
      studyKey,
      resultIndex: 0,
      resultIndexes: [0],
      reasons: ['random_sample'],
      modalities: [],
      bodyPart: null,
      patientAgeYears: null,
      site: null,
      device: null,
      probability: null,
      samplingProbability: 0.05,
    },
  ]);
  const jobs = new SqliteJobQueue(db, { clock, retry: { baseDelayMs: 1, maxDelayMs: 1 }, defaultMaxAttempts: 1 });
  const { job } = await jobs.enqueue({ kind: 'deliver-result', dedupeKey: 'cache-control-test', payload: {}, maxAttempts: 1 });
  const lease = await jobs.lease(['deliver-result'], 60_000);
  await jobs.fail(job.id, lease?.leaseToken ?? '', { code: 'RESULT_DELIVERY_FAILED', message: 'destination down' });
  deadJobId = job.id;
  const registered = await runVigil(['model', 'register', DEMO_MODEL_DIR, '--json'], join(dir, 'data'));
  versionId = (JSON.parse(registered.stdout) as { version: { versionId: string } }).version.versionId;

  // Release requests: a candidate (the demo under another version), requests made over HTTP, and each
  // moved into the state its route succeeds from, straight into the store (gates and signatures as data).
  const candidateDir = join(dir, 'candidate');
  cpSync(DEMO_MODEL_DIR, candidateDir, { recursive: true });
  const manifest = JSON.parse(readFileSync(join(candidateDir, 'vigil-model.json'), 'utf8')) as Record<string, unknown>;
  writeFileSync(join(candidateDir, 'vigil-model.json'), JSON.stringify({ ...manifest, version: '1.0.1' }));
  // Registered as the demo's child: a recalibration or threshold candidate must be (RELEASE_LINEAGE_INVALID otherwise).
  candidateId = (
    JSON.parse((await runVigil(['model', 'register', candidateDir, '--parent', versionId, '--json'], join(dir, 'data'))).stdout) as {
      version: { versionId: string };
    }
  ).version.versionId;
  const releases = new SqliteReleaseStore(db);
  const signer = (role: Role) => ({ signer: { userId: `u-${role}`, userName: role, role }, at: new Date().toISOString() });
  const gate = (name: 'criteria' | 'non_inferiority' | 'shadow_agreement') => ({
    gate: name,
    passed: true,
    evidenceSha256: 'e'.repeat(64),
    summary: 'seeded',
    at: new Date().toISOString(),
  });
  const seed = async (
    changeType: string,
    state: string,
    gates: ReturnType<typeof gate>[],
    signatures: ReturnType<typeof signer>[] & object[],
  ): Promise<string> => {
    const created = await app.inject({
      method: 'POST',
      url: '/api/releases',
      headers: as('ml-engineer'),
      payload: { changeType, site: 'default', candidate: candidateId },
    });
    const { request } = created.json<{ request: ReleaseRequest }>();
    protocolSha256 = request.protocolSha256;
    if (state !== 'draft')
      expect(await releases.compareAndSet({ ...request, state: state as ReleaseRequest['state'], gates, signatures: signatures as never }, 1)).toBe(true);
    return request.requestId;
  };
  const approvedBy = [
    { ...signer('qa-regulatory'), meaning: 'approved for release' },
    { ...signer('clinician-reviewer'), meaning: 'approved for release' },
  ];
  release.sign = await seed('recalibration', 'validated', [gate('criteria')], []);
  // Left in draft as made over HTTP: its audit entries and kept protocol make a pack that verifies.
  release.evidence = await seed('recalibration', 'draft', [], []);
  release.shadow = await seed('retraining', 'approved', [gate('criteria'), gate('non_inferiority')], approvedBy);
  release.gates = await seed('retraining', 'shadow', [gate('criteria'), gate('non_inferiority')], approvedBy);
  release.canary = await seed('retraining', 'shadow', [gate('criteria'), gate('non_inferiority'), gate('shadow_agreement')], approvedBy);
  release.promote = await seed(
    'recalibration',
    'approved',
    [gate('criteria')],
    [
      { ...signer('qa-regulatory'), meaning: 'approved for release' },
      { ...signer('clinician-reviewer'), meaning: 'reviewed' },
    ],
  );

  // The decided case's SR, as WADO-RS serves it (the study holds the STOW-RS instance as its evidence).
  studyUid = (await app.inject({ url: `/api/studies/${studyKey}`, headers: as('ml-engineer') })).json<{ studyUid: string }>().studyUid;
  const [sr] = (await app.inject({ url: `/dicomweb/studies/${studyUid}/instances`, headers: as('integration') })).json<Record<string, { Value: string[] }>[]>();
  srSeriesUid = sr?.['0020000E']?.Value[0] ?? '';
  srSopUid = sr?.['00080018']?.Value[0] ?? '';
  expect(srSopUid).toMatch(/^2\.25\./);

  // An open incident for the default site's deployment (every incident route acts on it in turn), and
  // one more earlier version in the site's history, so that both rollbacks (the site's, then the incident's) succeed.
  const deploymentStore = new SqliteDeploymentStore(db);
  const current = await deploymentStore.get('default');
  if (current === undefined) throw new Error('the default site has no deployment');
  expect(await deploymentStore.compareAndSet({ ...current, history: [versionId, ...current.history], generation: current.generation + 1 })).toBe(true);
  const opened = openIncident(incidentId.slice(4), 'default', versionId, {
    alertId: 'al-1',
    detector: 'noise:up',
    signal: 'noise',
    label: 'noise',
    at: new Date().toISOString(),
  });
  expect(await new SqliteIncidentStore(db).create({ ...opened, incidentId })).toBe(true);
}, 90_000);
afterAll(async () => {
  await server.close();
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

function as(role: Role): Record<string, string> {
  return { authorization: `Bearer ${tokens.get(role) ?? ''}` };
}

/** How each registered route succeeds here, keyed by `METHOD pattern`. */
const SUCCESS: Record<string, () => InjectOptions> = {
  'GET /api/health': () => ({ url: '/api/health' }),
  'GET /api/openapi.json': () => ({ url: '/api/openapi.json' }),
  'POST /api/session': () => ({ method: 'POST', url: '/api/session', payload: { token: tokens.get('ml-engineer') } }),
  'GET /api/session': () => ({ url: '/api/session' }), // with the cookie, added below
  'DELETE /api/session': () => ({ method: 'DELETE', url: '/api/session' }),
  'PUT /api/users/:userId/password': () => ({
    method: 'PUT',
    url: `/api/users/${userIds.get('auditor') ?? ''}/password`,
    headers: as('auditor'),
    payload: { password: 'a long passphrase for the test' },
  }),
  'GET /api/models/current': () => ({ url: '/api/models/current', headers: as('ml-engineer') }),
  'GET /api/models/current/card': () => ({ url: '/api/models/current/card', headers: as('ml-engineer') }),
  'GET /api/models/current/reports/:name': () => ({ url: '/api/models/current/reports/test-split', headers: as('ml-engineer') }),
  'GET /api/models/current/reports/:name/charts/:kind': () => ({
    url: '/api/models/current/reports/pneumoniamnist-test/charts/roc',
    headers: as('ml-engineer'),
  }),
  'GET /api/metrics': () => ({ url: '/api/metrics', headers: as('ml-engineer') }),
  'GET /api/system/summary': () => ({ url: '/api/system/summary', headers: as('ml-engineer') }),
  'GET /api/models/versions': () => ({ url: '/api/models/versions', headers: as('ml-engineer') }),
  'GET /api/models/versions/:versionId': () => ({ url: `/api/models/versions/${versionId}`, headers: as('ml-engineer') }),
  'GET /api/models/versions/:versionId/card': () => ({ url: `/api/models/versions/${versionId.slice(0, 12)}/card`, headers: as('ml-engineer') }),
  'POST /api/jobs/:jobId/retry': () => ({ method: 'POST', url: `/api/jobs/${deadJobId}/retry`, headers: as('admin') }),
  'GET /api/audit/verify': () => ({ url: '/api/audit/verify', headers: as('auditor') }),
  'GET /api/audit/entries': () => ({ url: '/api/audit/entries?limit=5', headers: as('auditor') }),
  'GET /api/audit/entries/:auditId': () => ({ url: '/api/audit/entries/a-0', headers: as('auditor') }),
  'GET /api/audit/entries/:auditId/proof': () => ({ url: '/api/audit/entries/a-0/proof', headers: as('auditor') }),
  'GET /api/users': () => ({ url: '/api/users', headers: as('admin') }),
  'POST /api/users': () => ({ method: 'POST', url: '/api/users', headers: as('admin'), payload: { name: 'cache-test', role: 'auditor' } }),
  'PATCH /api/users/:userId': () => ({
    method: 'PATCH',
    url: `/api/users/${userIds.get('auditor') ?? ''}`,
    headers: as('admin'),
    payload: { disabled: false },
  }),
  'GET /api/users/:userId/tokens': () => ({ url: `/api/users/${userIds.get('auditor') ?? ''}/tokens`, headers: as('admin') }),
  'POST /api/users/:userId/tokens': () => ({
    method: 'POST',
    url: `/api/users/${userIds.get('auditor') ?? ''}/tokens`,
    headers: as('admin'),
    payload: { label: 'cache' },
  }),
  'DELETE /api/users/:userId/tokens/:tokenId': () => ({
    method: 'DELETE',
    url: `/api/users/${userIds.get('qa-regulatory') ?? ''}/tokens/${spareTokens[0] ?? ''}`,
    headers: as('admin'),
  }),
  'POST /api/users/:userId/tokens/:tokenId/rotate': () => ({
    method: 'POST',
    url: `/api/users/${userIds.get('qa-regulatory') ?? ''}/tokens/${spareTokens[1] ?? ''}/rotate`,
    headers: as('admin'),
    payload: { overlapSeconds: 60 },
  }),
  'GET /api/studies': () => ({ url: '/api/studies', headers: as('ml-engineer') }),
  'GET /api/studies/:studyKey': () => ({ url: `/api/studies/${studyKey}`, headers: as('ml-engineer') }),
  'GET /api/cases/:caseId': () => ({ url: `/api/cases/${encodeURIComponent(judgedCaseId)}`, headers: as('ml-engineer') }),
  'GET /api/cases/:caseId/images/:index': () => ({ url: `/api/cases/${encodeURIComponent(judgedCaseId)}/images/0`, headers: as('ml-engineer') }),
  'GET /api/cases/:caseId/fhir': () => ({ url: '/api/cases/case-decided/fhir', headers: as('integration') }),
  'GET /api/worklist': () => ({ url: '/api/worklist', headers: as('clinician-reviewer') }),
  'GET /api/worklist/:itemId': () => ({ url: `/api/worklist/${itemId}`, headers: as('clinician-reviewer') }),
  'POST /api/worklist/:itemId/review': () => ({
    method: 'POST',
    url: `/api/worklist/${itemId}/review`,
    headers: as('clinician-reviewer'),
    payload: { findingPresent: false, imageQualityAdequate: true, agreesWithModel: true, comment: '' },
  }),
  'GET /api/reviews': () => ({ url: '/api/reviews', headers: as('ml-engineer') }),
  'POST /dicomweb/studies': () => ({
    method: 'POST',
    url: '/dicomweb/studies',
    headers: { ...as('integration'), 'content-type': 'multipart/related; type="application/dicom"; boundary=b' },
    payload: stowBody(
      buildPart10(imageDataset({ rows: 8, columns: 8, bitsAllocated: 16, modality: 'CR', pixelData: el(0x7fe00010, 'OW', new Uint8Array(128)) }), {
        transferSyntaxUid: '1.2.840.10008.1.2.1',
      }),
    ),
  }),
  'POST /api/images': () => ({
    method: 'POST',
    url: '/api/images',
    headers: { ...as('integration'), 'content-type': 'multipart/related; type="application/json"; boundary=u' },
    payload: Buffer.concat([
      Buffer.from('--u\r\nContent-Type: application/json\r\n\r\n{"modality":"CR"}\r\n--u\r\nContent-Type: image/png\r\n\r\n'),
      png,
      Buffer.from('\r\n--u--\r\n'),
    ]),
  }),
  'GET /dicomweb/studies': () => ({ url: '/dicomweb/studies?ModalitiesInStudy=CR', headers: as('integration') }),
  'GET /dicomweb/studies/:studyUid': () => ({ url: `/dicomweb/studies/${studyUid}`, headers: as('integration') }),
  'GET /dicomweb/studies/:studyUid/metadata': () => ({ url: `/dicomweb/studies/${studyUid}/metadata`, headers: as('integration') }),
  'GET /dicomweb/studies/:studyUid/instances': () => ({ url: `/dicomweb/studies/${studyUid}/instances`, headers: as('integration') }),
  'GET /dicomweb/studies/:studyUid/series': () => ({ url: `/dicomweb/studies/${studyUid}/series`, headers: as('integration') }),
  'GET /dicomweb/studies/:studyUid/series/:seriesUid': () => ({ url: `/dicomweb/studies/${studyUid}/series/${srSeriesUid}`, headers: as('integration') }),
  'GET /dicomweb/studies/:studyUid/series/:seriesUid/metadata': () => ({
    url: `/dicomweb/studies/${studyUid}/series/${srSeriesUid}/metadata`,
    headers: as('integration'),
  }),
  'GET /dicomweb/studies/:studyUid/series/:seriesUid/instances': () => ({
    url: `/dicomweb/studies/${studyUid}/series/${srSeriesUid}/instances`,
    headers: as('integration'),
  }),
  'GET /dicomweb/studies/:studyUid/series/:seriesUid/instances/:sopUid': () => ({
    url: `/dicomweb/studies/${studyUid}/series/${srSeriesUid}/instances/${srSopUid}`,
    headers: as('integration'),
  }),
  'GET /dicomweb/studies/:studyUid/series/:seriesUid/instances/:sopUid/metadata': () => ({
    url: `/dicomweb/studies/${studyUid}/series/${srSeriesUid}/instances/${srSopUid}/metadata`,
    headers: as('integration'),
  }),
  'GET /api/releases': () => ({ url: '/api/releases', headers: as('qa-regulatory') }),
  'POST /api/releases': () => ({
    method: 'POST',
    url: '/api/releases',
    headers: as('ml-engineer'),
    payload: { changeType: 'threshold', site: 'default', candidate: candidateId },
  }),
  'GET /api/releases/:requestId': () => ({ url: `/api/releases/${release.sign}`, headers: as('clinician-reviewer') }),
  'GET /api/releases/:requestId/evidence/:sha256': () => ({ url: `/api/releases/${release.sign}/evidence/${protocolSha256}`, headers: as('ml-engineer') }),
  'GET /api/releases/:requestId/evidence.zip': () => ({ url: `/api/releases/${release.evidence}/evidence.zip`, headers: as('qa-regulatory') }),
  // In shadow with no comparison yet: the agreement gate answers how many there are so far.
  'POST /api/releases/:requestId/gates': () => ({ method: 'POST', url: `/api/releases/${release.gates}/gates`, headers: as('ml-engineer'), payload: {} }),
  // A token-only signer: a second token issued at the start of the test, fresh (under 5 minutes old).
  'POST /api/releases/:requestId/sign': () => ({
    method: 'POST',
    url: `/api/releases/${release.sign}/sign`,
    headers: as('qa-regulatory'),
    payload: { meaning: 'approved for release', token: signingToken },
  }),
  'POST /api/releases/:requestId/shadow': () => ({ method: 'POST', url: `/api/releases/${release.shadow}/shadow`, headers: as('ml-engineer') }),
  'POST /api/releases/:requestId/canary': () => ({
    method: 'POST',
    url: `/api/releases/${release.canary}/canary`,
    headers: as('ml-engineer'),
    payload: { fraction: 0.1 },
  }),
  'POST /api/releases/:requestId/promote': () => ({ method: 'POST', url: `/api/releases/${release.promote}/promote`, headers: as('ml-engineer') }),
  'GET /api/deployments': () => ({ url: '/api/deployments', headers: as('clinician-reviewer') }),
  'GET /api/deployments/:site/ledger': () => ({ url: '/api/deployments/default/ledger', headers: as('auditor') }),
  'POST /api/deployments/:site/pause': () => ({
    method: 'POST',
    url: '/api/deployments/default/pause',
    headers: as('clinician-reviewer'),
    payload: { reason: 'cache test' },
  }),
  'POST /api/deployments/:site/resume': () => ({ method: 'POST', url: '/api/deployments/default/resume', headers: as('clinician-reviewer') }),
  'POST /api/deployments/:site/rollback': () => ({ method: 'POST', url: '/api/deployments/default/rollback', headers: as('admin') }),
  'GET /api/monitoring': () => ({ url: '/api/monitoring', headers: as('ml-engineer') }),
  'GET /api/monitoring/alerts': () => ({ url: '/api/monitoring/alerts', headers: as('auditor') }),
  'GET /api/monitoring/:site': () => ({ url: '/api/monitoring/default?bucket=day', headers: as('qa-regulatory') }),
  'GET /api/monitoring/:site/cases': () => ({ url: '/api/monitoring/default/cases?signal=noise', headers: as('clinician-reviewer') }),
  'GET /api/incidents': () => ({ url: '/api/incidents?state=open', headers: as('auditor') }),
  'GET /api/incidents/:incidentId': () => ({ url: `/api/incidents/${incidentId}`, headers: as('admin') }),
  'POST /api/incidents/:incidentId/acknowledge': () => ({ method: 'POST', url: `/api/incidents/${incidentId}/acknowledge`, headers: as('ml-engineer') }),
  'POST /api/incidents/:incidentId/assign': () => ({
    method: 'POST',
    url: `/api/incidents/${incidentId}/assign`,
    headers: as('qa-regulatory'),
    payload: { owner: userIds.get('ml-engineer') ?? '' },
  }),
  'POST /api/incidents/:incidentId/note': () => ({
    method: 'POST',
    url: `/api/incidents/${incidentId}/note`,
    headers: as('clinician-reviewer'),
    payload: { text: 'seen' },
  }),
  'POST /api/incidents/:incidentId/pause': () => ({
    method: 'POST',
    url: `/api/incidents/${incidentId}/pause`,
    headers: as('clinician-reviewer'),
    payload: { reason: 'drift' },
  }),
  'POST /api/incidents/:incidentId/rollback': () => ({
    method: 'POST',
    url: `/api/incidents/${incidentId}/rollback`,
    headers: as('admin'),
    payload: { reason: 'drift' },
  }),
  'POST /api/incidents/:incidentId/resolve': () => ({
    method: 'POST',
    url: `/api/incidents/${incidentId}/resolve`,
    headers: as('ml-engineer'),
    payload: { postmortem: 'A cache test.' },
  }),
  'GET /': () => ({ url: '/' }),
  'GET /*': () => ({ url: '/worklist' }),
  'GET /assets/*': () => ({ url: '/assets/index-abc123.js' }),
};

const routeKeys = () =>
  listRoutes(app)
    .filter((r) => r.method !== 'HEAD')
    .map((r) => `${r.method} ${r.url}`);

describe('Cache-Control', () => {
  it('has a way to succeed for every registered route, and no other; only /assets/* may cache', () => {
    expect(Object.keys(SUCCESS).sort()).toEqual(routeKeys().sort());
    expect(
      listRoutes(app)
        .filter((r) => r.cache !== undefined)
        .map((r) => `${r.method} ${r.url} ${r.cache ?? ''}`),
    ).toEqual(['GET /assets/* immutable-asset', 'HEAD /assets/* immutable-asset']);
  });

  it('answers every route’s success with no-store (image, FHIR and DICOMweb included); only a hashed asset is cached', async () => {
    const signIn = await app.inject({ method: 'POST', url: '/api/session', payload: { token: tokens.get('ml-engineer') } });
    const cookie = `vigil_session=${signIn.cookies.find((c) => c.name === 'vigil_session')?.value ?? ''}`;
    const seen: Record<string, string> = {};
    for (const key of routeKeys()) {
      const options = SUCCESS[key]?.() ?? {};
      const response: LightMyRequestResponse = await app.inject({
        ...options,
        headers: { ...options.headers, ...(key === 'GET /api/session' ? { cookie } : {}) },
      });
      expect(response.statusCode, `${key}: ${response.body.slice(0, 200)}`).toBeGreaterThanOrEqual(200);
      expect(response.statusCode, `${key}: ${response.body.slice(0, 200)}`).toBeLessThan(300);
      seen[key] = `${response.headers['content-type']?.toString().split(';')[0] ?? ''} ${response.headers['cache-control']?.toString() ?? '(none)'}`;
    }
    expect(seen).toEqual(
      Object.fromEntries(
        routeKeys().map((key) => [key, expect.stringMatching(key === 'GET /assets/*' ? ` ${ASSET_CACHING}$` : ` ${NO_STORE}$`) as unknown as string]),
      ),
    );
    // The clinical ones by content type, so that a renamed route cannot slip out of the list.
    expect(seen['GET /api/cases/:caseId/images/:index']).toBe(`image/png ${NO_STORE}`);
    expect(seen['GET /api/cases/:caseId/fhir']).toBe(`application/fhir+json ${NO_STORE}`);
    expect(seen['POST /dicomweb/studies']).toBe(`application/dicom+json ${NO_STORE}`);
    expect(seen['GET /dicomweb/studies/:studyUid/series/:seriesUid/instances/:sopUid']).toBe(`multipart/related ${NO_STORE}`);
    expect(seen['GET /dicomweb/studies/:studyUid/metadata']).toBe(`application/dicom+json ${NO_STORE}`);
    expect(seen['GET /api/models/current/reports/:name']).toBe(`text/html ${NO_STORE}`);
    expect(seen['GET /api/models/current/reports/:name/charts/:kind']).toBe(`image/svg+xml ${NO_STORE}`);
  });

  it('answers every route’s errors with no-store, an asset’s too', async () => {
    for (const key of routeKeys()) {
      const options = SUCCESS[key]?.() ?? {};
      // A body no route takes (415), and for protected routes no credentials (401).
      const refused = await app.inject({ ...options, headers: { 'content-type': 'text/plain' }, payload: 'x' });
      expect(refused.statusCode, key).toBeGreaterThanOrEqual(400);
      expect(refused.headers['cache-control'], key).toBe(NO_STORE);
    }
    for (const url of ['/assets/missing-abc.js', '/api/nowhere', '/api/cases/none', '/api/cases/none/fhir', '/api/cases/none/images/0']) {
      const response = await app.inject({ url, headers: as('integration') });
      expect(response.statusCode, url).toBeGreaterThanOrEqual(400);
      expect(response.headers['cache-control'], url).toBe(NO_STORE);
    }
    const badUrl = await app.inject({ url: '/api/cases/%ZZ' });
    expect(badUrl.statusCode).toBe(400);
    expect(badUrl.headers['cache-control']).toBe(NO_STORE);
    expect(badUrl.headers['x-content-type-options'], 'the other security headers too').toBe('nosniff');
  });
});
