import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SqliteAccessStore } from '../../src/adapters/store-sqlite/sqlite-access-store.js';
import { openSqliteDatabase, type SqliteDatabase } from '../../src/adapters/store-sqlite/open-sqlite.js';
import { loadConfig } from '../../src/config/load-config.js';
import { createLogger } from '../../src/logging/create-logger.js';
import { createApiServer, type ApiServer } from '../../src/main.js';
import { texturedGreyPng } from '../helpers/images.js';
import { REPO_ROOT } from '../helpers/sample-data.js';

// Every request is bounded in time as well as bytes, over a real socket (app.inject has none, so no
// socket clock ever runs there: a stall through inject hangs only the test). Small limits keep it fast;
// the checks run every tenth of a limit, so each expiry is judged at most ~50 ms late plus scheduling.
const HEADERS_MS = 600;
const IDLE_MS = 400;
const BODY_MS = 800;
const MIN_RATE = 256;
/** Room for a full test run on 2 shared cores, where a timer can fire hundreds of ms late. */
const SLACK_MS = 1500;

let dir: string;
let server: ApiServer;
let db: SqliteDatabase;
let port: number;
let ingestToken: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vigil-timeouts-'));
  const config = loadConfig(
    {
      VIGIL_DATA_DIR: dir,
      VIGIL_INTRA_OP_THREADS: '1',
      VIGIL_MIN_FREE_DISK_BYTES: '1',
      VIGIL_HTTP_HEADERS_TIMEOUT_MS: String(HEADERS_MS),
      VIGIL_HTTP_IDLE_TIMEOUT_MS: String(IDLE_MS),
      VIGIL_HTTP_BODY_TIMEOUT_MS: String(BODY_MS),
      VIGIL_HTTP_BODY_MIN_BYTES_PER_SECOND: String(MIN_RATE),
    },
    REPO_ROOT,
  );
  server = await createApiServer(config, createLogger('silent'));
  db = openSqliteDatabase({ dataDir: dir });
  const access = new SqliteAccessStore(db, { now: () => new Date() });
  const user = await access.createUser('uploader', 'integration');
  ingestToken = (await access.issueToken(user.userId, 'test')).secret;
  await server.app.listen({ host: '127.0.0.1', port: 0 });
  port = (server.app.server.address() as AddressInfo).port;
}, 60_000);
afterAll(async () => {
  await server?.close();
  db?.close();
  rmSync(dir, { recursive: true, force: true });
});

/**
 * A raw client that never closes its own side (allowHalfOpen): what the server sent, and when the server
 * ended the connection (ms after connecting). Whether the server then let go of it is serverConnections().
 */
interface Peer {
  readonly socket: Socket;
  readonly received: () => string;
  readonly closedAfterMs: Promise<number>;
  /** Resolves once `text` has been received. */
  readonly receivedText: (text: string) => Promise<void>;
}
const peers: Socket[] = [];
const timers: NodeJS.Timeout[] = [];
afterEach(() => {
  for (const timer of timers.splice(0)) clearInterval(timer);
  for (const socket of peers.splice(0)) socket.destroy();
});

async function openPeer(): Promise<Peer> {
  const socket = connect({ port, host: '127.0.0.1', allowHalfOpen: true });
  peers.push(socket);
  await new Promise((resolve) => socket.once('connect', resolve));
  const started = performance.now();
  let text = '';
  const waiting: { text: string; resolve: () => void }[] = [];
  socket.on('data', (chunk: Buffer) => {
    text += chunk.toString('latin1');
    for (const w of waiting.splice(0)) (text.includes(w.text) ? w.resolve : () => waiting.push(w))();
  });
  // A server that resets instead of closing still closes: the error is the close, not a failure.
  socket.on('error', () => undefined);
  const closedAfterMs = new Promise<number>((resolve) => {
    const closed = (): void => resolve(performance.now() - started);
    socket.once('end', closed).once('close', closed);
  });
  return {
    socket,
    received: () => text,
    closedAfterMs,
    receivedText: (wanted) => (text.includes(wanted) ? Promise.resolve() : new Promise((resolve) => waiting.push({ text: wanted, resolve }))),
  };
}

/** The connections the server holds open, once they settle (within 1 s); only the tests' own peers connect. */
async function serverConnections(): Promise<number> {
  const count = (): Promise<number> =>
    new Promise((resolve, reject) => server.app.server.getConnections((error, n) => (error === null ? resolve(n) : reject(error))));
  for (let i = 0; i < 20 && (await count()) > 0; i++) await new Promise((resolve) => setTimeout(resolve, 50));
  return count();
}

/** Writes `bytes` a slice at a time, one every `everyMs`, until all are sent or the connection closes. */
function trickle(peer: Peer, bytes: Buffer, sliceBytes: number, everyMs: number): { readonly sent: () => number; readonly done: Promise<void> } {
  let sent = 0;
  let finish: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (finish = resolve));
  const timer = setInterval(() => {
    if (peer.socket.destroyed || sent >= bytes.length) {
      clearInterval(timer);
      finish();
      return;
    }
    peer.socket.write(bytes.subarray(sent, sent + sliceBytes));
    sent = Math.min(bytes.length, sent + sliceBytes);
  }, everyMs);
  timers.push(timer);
  return { sent: () => sent, done };
}

/** The status line and the JSON body of the one answer in `text`. */
function answerOf(text: string): { readonly status: number; readonly headers: string; readonly body: Record<string, unknown> } {
  const end = text.indexOf('\r\n\r\n');
  const status = Number(/^HTTP\/1\.1 (\d{3}) /.exec(text)?.[1]);
  return { status, headers: text.slice(0, end).toLowerCase(), body: JSON.parse(text.slice(end + 4)) as Record<string, unknown> };
}

const signInHead = (contentLength: number): string =>
  `POST /api/session HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${contentLength}\r\n\r\n`;

describe('requests bounded in time over a real socket', () => {
  it('answers a connection that sends nothing 408 REQUEST_TIMEOUT after the headers timeout, and closes it', async () => {
    const peer = await openPeer();
    const closedAfterMs = await peer.closedAfterMs;
    expect(closedAfterMs).toBeGreaterThanOrEqual(HEADERS_MS - 50);
    expect(closedAfterMs).toBeLessThan(HEADERS_MS + SLACK_MS);
    const answer = answerOf(peer.received());
    expect(answer.status).toBe(408);
    expect(answer.body).toMatchObject({ code: 'REQUEST_TIMEOUT', statusCode: 408 });
    expect(answer.headers).toContain('connection: close');
    expect(await serverConnections(), 'closed by the server, though the client keeps its side open').toBe(0);
  });

  it('closes the connection after answering what Node cannot parse, though the client keeps its side open', async () => {
    const peer = await openPeer();
    peer.socket.write('NOT A REQUEST\r\n\r\n');
    await peer.closedAfterMs;
    expect(answerOf(peer.received())).toMatchObject({ status: 400, body: { code: 'REQUEST_INVALID' } });
    expect(await serverConnections()).toBe(0);
  });

  it('holds headers to a deadline, not an idle timer: a byte every 100 ms does not keep them open', async () => {
    const peer = await openPeer();
    const head = `GET /api/health HTTP/1.1\r\nHost: x\r\nX-Padding: ${'a'.repeat(200)}\r\n\r\n`;
    const sending = trickle(peer, Buffer.from(head), 1, 100);
    const closedAfterMs = await peer.closedAfterMs;
    expect(sending.sent()).toBeLessThan(head.length);
    expect(closedAfterMs).toBeLessThan(HEADERS_MS + SLACK_MS);
    expect(answerOf(peer.received())).toMatchObject({ status: 408, body: { code: 'REQUEST_TIMEOUT' } });
    expect(await serverConnections()).toBe(0);
  });

  it('answers a body that stops arriving 408 after the idle timeout, and closes; the answer before it on the connection stands', async () => {
    const peer = await openPeer();
    // A complete request first, answered on the same keep-alive connection.
    peer.socket.write('GET /api/health HTTP/1.1\r\nHost: x\r\n\r\n');
    await peer.receivedText('"status"');
    const healthAnswer = peer.received();
    expect(healthAnswer).toMatch(/^HTTP\/1\.1 200 /);
    const stalledAt = performance.now();
    peer.socket.write(`${signInHead(200)}{"name":`);
    await peer.closedAfterMs;
    const closedAfterStallMs = performance.now() - stalledAt;
    expect(closedAfterStallMs).toBeGreaterThanOrEqual(IDLE_MS - 50);
    expect(closedAfterStallMs).toBeLessThan(IDLE_MS + SLACK_MS);
    const answer = answerOf(peer.received().slice(healthAnswer.length));
    expect(answer.status).toBe(408);
    expect(answer.body).toMatchObject({ code: 'REQUEST_TIMEOUT', statusCode: 408, message: `The request body stopped arriving: nothing for ${IDLE_MS} ms` });
    expect(answer.body['requestId']).toEqual(expect.any(String));
    expect(answer.headers).toContain('connection: close');
    expect(answer.headers).toContain('x-content-type-options: nosniff');
    expect(await serverConnections()).toBe(0);
  });

  it('answers a body trickled a byte every 100 ms (never idle) 408 once its allowance runs out, and closes', async () => {
    const peer = await openPeer();
    const body = `{"name":"${'n'.repeat(60)}","password":"${'p'.repeat(60)}"}`;
    peer.socket.write(signInHead(body.length));
    const startedAt = performance.now();
    const sending = trickle(peer, Buffer.from(body), 1, 100);
    await peer.closedAfterMs;
    const closedAfterMs = performance.now() - startedAt;
    // About BODY_MS, and 1/256 s more for each byte sent.
    expect(closedAfterMs).toBeGreaterThanOrEqual(BODY_MS - 50);
    expect(closedAfterMs).toBeLessThan(BODY_MS + SLACK_MS);
    expect(sending.sent()).toBeLessThan(body.length);
    const answer = answerOf(peer.received());
    expect(answer.status).toBe(408);
    expect(answer.body).toMatchObject({
      code: 'REQUEST_TIMEOUT',
      message: `The request body arrived more slowly than ${MIN_RATE} bytes per second`,
    });
    expect(await serverConnections()).toBe(0);
  });

  it('takes an upload that arrives slowly but steadily, for longer than the body allowance, and stores it', async () => {
    const boundary = 'slow-but-steady';
    const declaration = { modality: 'CR', bodyPart: 'CHEST', view: 'PA', patientAgeYears: { min: 1, max: 5 } };
    const body = Buffer.concat([
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="declaration"\r\n\r\n${JSON.stringify(declaration)}\r\n`),
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\nContent-Type: image/png\r\n\r\n`),
      await texturedGreyPng(7),
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]);
    // 24 slices, one every 100 ms: ~2.4 s in all (three times BODY_MS), at well over MIN_RATE.
    const sliceBytes = Math.ceil(body.length / 24);
    expect((sliceBytes * 1000) / 100).toBeGreaterThan(2 * MIN_RATE);
    const peer = await openPeer();
    peer.socket.write(
      `POST /api/images HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${ingestToken}\r\n` +
        `Content-Type: multipart/form-data; boundary=${boundary}\r\nContent-Length: ${body.length}\r\n\r\n`,
    );
    const startedAt = performance.now();
    const sending = trickle(peer, body, sliceBytes, 100);
    await sending.done;
    await peer.receivedText('"studyKey"');
    expect(performance.now() - startedAt).toBeGreaterThan(2 * BODY_MS);
    const answer = answerOf(peer.received());
    expect(answer.status, peer.received()).toBe(201);
    expect(answer.body['studyKey']).toEqual(expect.any(String));
    expect(peer.socket.destroyed, 'the connection stays open for the next request').toBe(false);
  });
});
