/**
 * GET /api/worklist over HTTP: one item per study, by clinical priority then oldest first, filtered
 * and paged on the server, with counts per priority; GET /api/worklist/{itemId} with the images an
 * item covers. Items go straight into the store (the judging that makes them is tested in
 * src/workflows and serve-dicom.test.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteAccessStore } from '../../src/adapters/store-sqlite/sqlite-access-store.js';
import { SqliteCaseStore } from '../../src/adapters/store-sqlite/sqlite-study-registry.js';
import { openSqliteDatabase, type SqliteDatabase } from '../../src/adapters/store-sqlite/open-sqlite.js';
import { SqliteWorklistStore } from '../../src/adapters/store-sqlite/sqlite-worklist-store.js';
import { loadConfig } from '../../src/config/load-config.js';
import type { WorklistItemDetailBody, WorklistPageBody } from '../../src/http/contract.js';
import { createLogger } from '../../src/logging/create-logger.js';
import { createApiServer, type ApiServer } from '../../src/main.js';
import type { NewWorklistItem } from '../../src/ports/worklist-store.js';
import { REPO_ROOT } from '../helpers/sample-data.js';

let dir: string;
let server: ApiServer;
let db: SqliteDatabase;
let token: string;
let now = Date.parse('2026-03-01T08:00:00.000Z');

const item = (caseId: string, reasons: NewWorklistItem['reasons'], more: Partial<NewWorklistItem> = {}): NewWorklistItem => ({
  itemId: `${caseId}#study`,
  caseId,
  studyKey: `st-${caseId}`,
  resultIndex: 0,
  resultIndexes: [0],
  reasons,
  modalities: ['CR'],
  bodyPart: 'CHEST',
  patientAgeYears: '3',
  site: 'demo-site',
  device: 'pneumoniamnist',
  probability: 0.5,
  samplingProbability: reasons[0] === 'random_sample' ? 0.05 : 1,
  ...more,
});

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vigil-worklist-'));
  const config = loadConfig({ VIGIL_DATA_DIR: dir, VIGIL_INTRA_OP_THREADS: '1' }, REPO_ROOT);
  server = await createApiServer(config, createLogger('error', { write: () => undefined }));
  db = openSqliteDatabase({ dataDir: dir });
  const access = new SqliteAccessStore(db, { now: () => new Date() });
  const reviewer = await access.createUser('reader', 'clinician-reviewer');
  token = (await access.issueToken(reviewer.userId, 'test')).secret;
  const clock = { now: () => new Date(now) };
  const cases = new SqliteCaseStore(db, clock);
  const worklist = new SqliteWorklistStore(db, clock);
  const model = { id: 'm', version: '1.0.0', sha256: 'a'.repeat(64) };
  const added: NewWorklistItem[] = [
    // Oldest first: the cine of 30 rejected frames, then a CT series, then the chest films.
    item('us-cine', ['gate_rejected'], {
      modalities: ['US'],
      bodyPart: null,
      patientAgeYears: null,
      site: null,
      device: 'Acme Sono 5',
      probability: null,
      resultIndexes: Array.from({ length: 30 }, (_, i) => i),
    }),
    item('ct-series', ['gate_rejected', 'gate_unchecked'], {
      modalities: ['CT'],
      site: null,
      device: 'GE Revolution',
      probability: null,
      resultIndexes: [0, 1, 2],
    }),
    item('chest-warned', ['gate_warned']),
    item('chest-referred', ['model_referred'], { probability: 0.55 }),
    item('chest-sampled', ['random_sample'], { probability: 0.02 }),
    item('chest-referred-2', ['gate_warned', 'model_referred'], { site: 'north', probability: 0.6 }),
  ];
  for (const i of added) {
    await cases.save({ caseId: i.caseId, studyKey: i.studyKey, model, instances: 1, results: [] });
    await worklist.addItems([i]);
    now += 60_000;
  }
});
afterAll(async () => {
  await server.close();
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

const get = async <T>(url: string) => {
  const response = await server.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } });
  return { status: response.statusCode, body: response.json<T>() };
};

describe('GET /api/worklist', () => {
  it('lists one item per study by clinical priority, oldest first within a priority, with counts and the reading columns', async () => {
    const { status, body } = await get<WorklistPageBody>('/api/worklist');
    expect(status).toBe(200);
    expect(body.items.map((i) => [i.caseId, i.priority])).toEqual([
      ['chest-referred', 'referred'],
      ['chest-referred-2', 'referred'],
      ['chest-warned', 'warned'],
      ['us-cine', 'rejected'],
      ['ct-series', 'rejected'],
      ['chest-sampled', 'sampled'],
    ]);
    expect(body.counts).toEqual({ referred: 2, warned: 1, rejected: 2, sampled: 1 });
    expect(body.next).toBeNull();
    const cine = body.items.find((i) => i.caseId === 'us-cine');
    expect(cine).toMatchObject({ imageCount: 30, modalities: ['US'], device: 'Acme Sono 5', probability: null, site: null });
    expect(cine).not.toHaveProperty('resultIndexes');
    expect(body.items[0]).toMatchObject({ bodyPart: 'CHEST', patientAgeYears: '3', site: 'demo-site', device: 'pneumoniamnist', probability: 0.55 });
  });

  it('filters on the server, all filters together, and counts under the same filters', async () => {
    const byModality = await get<WorklistPageBody>('/api/worklist?modality=CT');
    expect(byModality.body.items.map((i) => i.caseId)).toEqual(['ct-series']);
    expect(byModality.body.counts).toEqual({ referred: 0, warned: 0, rejected: 1, sampled: 0 });
    expect((await get<WorklistPageBody>('/api/worklist?priority=referred&site=north')).body.items.map((i) => i.caseId)).toEqual(['chest-referred-2']);
    expect((await get<WorklistPageBody>('/api/worklist?reason=gate_unchecked')).body.items.map((i) => i.caseId)).toEqual(['ct-series']);
    expect((await get<WorklistPageBody>('/api/worklist?device=GE%20Revolution')).body.items.map((i) => i.caseId)).toEqual(['ct-series']);
    const window = await get<WorklistPageBody>('/api/worklist?from=2026-03-01T08:01:00Z&to=2026-03-01T08:03:00%2B00:00');
    expect(window.body.items.map((i) => i.caseId)).toEqual(['chest-warned', 'ct-series']);
    expect((await get<WorklistPageBody>('/api/worklist?state=reviewed')).body.items).toEqual([]);
  });

  it('pages with the cursor it returns, through every item once', async () => {
    const seen: string[] = [];
    let url = '/api/worklist?limit=4';
    for (let pages = 0; pages < 5; pages++) {
      const { body } = await get<WorklistPageBody>(url);
      seen.push(...body.items.map((i) => i.caseId));
      if (body.next === null) break;
      url = `/api/worklist?limit=4&cursor=${body.next}`;
    }
    expect(seen).toEqual(['chest-referred', 'chest-referred-2', 'chest-warned', 'us-cine', 'ct-series', 'chest-sampled']);
  });

  it('refuses a page larger than 100, an unknown filter value and a cursor it did not make (REQUEST_INVALID)', async () => {
    for (const url of [
      '/api/worklist?limit=101',
      '/api/worklist?priority=urgent',
      '/api/worklist?modality=c%25',
      '/api/worklist?from=yesterday',
      '/api/worklist?cursor=bm90LWEtY3Vyc29y',
      '/api/worklist?cursor=%2F%2F',
    ]) {
      const { status, body } = await get<{ code: string }>(url);
      expect([url, status, body.code]).toEqual([url, 400, 'REQUEST_INVALID']);
    }
  });
});

describe('GET /api/worklist/{itemId}', () => {
  it('gives an item with every image it covers, and 404 for an unknown one', async () => {
    const { status, body } = await get<WorklistItemDetailBody>(`/api/worklist/${encodeURIComponent('us-cine#study')}`);
    expect(status).toBe(200);
    expect(body.resultIndexes).toEqual(Array.from({ length: 30 }, (_, i) => i));
    expect(body).toMatchObject({ imageCount: 30, priority: 'rejected', reasons: ['gate_rejected'], state: 'open' });
    expect((await get<{ code: string }>('/api/worklist/nope')).body.code).toBe('ROUTE_NOT_FOUND');
  });
});
