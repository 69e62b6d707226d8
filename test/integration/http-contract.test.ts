import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load-config.js';
import { createLogger } from '../../src/logging/create-logger.js';
import { createApiServer, type ApiServer } from '../../src/main.js';
import { REPO_ROOT } from '../helpers/sample-data.js';

/**
 * Routes that answer something other than a JSON body of Vigil's own: images, documents, text, DICOM
 * (DICOMweb), a FHIR Bundle (FHIR's schema, not ours), files, and the 204s. Every other route's answer is
 * declared in src/http/contract.ts, which the dashboard imports.
 */
const NOT_VIGIL_JSON = new Set([
  'GET /api/metrics',
  'GET /api/cases/{caseId}/images/{index}',
  'GET /api/cases/{caseId}/fhir',
  'GET /api/models/current/reports/{name}',
  'GET /api/models/current/reports/{name}/charts/{kind}',
  'GET /api/releases/{requestId}/evidence/{sha256}',
  'GET /api/releases/{requestId}/evidence.zip',
  'DELETE /api/session',
  'DELETE /api/users/{userId}/tokens/{tokenId}',
  'PUT /api/users/{userId}/password',
]);

interface Operation {
  readonly responses?: Record<string, { readonly content?: Record<string, { readonly schema?: unknown }> }>;
}

let dir: string;
let server: ApiServer;
let paths: Record<string, Record<string, Operation>>;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vigil-contract-'));
  server = await createApiServer(loadConfig({ VIGIL_DATA_DIR: dir, VIGIL_INTRA_OP_THREADS: '1' }, REPO_ROOT), createLogger('silent'));
  paths = (await server.app.inject({ method: 'GET', url: '/api/openapi.json' })).json<{ paths: typeof paths }>().paths;
});
afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the typed HTTP contract', () => {
  it('declares the JSON answer of every API route but the few that answer something else', () => {
    const operations = Object.entries(paths).flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, operation]) => ({ name: `${method.toUpperCase()} ${path}`, operation })),
    );
    const api = operations.filter((o) => o.name.includes(' /api/'));
    expect(api.length).toBeGreaterThan(40);
    const undeclared = api
      .filter((o) => !NOT_VIGIL_JSON.has(o.name))
      .filter(
        (o) =>
          !Object.entries(o.operation.responses ?? {}).some(([status, r]) => status.startsWith('2') && r.content?.['application/json']?.schema !== undefined),
      )
      .map((o) => o.name);
    expect(undeclared).toEqual([]);
    // The exceptions are real routes: a removed one leaves no stale entry behind.
    expect([...NOT_VIGIL_JSON].filter((name) => !operations.some((o) => o.name === name))).toEqual([]);
  });
});
