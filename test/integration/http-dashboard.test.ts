import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load-config.js';
import { createLogger } from '../../src/logging/create-logger.js';
import { createApiServer, type ApiServer } from '../../src/main.js';
import { DEMO_MODEL_DIR, REPO_ROOT } from '../helpers/sample-data.js';

// The dashboard's pages and the model and health pages' data, through the real server (app.inject).
const CSP =
  "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; script-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

let dir: string;
let server: ApiServer;
let bare: ApiServer;
let app: FastifyInstance;
let engineer: Record<string, string>;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vigil-dashboard-'));
  // A built dashboard as Vite lays it out, and a reports folder with one evaluation report.
  const dist = join(dir, 'dist');
  mkdirSync(join(dist, 'assets'), { recursive: true });
  writeFileSync(join(dist, 'index.html'), '<!doctype html><title>Vigil dashboard</title><script type="module" src="/assets/index-abc123.js"></script>');
  writeFileSync(join(dist, 'assets', 'index-abc123.js'), 'console.log("app");');
  writeFileSync(join(dist, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
  const report = join(dir, 'reports', 'test-split');
  mkdirSync(report, { recursive: true });
  writeFileSync(
    join(report, 'report.json'),
    JSON.stringify({
      schema: 'vigil-evaluation-report/1',
      generatedAt: '2026-01-02T03:04:05.000Z',
      model: { id: 'pneumonia-demo', version: '1.0.0', finding: 'pneumonia' },
      dataset: { description: 'PneumoniaMNIST test split' },
      criteria: { passed: false },
      metrics: { overall: { n: 624, auroc: { value: 0.9, ciLow: 0.87, ciHigh: 0.93 }, ece: { value: 0.094, ciLow: null, ciHigh: null } } },
    }),
  );
  writeFileSync(join(report, 'report.html'), '<!doctype html><h1>Evaluation</h1><script>alert(1)</script>');
  mkdirSync(join(dir, 'reports', 'not-a-report'));

  const config = loadConfig({ VIGIL_DATA_DIR: join(dir, 'data'), VIGIL_INTRA_OP_THREADS: '1', VIGIL_REPORTS_DIR: join(dir, 'reports') }, REPO_ROOT);
  server = await createApiServer(config, createLogger('silent'), { dashboardDir: dist });
  bare = await createApiServer(loadConfig({ VIGIL_DATA_DIR: join(dir, 'data2') }, REPO_ROOT), createLogger('silent'), { dashboardDir: join(dir, 'nothing') });
  app = server.app;
  const admin = { authorization: `Bearer ${server.bootstrap?.token ?? ''}` };
  const made = await app.inject({ method: 'POST', url: '/api/users', headers: admin, payload: { name: 'eng-1', role: 'ml-engineer' } });
  engineer = { authorization: `Bearer ${made.json<{ token: string }>().token}` };
});
afterAll(async () => {
  await server.close();
  await bare.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('dashboard pages', () => {
  it('serves index.html for / and for the app’s own paths, with the security headers', async () => {
    for (const url of ['/', '/worklist', '/cases/c-1/images/0', '/audit?type=decision']) {
      const page = await app.inject({ method: 'GET', url });
      expect(page.statusCode, url).toBe(200);
      expect(page.headers['content-type'], url).toContain('text/html');
      expect(page.body, url).toContain('<title>Vigil dashboard</title>');
      expect(page.headers['content-security-policy'], url).toBe(CSP);
      expect(page.headers['x-content-type-options'], url).toBe('nosniff');
      expect(page.headers['referrer-policy'], url).toBe('no-referrer');
    }
  });

  it('serves built assets as immutable files, top-level files by name, and keeps API paths API errors', async () => {
    const script = await app.inject({ method: 'GET', url: '/assets/index-abc123.js' });
    expect(script.statusCode).toBe(200);
    expect(script.headers['content-type']).toContain('javascript');
    expect(script.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect((await app.inject({ method: 'GET', url: '/favicon.svg' })).headers['content-type']).toContain('image/svg+xml');
    expect((await app.inject({ method: 'GET', url: '/assets/missing.js' })).statusCode).toBe(404);
    expect((await app.inject({ method: 'GET', url: '/assets/..%2f..%2fdata%2fvigil.sqlite' })).statusCode).not.toBe(200);
    for (const url of ['/api/nowhere', '/dicomweb/nowhere', '/api']) {
      const response = await app.inject({ method: 'GET', url });
      expect(response.statusCode, url).toBe(404);
      expect(response.json<{ code: string }>().code, url).toBe('ROUTE_NOT_FOUND');
    }
  });

  it('without a build, says how to build the dashboard and how to send studies', async () => {
    const page = await bare.app.inject({ method: 'GET', url: '/' });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('npm run build');
    expect(page.body).toContain('storescu');
    expect(page.headers['content-security-policy']).toBe(CSP);
    expect((await bare.app.inject({ method: 'GET', url: '/worklist' })).body).toContain('npm run build');
  });
});

describe('GET /api/models/current/card and reports', () => {
  it('returns the manifest, intended use, model card and report summaries', async () => {
    const card = await app.inject({ method: 'GET', url: '/api/models/current/card', headers: engineer });
    expect(card.statusCode).toBe(200);
    const body = card.json<{ manifest: { id: string }; intendedUse: Record<string, unknown>; modelCard: string; reports: unknown[] }>();
    const manifest = JSON.parse(readFileSync(join(DEMO_MODEL_DIR, 'vigil-model.json'), 'utf8')) as { id: string };
    expect(body.manifest.id).toBe(manifest.id);
    expect(Object.keys(body.intendedUse).length).toBeGreaterThan(0);
    // What an unknown value is, per check, as the gate applies the manifest (the demo model refuses an unknown age).
    expect(card.json<{ whenUnknown: unknown }>().whenUnknown).toEqual({ modality: 'warn', bodyPart: 'warn', view: 'warn', patientAge: 'reject' });
    expect(body.modelCard).toBe(readFileSync(join(DEMO_MODEL_DIR, 'MODEL_CARD.md'), 'utf8'));
    // The bundle's own reports (models/pneumonia-demo/reports) and the one in VIGIL_REPORTS_DIR.
    expect((body.reports as { name: string }[]).map((r) => r.name).sort()).toEqual(['pneumoniamnist-test', 'pneumoniamnist-val', 'test-split']);
    expect(body.reports).toContainEqual({
      name: 'test-split',
      createdAt: '2026-01-02T03:04:05.000Z',
      summary: {
        schema: 'vigil-evaluation-report/1',
        model: { id: 'pneumonia-demo', version: '1.0.0', finding: 'pneumonia' },
        dataset: 'PneumoniaMNIST test split',
        n: 624,
        auroc: { value: 0.9, ciLow: 0.87, ciHigh: 0.93 },
        sensitivity: null,
        specificity: null,
        ece: { value: 0.094, ciLow: null, ciHigh: null },
        referRate: null,
        criteriaPassed: false,
      },
    });
  });

  it('serves a report’s HTML with a CSP that forbids scripts', async () => {
    const html = await app.inject({ method: 'GET', url: '/api/models/current/reports/test-split', headers: engineer });
    expect(html.statusCode).toBe(200);
    expect(html.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(html.headers['content-security-policy']).toContain("script-src 'none'");
    expect(html.headers['content-security-policy']).toContain("default-src 'none'");
    expect(html.body).toContain('<h1>Evaluation</h1>');
    expect((await app.inject({ method: 'GET', url: '/api/models/current/reports/not-a-report', headers: engineer })).statusCode).toBe(404);
    expect((await app.inject({ method: 'GET', url: '/api/models/current/reports/.secret', headers: engineer })).statusCode).toBe(400);
  });
});

describe('GET /api/system/summary', () => {
  it('reports queue, disk, version and an empty last day', async () => {
    const summary = await app.inject({ method: 'GET', url: '/api/system/summary', headers: engineer });
    expect(summary.statusCode).toBe(200);
    expect(summary.json()).toMatchObject({
      version: expect.any(String),
      dicomAddress: null,
      freeDiskBytes: expect.any(Number),
      queue: { byState: { ready: 0, leased: 0, done: 0, dead: 0 }, byKind: [], deadLetters: [] },
      last24h: { images: 0, gateRejected: 0, byDecision: {}, referRate: null, resultLatencyMs: { count: 0, p50: null, p95: null } },
    });
  });
});
