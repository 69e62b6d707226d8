/**
 * A study's state as GET /api/studies shows it, at every step of its life, with the server's own
 * stores and the real assembly and inference workflows; only the model is a stand-in whose answer the
 * test releases, so that the study can be seen while it is being judged. (Field finding: studies
 * judged minutes earlier still said `queued`, because nothing after assembly ever wrote the state.)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSqliteDatabase, type SqliteDatabase } from '../../src/adapters/store-sqlite/open-sqlite.js';
import { SqliteJobQueue } from '../../src/adapters/store-sqlite/sqlite-job-queue.js';
import { SqliteCaseStore, SqliteStudyRegistry } from '../../src/adapters/store-sqlite/sqlite-study-registry.js';
import { SqliteWorklistStore } from '../../src/adapters/store-sqlite/sqlite-worklist-store.js';
import { loadConfig } from '../../src/config/load-config.js';
import type { AuditEvent } from '../../src/domain/audit/audit-event.js';
import { PlatformError } from '../../src/domain/errors.js';
import type { CaseBody, StudyBody } from '../../src/http/contract.js';
import { createLogger } from '../../src/logging/create-logger.js';
import { createApiServer, type ApiServer } from '../../src/main.js';
import { assembleStudies } from '../../src/workflows/assemble-studies.js';
import type { PredictResult } from '../../src/workflows/predict-images.js';
import { runNextInferenceJob, type InferenceJobDependencies } from '../../src/workflows/run-inference-job.js';
import { REPO_ROOT } from '../helpers/sample-data.js';

const model = { id: 'pneumonia-demo', version: '1.0.0', sha256: 'ab'.repeat(32) };
const studyKey = `st-${'5'.repeat(32)}`;
const silent = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

let dir: string;
let server: ApiServer;
let db: SqliteDatabase;
let engineer: string;
const audited: AuditEvent[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vigil-states-'));
  server = await createApiServer(loadConfig({ VIGIL_DATA_DIR: dir, VIGIL_INTRA_OP_THREADS: '1' }, REPO_ROOT), createLogger('silent'));
  db = openSqliteDatabase({ dataDir: dir });
  const created = await server.app.inject({
    method: 'POST',
    url: '/api/users',
    headers: { authorization: `Bearer ${server.bootstrap?.token ?? ''}` },
    payload: { name: 'engineer-1', role: 'ml-engineer' },
  });
  engineer = created.json<{ token: string }>().token;
});
afterAll(async () => {
  await server.close();
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

const get = async <T>(url: string): Promise<T> => {
  const response = await server.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${engineer}` } });
  expect(response.statusCode, response.body).toBe(200);
  return response.json<T>();
};
const stateOnApi = async (): Promise<string | undefined> =>
  (await get<{ studies: StudyBody[] }>('/api/studies')).studies.find((s) => s.studyKey === studyKey)?.state;

/** A judged image as the predict workflow reports it. */
const judged = (file: string): PredictResult => ({
  input: { file, frame: null },
  studyKey,
  status: 'decided',
  quality: { verdict: 'pass', reasons: [], checks: [] },
  outputs: [{ finding: 'pneumonia', probability: 0.9, decision: 'positive' }],
  model,
  auditId: null,
});

describe('a study through its states, as GET /api/studies shows them', () => {
  it('is receiving, queued, judging, judged; receiving again when an instance arrives; failed when its job is dead-lettered; judged once retried', async () => {
    const clock = { now: () => new Date() };
    const studies = new SqliteStudyRegistry(db, clock);
    // One attempt per job: the first failure dead-letters it.
    const jobs = new SqliteJobQueue(db, { clock, retry: { baseDelayMs: 1, maxDelayMs: 1 }, defaultMaxAttempts: 1 });
    // The stand-in model's pending answer, released by the test.
    const answer: {
      release?: ((value: Awaited<ReturnType<InferenceJobDependencies['judgeStudy']>>) => void) | undefined;
      refuse?: ((error: Error) => void) | undefined;
    } = {};
    // The case ids the jobs were run under: the study and its instance count, no model (which version
    // judges is the site's deployment's choice when the job runs).
    const caseIds: string[] = [];
    const forget = (): void => {
      answer.release = undefined;
    };
    const deps: InferenceJobDependencies = {
      jobs,
      studies,
      cases: new SqliteCaseStore(db, clock),
      worklist: new SqliteWorklistStore(db, clock),
      sampleDraw: () => 0.5,
      reviewSampleRate: 0,
      logger: silent,
      leaseMs: 30_000,
      recordAudit: (event) => {
        audited.push(event);
        return Promise.resolve();
      },
      judgeStudy: (_studyUid, _studyKey, caseId) =>
        new Promise((resolve, reject) => {
          caseIds.push(caseId);
          answer.release = resolve;
          answer.refuse = reject;
        }),
    };
    const assemble = () => assembleStudies({ studies, jobs, logger: silent }, 0);

    await studies.recordInstance(studyKey, '2.25.5', '2.25.5.1');
    expect(await stateOnApi()).toBe('receiving');
    expect(await assemble()).toBe(1);
    expect(await stateOnApi()).toBe('queued');

    const first = runNextInferenceJob(deps);
    await waitUntil(() => answer.release !== undefined);
    expect(await stateOnApi()).toBe('judging');
    answer.release?.({ model, results: [judged('2.25.5/2.25.5.1.dcm')] });
    expect(await first).toBe('done');
    expect(await stateOnApi(), 'judged, not queued, once its case is saved').toBe('judged');
    expect(caseIds).toEqual([`infer:${studyKey}:1`]);

    // A late instance: the study is receiving again, and judged again as a whole.
    await studies.recordInstance(studyKey, '2.25.5', '2.25.5.2');
    expect(await stateOnApi()).toBe('receiving');
    expect(await assemble()).toBe(1);
    expect(await stateOnApi()).toBe('queued');
    forget();
    const second = runNextInferenceJob(deps);
    await waitUntil(() => answer.release !== undefined);
    expect(await stateOnApi()).toBe('judging');
    answer.refuse?.(new PlatformError('MODEL_INFERENCE_FAILED', 'the model failed'));
    expect(await second).toBe('failed');
    expect(await stateOnApi(), 'its only attempt failed: dead-lettered').toBe('failed');

    // An operator retries the dead job (POST /api/jobs/{id}/retry); this time the model answers.
    const dead = (await jobs.deadLetters(1))[0];
    const retry = await server.app.inject({
      method: 'POST',
      url: `/api/jobs/${dead?.id ?? 0}/retry`,
      headers: { authorization: `Bearer ${server.bootstrap?.token ?? ''}` },
    });
    expect(retry.statusCode).toBe(200);
    forget();
    const third = runNextInferenceJob(deps);
    await waitUntil(() => answer.release !== undefined);
    expect(await stateOnApi()).toBe('judging');
    answer.release?.({ model, results: [judged('2.25.5/2.25.5.1.dcm'), judged('2.25.5/2.25.5.2.dcm')] });
    expect(await third).toBe('done');
    expect(await stateOnApi()).toBe('judged');

    // One study, one current case; the partial one superseded and linked, both ways, on the API.
    const study = await get<StudyBody & { cases: CaseBody[] }>(`/api/studies/${studyKey}`);
    expect(study.cases.map((c) => [c.instances, c.supersedes === null, c.supersededBy === null])).toEqual([
      [1, true, false],
      [2, false, true],
    ]);
    expect(study.cases[0]?.supersededBy).toBe(study.cases[1]?.caseId);
    expect(study.cases[1]?.supersedes).toBe(study.cases[0]?.caseId);
    const older = await get<CaseBody>(`/api/cases/${encodeURIComponent(study.cases[0]?.caseId ?? '')}`);
    expect(older.supersededBy).toBe(study.cases[1]?.caseId);
    expect(audited).toEqual([{ type: 'case_superseded', caseId: study.cases[0]?.caseId, supersededBy: study.cases[1]?.caseId, studyKey, itemsClosed: 0 }]);
  });
});

async function waitUntil(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
