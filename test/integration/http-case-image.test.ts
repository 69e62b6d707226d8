import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildPart10, el, imageDataset, SYNTHETIC_IDENTIFIERS } from '../../src/adapters/dicom-dcmjs/internal/test-builders.js';
import { SharpRasterReader } from '../../src/adapters/image-sharp/sharp-raster-reader.js';
import { SqliteAuditLog } from '../../src/adapters/store-sqlite/sqlite-audit-log.js';
import { loadConfig } from '../../src/config/load-config.js';
import { createLogger } from '../../src/logging/create-logger.js';
import { createApiServer, type ApiServer } from '../../src/main.js';
import { REPO_ROOT } from '../helpers/sample-data.js';

// A synthetic MONOCHROME1 CR with known stored values and a file window goes in over STOW-RS, is
// judged by the real worker, and comes back from the image route as a PNG whose every pixel is checked.
const ROWS = 4;
const COLUMNS = 8;
const STORED = Array.from({ length: ROWS * COLUMNS }, (_, i) => 850 + i * 10); // 850 … 1160
const WINDOW = { center: 1000, width: 201 };

/** PS3.3 C.11.2.1.2.1 LINEAR, then MONOCHROME1 inversion, to 8 bits: the expected display value. */
function expected(x: number, center: number, width: number): number {
  const lower = center - 0.5 - (width - 1) / 2;
  const upper = center - 0.5 + (width - 1) / 2;
  const y = x <= lower ? 0 : x > upper ? 1 : (x - (center - 0.5)) / (width - 1) + 0.5;
  return Math.round((1 - y) * 255);
}

let dir: string;
let server: ApiServer;
let app: FastifyInstance;
let reader: string;
let admin: string;
let caseId: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vigil-case-image-'));
  const config = loadConfig({ VIGIL_DATA_DIR: dir, VIGIL_INTRA_OP_THREADS: '1', VIGIL_STUDY_QUIET_MS: '50' }, REPO_ROOT);
  server = await createApiServer(config, createLogger('silent'));
  app = server.app;
  admin = server.bootstrap?.token ?? '';
  const token = async (name: string, role: string) =>
    (await app.inject({ method: 'POST', url: '/api/users', headers: { authorization: `Bearer ${admin}` }, payload: { name, role } })).json<{ token: string }>()
      .token;
  reader = await token('reader-1', 'clinician-reviewer');
  const sender = await token('pacs', 'integration');

  const pixels = new Uint8Array(new Uint16Array(STORED).buffer);
  const instance = buildPart10(
    imageDataset({
      rows: ROWS,
      columns: COLUMNS,
      bitsAllocated: 16,
      bitsStored: 12,
      modality: 'CR',
      photometric: 'MONOCHROME1',
      pixelData: el(0x7fe00010, 'OW', pixels),
      extra: [el(0x00281050, 'DS', String(WINDOW.center)), el(0x00281051, 'DS', String(WINDOW.width))],
    }),
    { transferSyntaxUid: '1.2.840.10008.1.2.1' },
  );
  const body = Buffer.concat([Buffer.from('--b\r\nContent-Type: application/dicom\r\n\r\n'), Buffer.from(instance), Buffer.from('\r\n--b--\r\n')]);
  const stow = await app.inject({
    method: 'POST',
    url: '/dicomweb/studies',
    headers: { authorization: `Bearer ${sender}`, 'content-type': 'multipart/related; type="application/dicom"; boundary=b' },
    payload: body,
  });
  expect(stow.statusCode).toBe(200);

  server.loop.start();
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const studies = (await app.inject({ method: 'GET', url: '/api/studies', headers: { authorization: `Bearer ${reader}` } })).json<{
      studies: { studyKey: string }[];
    }>();
    const key = studies.studies[0]?.studyKey;
    if (key !== undefined) {
      const study = (await app.inject({ method: 'GET', url: `/api/studies/${key}`, headers: { authorization: `Bearer ${reader}` } })).json<{
        cases: { caseId: string }[];
      }>();
      if (study.cases[0] !== undefined) {
        caseId = study.cases[0].caseId;
        break;
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  expect(caseId, 'the study was judged').toBeDefined();
}, 60_000);
afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

const image = (query = '', index = 0, token = reader) =>
  app.inject({ method: 'GET', url: `/api/cases/${encodeURIComponent(caseId)}/images/${index}${query}`, headers: { authorization: `Bearer ${token}` } });

describe('GET /api/cases/{caseId}/images/{index}', () => {
  it('renders the stored instance with the file’s window, MONOCHROME1 inverted, pixel for pixel', async () => {
    const response = await image();
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('image/png');
    expect(response.headers['cache-control']).toBe('no-store');
    expect(response.headers['x-vigil-window']).toBe('dicom;center=1000;width=201');
    const png = await new SharpRasterReader().readRaster(response.rawPayload);
    expect({ rows: png.rows, columns: png.columns, samples: png.samplesPerPixel }).toEqual({ rows: ROWS, columns: COLUMNS, samples: 1 });
    expect([...png.pixels]).toEqual(STORED.map((x) => expected(x, WINDOW.center, WINDOW.width)));
    // Spot checks of the formula itself: below, inside and above the window.
    expect(expected(850, 1000, 201)).toBe(255);
    expect(expected(1000, 1000, 201)).toBe(127);
    expect(expected(1160, 1000, 201)).toBe(0);
    // The PNG carries nothing from the header.
    expect(response.rawPayload.toString('latin1')).not.toContain('SYNTHETIC');
  });

  it('applies ?wc=&ww= instead, and ?size= shrinks but never enlarges', async () => {
    const response = await image('?wc=1100&ww=101&size=16');
    expect(response.headers['x-vigil-window']).toBe('request;center=1100;width=101');
    const png = await new SharpRasterReader().readRaster(response.rawPayload);
    expect(png.columns).toBe(COLUMNS);
    expect([...png.pixels]).toEqual(STORED.map((x) => expected(x, 1100, 101)));
    const small = await new SharpRasterReader().readRaster((await image('?size=4')).rawPayload);
    expect({ rows: small.rows, columns: small.columns }).toEqual({ rows: 2, columns: 4 });
  });

  it('refuses bad queries, unknown indexes and roles without studies:read; audits each view as a case read', async () => {
    expect((await image('?wc=10')).json<{ code: string }>().code).toBe('REQUEST_INVALID');
    expect((await image('?size=5000')).statusCode).toBe(400);
    expect((await image('', 7)).json<{ code: string }>().code).toBe('ROUTE_NOT_FOUND');
    expect((await image('', 0, admin)).statusCode).toBe(403);
    const log = SqliteAuditLog.open({ dataDir: dir, clock: { now: () => new Date() } });
    const reads = [];
    for (let i = 0; i < (await log.size()); i++) {
      const entry = await log.get(`a-${i}`);
      if (entry?.event.type === 'case_read' && entry.event.caseId === caseId) reads.push(entry.event);
    }
    await log.close();
    expect(reads.length).toBeGreaterThanOrEqual(3);
    expect(JSON.stringify(reads)).not.toContain(SYNTHETIC_IDENTIFIERS.studyInstanceUid);
  });

  it('shows the judged study on the health summary: decisions, gate, latency from last instance to result', async () => {
    const engineer = (
      await app.inject({ method: 'POST', url: '/api/users', headers: { authorization: `Bearer ${admin}` }, payload: { name: 'eng-1', role: 'ml-engineer' } })
    ).json<{ token: string }>().token;
    const summary = (await app.inject({ method: 'GET', url: '/api/system/summary', headers: { authorization: `Bearer ${engineer}` } })).json<{
      queue: { byKind: { kind: string; state: string; count: number }[] };
      last24h: { images: number; byGateVerdict: Record<string, number>; resultLatencyMs: { count: number; p50: number; p95: number } };
    }>();
    expect(summary.queue.byKind).toContainEqual({ kind: expect.any(String), state: 'done', count: 1 });
    expect(summary.last24h.images).toBe(1);
    expect(Object.values(summary.last24h.byGateVerdict).reduce((a, b) => a + b, 0)).toBe(1);
    expect(summary.last24h.resultLatencyMs.count).toBe(1);
    // The study is complete 50 ms after its last instance (VIGIL_STUDY_QUIET_MS), then judged.
    expect(summary.last24h.resultLatencyMs.p50).toBeGreaterThanOrEqual(50);
    expect(summary.last24h.resultLatencyMs.p95).toBe(summary.last24h.resultLatencyMs.p50);
  });
});
