import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load-config.js';
import { createLogger } from '../../src/logging/create-logger.js';
import { createApiServer, type ApiServer } from '../../src/main.js';
import { REPO_ROOT } from '../helpers/sample-data.js';

/** Sends raw bytes and collects the whole answer (the server closes the connection). */
function raw(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    socket.on('data', (chunk) => (answer += chunk.toString('utf8')));
    socket.on('end', () => resolve(answer));
    socket.on('error', reject);
    socket.write(request);
  });
}

describe('what Node refuses before routing is answered in Vigil’s error shape', () => {
  let dir: string;
  let server: ApiServer;
  let port: number;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-client-errors-'));
    server = await createApiServer(loadConfig({ VIGIL_DATA_DIR: dir, VIGIL_INTRA_OP_THREADS: '1' }, REPO_ROOT), createLogger('silent'));
    await server.app.listen({ port: 0, host: '127.0.0.1' });
    port = (server.app.server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers headers over the limit with 431 REQUEST_HEADERS_TOO_LARGE, quoting nothing sent', async () => {
    const answer = await raw(port, `GET /api/studies?accessionNumber=${'ZQXMARK'.repeat(3000)} HTTP/1.1\r\nHost: x\r\n\r\n`);
    expect(answer).toMatch(/^HTTP\/1\.1 431 /);
    const body = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)) as Record<string, unknown>;
    expect(body).toMatchObject({ code: 'REQUEST_HEADERS_TOO_LARGE', statusCode: 431 });
    expect(answer).not.toContain('ZQXMARK');
  });

  it('answers a request line Node cannot parse with 400 REQUEST_INVALID', async () => {
    const answer = await raw(port, 'NOT A REQUEST\r\n\r\n');
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    expect(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4))).toMatchObject({ code: 'REQUEST_INVALID', statusCode: 400 });
  });
});
