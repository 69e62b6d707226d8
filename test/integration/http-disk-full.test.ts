import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildPart10, el, imageDataset } from '../../src/adapters/dicom-dcmjs/internal/test-builders.js';
import { loadConfig } from '../../src/config/load-config.js';
import { createLogger } from '../../src/logging/create-logger.js';
import { createApiServer, type ApiServer } from '../../src/main.js';
import { REPO_ROOT } from '../helpers/sample-data.js';

let dir: string;
let server: ApiServer;
let token: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vigil-full-'));
  // No disk here has 2^52 bytes (4 PiB) free: the server behaves as on a nearly full disk.
  const config = loadConfig({ VIGIL_DATA_DIR: dir, VIGIL_MIN_FREE_DISK_BYTES: String(2 ** 52) }, REPO_ROOT);
  server = await createApiServer(config, createLogger('silent'));
  const created = await server.app.inject({
    method: 'POST',
    url: '/api/users',
    headers: { authorization: `Bearer ${server.bootstrap?.token ?? ''}` },
    payload: { name: 'pacs', role: 'integration' },
  });
  token = created.json<{ token: string }>().token;
});
afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('a nearly full disk', () => {
  it('refuses STOW-RS uploads with 507 and stores nothing', async () => {
    const instance = buildPart10(
      imageDataset({ rows: 8, columns: 8, bitsAllocated: 16, modality: 'CR', pixelData: el(0x7fe00010, 'OW', new Uint8Array(128)) }),
      {
        transferSyntaxUid: '1.2.840.10008.1.2.1',
      },
    );
    const payload = Buffer.concat([Buffer.from('--b\r\nContent-Type: application/dicom\r\n\r\n'), Buffer.from(instance), Buffer.from('\r\n--b--\r\n')]);
    const response = await server.app.inject({
      method: 'POST',
      url: '/dicomweb/studies',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'multipart/related; type="application/dicom"; boundary=b' },
      payload,
    });
    expect(response.statusCode).toBe(507);
    expect(response.json()).toMatchObject({ code: 'STORE_DISK_FULL', statusCode: 507 });
    const studies = await server.app.inject({ method: 'GET', url: '/api/studies', headers: { authorization: `Bearer ${server.bootstrap?.token ?? ''}` } });
    expect(studies.statusCode).toBe(403); // the administrator may not read studies; the store is checked below
    expect(await server.loop.assembleNow()).toBe(0);
  });
});
