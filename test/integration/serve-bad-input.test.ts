/**
 * Bad input against a real `vigil serve` process (test/fixtures/serve/run-server.ts): malformed DICOM over
 * the network, truncated and oversize PDUs, strangers, oversize and mistyped uploads, malformed multipart,
 * forged tokens, path traversal. After each: the server still answers, its memory has not jumped, and at
 * the end nothing planted in the input appears in a response or a log line.
 *
 * The PDUs are written by hand (PS3.8 Section 9.3, with src/adapters/dimse-dcmjs/internal/test-raw-scu.ts)
 * because a DICOM toolkit refuses to send what these tests must send: wrong lengths, cut PDVs, garbage.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { el, encodeDataset, EXPLICIT_LE, imageDataset, sampleBytes, SYNTHETIC_IDENTIFIERS } from '../../src/adapters/dicom-dcmjs/internal/test-builders.js';
import { associateRequest, pDataTf, storeCommand } from '../../src/adapters/dimse-dcmjs/internal/test-raw-scu.js';
import { openSqliteDatabase } from '../../src/adapters/store-sqlite/open-sqlite.js';
import { SqliteAccessStore } from '../../src/adapters/store-sqlite/sqlite-access-store.js';
import { ROLES, type Role } from '../../src/domain/access/roles.js';
import { REPO_ROOT } from '../helpers/sample-data.js';

const hasEchoscu = ['/usr/bin/echoscu', '/usr/local/bin/echoscu'].some((p) => existsSync(p));
const LOADER = join(REPO_ROOT, 'test/fixtures/ts-loader/register.js');
const SERVER = join(REPO_ROOT, 'test/fixtures/serve/run-server.ts');
const MAX_UPLOAD = 1 << 20;
const SC_STORAGE = '1.2.840.10008.5.1.4.1.1.7';
const VERIFICATION = '1.2.840.10008.1.1';
const EXPLICIT_VR_LE = '1.2.840.10008.1.2.1';

/** Fake identifiers planted in what is sent; none may come back in a response or a log line. */
const PLANTED = {
  patientName: SYNTHETIC_IDENTIFIERS.patientName,
  patientId: SYNTHETIC_IDENTIFIERS.patientId,
  studyUid: SYNTHETIC_IDENTIFIERS.studyInstanceUid,
  accession: 'BADINPUT-ACC-5521',
  institution: 'PLANTED INFIRMARY OF NOWHERE',
  birthDate: '19411207',
  garbage: 'PLANTED-GARBAGE-7731',
};

/** A valid Secondary Capture data set (Explicit VR LE, no meta group) carrying the planted identifiers. */
function plantedDataset(): Buffer {
  const pixels = Array.from({ length: 32 * 32 }, (_, i) => (i * 37) % 4096);
  return Buffer.from(
    encodeDataset(
      imageDataset({
        rows: 32,
        columns: 32,
        bitsAllocated: 16,
        bitsStored: 12,
        modality: 'CR',
        pixelData: el(0x7fe00010, 'OW', sampleBytes(pixels, 16)),
        extra: [el(0x00080050, 'SH', PLANTED.accession), el(0x00080080, 'LO', PLANTED.institution), el(0x00100030, 'DA', PLANTED.birthDate)],
      }),
      EXPLICIT_LE,
    ),
  );
}

let dir: string;
let child: ChildProcess;
let dicomPort: number;
let base: string;
let stdout = '';
let stderr = '';
const tokens = new Map<Role, string>();
let revoked: string;
/** Every response body the tests received, for the leak checks at the end. */
const bodies: string[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vigil-bad-input-'));
  child = spawn(process.execPath, ['--import', LOADER, SERVER, dir], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      LOG_LEVEL: 'debug',
      QUIET_MS: '300',
      VIGIL_MAX_UPLOAD_BYTES: String(MAX_UPLOAD),
      VIGIL_DICOM_ALLOWED_AE_TITLES: 'MODALITY,PROBE,ECHOSCU',
      VIGIL_DICOM_ALLOWED_HOSTS: '127.0.0.1',
    },
  });
  child.stderr?.on('data', (chunk: Buffer) => void (stderr += chunk.toString()));
  [dicomPort, base] = await new Promise<[number, string]>((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const match = /ready (\d+) (\d+)/.exec(stdout);
      if (match) resolve([Number(match[1]), `http://127.0.0.1:${match[2]}`]);
    });
    child.on('exit', (code) => reject(new Error(`server exited (${String(code)}) before it was ready: ${stderr}`)));
  });
  // Accounts made in the store the server uses (another connection to the same SQLite file).
  const db = openSqliteDatabase({ dataDir: dir });
  try {
    const access = new SqliteAccessStore(db, { now: () => new Date() });
    for (const role of ROLES) tokens.set(role, (await access.issueToken((await access.createUser(`bad-input-${role}`, role)).userId, 'test')).secret);
    const former = await access.issueToken((await access.createUser('former-sender', 'integration')).userId, 'test');
    await access.revokeToken(former.tokenId);
    revoked = former.secret;
  } finally {
    db.close();
  }
}, 30_000);

afterAll(() => {
  child?.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

// ---------------------------------------------------------------- helpers

const auth = (role: Role) => ({ authorization: `Bearer ${tokens.get(role) ?? ''}` });

async function request(method: string, path: string, init: { headers?: Record<string, string>; body?: Buffer | string } = {}) {
  const response = await fetch(base + path, { method, headers: init.headers ?? {}, ...(init.body === undefined ? {} : { body: init.body }) });
  const text = await response.text();
  bodies.push(text);
  return { status: response.status, headers: response.headers, text, json: () => JSON.parse(text) as Record<string, unknown> };
}

/** Raw HTTP over TCP: `write` sends what it likes; resolves with what came back once the server closes. */
function rawHttp(
  write: (socket: Socket) => Promise<void> | void,
  timeoutMs = 10_000,
): Promise<{ status: number; head: string; body: string; closedByServer: boolean }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port: Number(new URL(base).port) });
    let received = Buffer.alloc(0);
    let closedByServer = true;
    const timer = setTimeout(() => {
      closedByServer = false;
      socket.destroy();
    }, timeoutMs);
    socket.on('data', (chunk: Buffer) => (received = Buffer.concat([received, chunk])));
    socket.on('error', () => undefined); // EPIPE/ECONNRESET once the server has answered and closed
    socket.on('close', () => {
      clearTimeout(timer);
      const text = received.toString('latin1');
      const split = text.indexOf('\r\n\r\n');
      const head = split < 0 ? text : text.slice(0, split);
      const body = split < 0 ? '' : text.slice(split + 4);
      bodies.push(body);
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0), head, body, closedByServer });
    });
    socket.on('connect', () => void Promise.resolve(write(socket)).catch(reject));
  });
}

/** One request sent byte for byte (fetch would resolve `..` and `%2e%2e` before sending). */
async function rawRequest(method: string, path: string, headers: Record<string, string>, body = '') {
  const lines = Object.entries({ host: 'x', connection: 'close', ...headers, ...(body === '' ? {} : { 'content-length': String(Buffer.byteLength(body)) }) });
  const response = await rawHttp((socket) => {
    socket.write(`${method} ${path} HTTP/1.1\r\n${lines.map(([name, value]) => `${name}: ${value}\r\n`).join('')}\r\n${body}`);
  });
  return { ...response, json: () => JSON.parse(response.body) as Record<string, unknown> };
}

const writeAll = (socket: Socket, bytes: Buffer | string): Promise<void> =>
  new Promise((resolve) => {
    socket.write(bytes, () => resolve());
  });

function expectErrorBody(text: string, code: string, statusCode: number): void {
  const body = JSON.parse(text) as Record<string, unknown>;
  expect(body).toEqual({ code, message: expect.any(String), statusCode, requestId: expect.stringMatching(/^[0-9a-f-]{36}$/) });
}

async function expectHealthy(): Promise<void> {
  expect(child.exitCode, 'the server process is alive').toBeNull();
  const health = await request('GET', '/api/health');
  expect(health.status).toBe(200);
  expect(health.json()).toMatchObject({ status: 'ok' });
}

/** Resident memory of the server process, from /proc (Linux). */
function residentBytes(): number {
  const kib = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${String(child.pid)}/status`, 'utf8'))?.[1];
  return Number(kib) * 1024;
}

function echoscu(): Promise<boolean> {
  return new Promise((resolve) => {
    execFile('echoscu', ['-aet', 'ECHOSCU', '-aec', 'VIGIL', '127.0.0.1', String(dicomPort)], { timeout: 20_000 }, (error) => resolve(error === null));
  });
}

/** Reads whole PDUs (PS3.8 9.3.1: type, reserved, 32-bit big-endian length) from a socket. */
function pduReader(socket: Socket): () => Promise<{ type: number; body: Buffer } | undefined> {
  let buffered = Buffer.alloc(0);
  let ended = false;
  let wake: (() => void) | undefined;
  socket.on('data', (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk]);
    wake?.();
  });
  const end = () => {
    ended = true;
    wake?.();
  };
  socket.on('close', end);
  socket.on('error', end);
  return async () => {
    for (;;) {
      if (buffered.length >= 6 && buffered.length >= 6 + buffered.readUInt32BE(2)) {
        const length = buffered.readUInt32BE(2);
        const pdu = { type: buffered.readUInt8(0), body: buffered.subarray(6, 6 + length) };
        buffered = buffered.subarray(6 + length);
        return pdu;
      }
      if (ended) return undefined;
      await new Promise<void>((resolve) => (wake = resolve));
      wake = undefined;
    }
  };
}

/** The Status (0000,0900) of a C-STORE-RSP command set (implicit VR LE) in one P-DATA-TF. */
function dimseStatus(pdu: { type: number; body: Buffer } | undefined): number | undefined {
  if (pdu?.type !== 0x04) return undefined;
  const command = pdu.body.subarray(6);
  for (let offset = 0; offset + 8 <= command.length; offset += 8 + command.readUInt32LE(offset + 4)) {
    if (command.readUInt16LE(offset) === 0x0000 && command.readUInt16LE(offset + 2) === 0x0900) return command.readUInt16LE(offset + 8);
  }
  return undefined;
}

async function openSocket(options: { localAddress?: string } = {}): Promise<Socket> {
  const socket = connect({ host: '127.0.0.1', port: dicomPort, ...options });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  socket.on('error', () => undefined);
  return socket;
}

/** Writes `bytes`; resolves 'closed' when the server drops the connection within `ms`, else 'open'. */
async function sendAndWatch(bytes: Buffer, ms = 2_000): Promise<'closed' | 'open'> {
  const socket = await openSocket();
  const closed = new Promise<'closed'>((resolve) => socket.once('close', () => resolve('closed')));
  socket.write(bytes);
  const outcome = await Promise.race([closed, new Promise<'open'>((resolve) => setTimeout(() => resolve('open'), ms))]);
  socket.destroy();
  return outcome;
}

/** A deterministic byte stream (xorshift32), so a failure can be replayed. */
function pseudoRandomBytes(length: number, seed: number): Buffer {
  const out = Buffer.alloc(length);
  let x = seed;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

const objectFiles = (): string[] =>
  existsSync(join(dir, 'objects'))
    ? readdirSync(join(dir, 'objects'), { recursive: true, withFileTypes: true })
        .filter((e) => e.isFile())
        .map((e) => e.name)
    : [];
const incomingFiles = (): string[] => (existsSync(join(dir, 'incoming')) ? readdirSync(join(dir, 'incoming')) : []);

async function waitFor(check: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function storeCount(sql: string): number {
  const db = openSqliteDatabase({ dataDir: dir });
  try {
    return db.prepare<[], number>(sql).pluck().get() ?? 0;
  } finally {
    db.close();
  }
}

// ---------------------------------------------------------------- DICOM

describe.skipIf(!hasEchoscu)('the DICOM port under bad input (needs DCMTK echoscu)', () => {
  it('answers a garbage or empty data set with 0xC000, stores nothing of it, and goes on with the association', async () => {
    const socket = await openSocket();
    const next = pduReader(socket);
    socket.write(associateRequest('MODALITY', 'VIGIL', [{ abstractSyntax: SC_STORAGE, transferSyntaxes: [EXPLICIT_VR_LE] }]));
    expect((await next())?.type, 'A-ASSOCIATE-AC').toBe(0x02);

    const store = async (messageId: number, sopInstanceUid: string, dataset: Buffer) => {
      socket.write(pDataTf(1, true, true, storeCommand(messageId, SC_STORAGE, sopInstanceUid)));
      socket.write(pDataTf(1, false, true, dataset));
      return dimseStatus(await next());
    };
    const garbage = Buffer.concat([Buffer.from(`${PLANTED.garbage} ${PLANTED.patientName} `), pseudoRandomBytes(2_000, 7)]);
    // PS3.4 B.2.3: 0xC000 "Error: Cannot understand"; a failure, so a conforming sender keeps the instance.
    expect(await store(1, '1.2.826.0.1.3680043.10.543.7.1', garbage), 'garbage').toBe(0xc000);
    expect(await store(2, '1.2.826.0.1.3680043.10.543.7.2', Buffer.alloc(0)), 'an empty data set').toBe(0xc000);
    const truncated = plantedDataset().subarray(0, 600);
    expect(await store(3, SYNTHETIC_IDENTIFIERS.sopInstanceUid, truncated), 'a data set cut short').toBe(0xc000);
    expect(await store(4, SYNTHETIC_IDENTIFIERS.sopInstanceUid, plantedDataset()), 'then a good one on the same association').toBe(0x0000);
    socket.write(Buffer.from([0x05, 0, 0, 0, 0, 4, 0, 0, 0, 0])); // A-RELEASE-RQ
    expect((await next())?.type, 'A-RELEASE-RP').toBe(0x06);
    socket.destroy();

    expect(storeCount('SELECT count(*) FROM study_instances'), 'only the good instance was stored').toBe(1);
    expect(objectFiles()).toHaveLength(1);
    await waitFor(() => incomingFiles().length === 0);
    // Judged, so the model is loaded before the memory baseline of the next test is taken.
    await waitFor(() => storeCount("SELECT count(*) FROM jobs WHERE state = 'done'") === 1, 30_000);
    expect(await echoscu()).toBe(true);
  });

  it('drops truncated, random and oversize PDUs without buffering them, and keeps serving with flat memory', async () => {
    const before = residentBytes();
    const request = associateRequest('PROBE', 'VIGIL', [{ abstractSyntax: VERIFICATION, transferSyntaxes: ['1.2.840.10008.1.2'] }]);

    // An A-ASSOCIATE-RQ whose declared length exceeds what is sent, then the peer goes away.
    const cut = await openSocket();
    cut.end(request.subarray(0, 40));
    await new Promise((resolve) => cut.once('close', resolve));
    expect(await echoscu(), 'after a truncated A-ASSOCIATE-RQ').toBe(true);

    // A P-DATA-TF cut in the middle of its PDV, then the peer goes away: nothing is stored, nothing kept.
    const midPdv = await openSocket();
    const next = pduReader(midPdv);
    midPdv.write(associateRequest('PROBE', 'VIGIL', [{ abstractSyntax: SC_STORAGE, transferSyntaxes: [EXPLICIT_VR_LE] }]));
    expect((await next())?.type).toBe(0x02);
    midPdv.write(pDataTf(1, true, true, storeCommand(1, SC_STORAGE, '1.2.826.0.1.3680043.10.543.7.3')));
    // The first fragment whole (the receiver starts the instance), the second cut.
    const dataset = plantedDataset();
    const half = Math.floor(dataset.length / 2);
    midPdv.write(pDataTf(1, false, false, dataset.subarray(0, half)));
    const rest = pDataTf(1, false, true, dataset.subarray(half));
    await new Promise<void>((resolve) => midPdv.write(rest.subarray(0, Math.floor(rest.length / 2)), () => resolve()));
    midPdv.destroy();
    await waitFor(() => incomingFiles().length === 0);
    expect(await echoscu(), 'after a P-DATA-TF cut mid-PDV').toBe(true);

    // Random bytes: no PDU type is above 0x07 (PS3.8 Table 9-1), so the first byte alone condemns them.
    const noise = pseudoRandomBytes(64 * 1024, 99);
    noise[0] = 0xa7;
    noise.write(PLANTED.garbage, 100, 'latin1');
    expect(await sendAndWatch(noise), 'random bytes').toBe('closed');
    // Random bytes inside an accepted association: a P-DATA-TF whose PDV items are noise, and noise as a data
    // fragment before any command.
    for (const [label, pdu] of [
      ['random PDV header', Buffer.concat([Buffer.from([0x04, 0, 0, 0, 0x01, 0x00]), pseudoRandomBytes(256, 5)])],
      ['random P-DATA-TF before any command', pDataTf(1, false, true, pseudoRandomBytes(300, 11))],
    ] as const) {
      const socket = await openSocket();
      const reply = pduReader(socket);
      socket.write(request);
      expect((await reply())?.type).toBe(0x02);
      const closed = new Promise((resolve) => socket.once('close', resolve));
      socket.write(pdu);
      await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 2_000))]);
      expect(socket.destroyed || socket.readableEnded, label).toBe(true);
      socket.destroy();
    }
    expect(await echoscu(), 'after random bytes').toBe(true);

    // PDUs declaring 4 GiB, followed by 16 MiB that would be buffered if the length were believed.
    for (const type of [0x01, 0x04]) {
      const socket = await openSocket();
      const closed = new Promise((resolve) => socket.once('close', resolve));
      socket.write(Buffer.from([type, 0, 0xff, 0xff, 0xff, 0xff]));
      for (let i = 0; i < 256 && !socket.destroyed; i++) socket.write(Buffer.alloc(64 * 1024, 0x41));
      await closed;
    }
    expect(await echoscu(), 'after 4 GiB PDU headers').toBe(true);

    // The heap may breathe (measured here: under 1 MiB), but nothing sent above was kept: believing the
    // two 4 GiB headers alone would have held the 32 MiB that followed them.
    expect(residentBytes() - before, 'resident memory growth in bytes').toBeLessThan(16 * 1024 * 1024);
    expect(storeCount('SELECT count(*) FROM study_instances')).toBe(1);
  });

  it('rejects a calling AE title outside the allowlist with A-ASSOCIATE-RJ (permanent, calling AE not recognized), and resets a host outside it at connect', async () => {
    const rejectionOf = async (callingAe: string, localAddress?: string) => {
      // A reset at accept can reach the client before its connect completes: that is 'closed' too.
      const socket = await openSocket(localAddress === undefined ? {} : { localAddress }).catch(() => undefined);
      if (socket === undefined) return 'closed';
      const next = pduReader(socket);
      socket.write(associateRequest(callingAe, 'VIGIL', [{ abstractSyntax: SC_STORAGE, transferSyntaxes: [EXPLICIT_VR_LE] }]));
      const pdu = await next();
      socket.destroy();
      // PS3.8 Table 9-21: result, source, reason after one reserved byte.
      return pdu === undefined ? 'closed' : { type: pdu.type, result: pdu.body.readUInt8(1), source: pdu.body.readUInt8(2), reason: pdu.body.readUInt8(3) };
    };
    const rejected = { type: 0x03, result: 1, source: 1, reason: 3 };
    expect(await rejectionOf('STRANGER'), 'an AE title not on the list').toEqual(rejected);
    // All of 127/8 is loopback on Linux: 127.0.0.2 is a host that is not on the list (127.0.0.1). It is
    // reset before its request is read, so it gets no A-ASSOCIATE-RJ.
    expect(await rejectionOf('MODALITY', '127.0.0.2'), 'a host not on the list').toBe('closed');
    expect(await rejectionOf('MODALITY'), 'the same AE title from an allowed host').toMatchObject({ type: 0x02 });
    expect(await echoscu()).toBe(true);
  });
});

// ---------------------------------------------------------------- HTTP

describe('the HTTP API under bad input', () => {
  const stowType = 'multipart/related; type="application/dicom"; boundary=b';

  it('answers an oversize upload with 413 INPUT_TOO_LARGE and closes the connection, declared or chunked', async () => {
    for (const path of ['/dicomweb/studies', '/api/images']) {
      // Declared too large: refused from the header, before the body is read.
      const declared = await rawHttp(async (socket) => {
        await writeAll(
          socket,
          `POST ${path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${tokens.get('integration') ?? ''}\r\nContent-Type: ${stowType}\r\nContent-Length: ${MAX_UPLOAD + 1024}\r\n\r\n`,
        );
        await writeAll(socket, Buffer.alloc(64 * 1024, 0x2d));
      });
      expect(declared.status, `${path} declared`).toBe(413);
      expect(declared.closedByServer).toBe(true);
      expectErrorBody(declared.body, 'INPUT_TOO_LARGE', 413);

      // Chunked, no length given: refused once one byte more than allowed has arrived.
      const chunked = await rawHttp(async (socket) => {
        await writeAll(
          socket,
          `POST ${path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${tokens.get('integration') ?? ''}\r\nContent-Type: ${stowType}\r\nTransfer-Encoding: chunked\r\n\r\n`,
        );
        const chunk = 64 * 1024;
        for (let sent = 0; sent <= MAX_UPLOAD; sent += chunk) {
          const size = Math.min(chunk, MAX_UPLOAD + 1 - sent);
          await writeAll(socket, Buffer.concat([Buffer.from(`${size.toString(16)}\r\n`), Buffer.alloc(size, 0x2d), Buffer.from('\r\n')]));
        }
      });
      expect(chunked.status, `${path} chunked`).toBe(413);
      expect(chunked.closedByServer).toBe(true);
      expectErrorBody(chunked.body, 'INPUT_TOO_LARGE', 413);
    }
    await expectHealthy();
  });

  it('refuses wrong content types with 415 INPUT_FORMAT_UNKNOWN and malformed multipart with 400 REQUEST_INVALID', async () => {
    const post = (path: string, contentType: string | undefined, body: Buffer | string) =>
      request('POST', path, { headers: { ...auth('integration'), ...(contentType === undefined ? {} : { 'content-type': contentType }) }, body });
    const cases: [string, string | undefined, Buffer | string, string, number][] = [
      ['/dicomweb/studies', 'application/json', '{"00100010":"x"}', 'INPUT_FORMAT_UNKNOWN', 415],
      ['/dicomweb/studies', 'application/dicom', Buffer.from('DICM'), 'INPUT_FORMAT_UNKNOWN', 415],
      ['/dicomweb/studies', 'multipart/related; type="image/png"; boundary=b', '--b\r\n\r\nx\r\n--b--\r\n', 'INPUT_FORMAT_UNKNOWN', 415],
      ['/dicomweb/studies', undefined, Buffer.from('no content type'), 'INPUT_FORMAT_UNKNOWN', 415],
      ['/api/images', 'text/plain', 'hello', 'INPUT_FORMAT_UNKNOWN', 415],
      ['/api/images', 'image/png', Buffer.from([0x89, 0x50, 0x4e, 0x47]), 'INPUT_FORMAT_UNKNOWN', 415],
      ['/api/images', 'application/x-www-form-urlencoded', 'a=b', 'INPUT_FORMAT_UNKNOWN', 415],
      // multipart/related without its boundary parameter
      ['/dicomweb/studies', 'multipart/related; type="application/dicom"', '--b\r\n\r\nx\r\n--b--\r\n', 'REQUEST_INVALID', 400],
      ['/api/images', 'multipart/related', '--b\r\n\r\nx\r\n--b--\r\n', 'REQUEST_INVALID', 400],
      // a boundary that is never closed
      ['/dicomweb/studies', stowType, `--b\r\nContent-Type: application/dicom\r\n\r\n${PLANTED.garbage}`, 'REQUEST_INVALID', 400],
      // a part whose header block never ends
      ['/dicomweb/studies', stowType, `--b\r\nContent-Type: application/dicom\r\n${PLANTED.garbage}\r\n--b--\r\n`, 'REQUEST_INVALID', 400],
      ['/api/images', 'multipart/related; boundary=b', `--b\r\n${PLANTED.garbage}\r\n--b--\r\n`, 'REQUEST_INVALID', 400],
      // a body that never mentions its boundary, and a boundary longer than RFC 2046 allows
      ['/dicomweb/studies', stowType, 'nothing of the kind', 'REQUEST_INVALID', 400],
      [
        '/dicomweb/studies',
        `multipart/related; type="application/dicom"; boundary=${'b'.repeat(71)}`,
        `--${'b'.repeat(71)}\r\n\r\nx\r\n--${'b'.repeat(71)}--\r\n`,
        'REQUEST_INVALID',
        400,
      ],
      // STOW-RS parts that are not DICOM, and an upload whose first part is not the JSON declaration
      ['/dicomweb/studies', 'multipart/related; boundary=b', '--b\r\nContent-Type: text/plain\r\n\r\nx\r\n--b--\r\n', 'REQUEST_INVALID', 400],
      ['/api/images', 'multipart/related; boundary=b', '--b\r\nContent-Type: image/png\r\n\r\nx\r\n--b--\r\n', 'REQUEST_INVALID', 400],
      [
        '/api/images',
        'multipart/related; boundary=b',
        `--b\r\nContent-Type: application/json\r\n\r\n{"site": ${PLANTED.garbage}\r\n--b--\r\n`,
        'REQUEST_INVALID',
        400,
      ],
    ];
    for (const [path, contentType, body, code, status] of cases) {
      const response = await post(path, contentType, body);
      expect(response.status, `${path} ${String(contentType)}`).toBe(status);
      expectErrorBody(response.text, code, status);
    }

    // A part without header lines takes the defaults (RFC 2046 §5.1.1), here application/dicom: read, and
    // refused as not DICOM (409, failure reason 0xC000) rather than misparsed.
    const headerless = await post('/dicomweb/studies', stowType, `--b\r\n\r\n${PLANTED.garbage}\r\n--b--\r\n`);
    expect(headerless.status).toBe(409);
    expect(headerless.json()).toEqual({
      '00081198': {
        vr: 'SQ',
        Value: [
          {
            '00081150': { vr: 'UI' },
            '00081155': { vr: 'UI' },
            '00081197': { vr: 'US', Value: [0xc000] },
            // Vigil's private block (docs/api.md, "STOW-RS"): its error code.
            '00090010': { vr: 'LO', Value: ['VIGIL 1.0'] },
            '00091005': { vr: 'LO', Value: ['DICOM_PARSE_FAILED'] },
          },
        ],
      },
    });
    expect(storeCount('SELECT count(*) FROM study_instances'), 'nothing malformed was stored').toBe(hasEchoscu ? 1 : 0);
    await expectHealthy();
  });

  it('answers every forged, altered or revoked token with the same 401 AUTH_REQUIRED, saying nothing of what was wrong', async () => {
    const real = tokens.get('ml-engineer') ?? '';
    const flipped = real.slice(0, -1) + (real.endsWith('A') ? 'B' : 'A');
    const forged: [string, Record<string, string> | Buffer][] = [
      ['no credentials', {}],
      ['an unknown token with the right prefix', { authorization: `Bearer vgl_${'x'.repeat(43)}` }],
      ['the real token with its last character changed', { authorization: `Bearer ${flipped}` }],
      ['the real token without its prefix', { authorization: `Bearer ${real.slice(4)}` }],
      ['the real token with more after it', { authorization: `Bearer ${real}${'x'.repeat(200)}` }],
      ['an overlong token', { authorization: `Bearer vgl_${'A'.repeat(8_000)}` }],
      ['a revoked token', { authorization: `Bearer ${revoked}` }],
      ['extra spaces inside the credentials', { authorization: `Bearer vgl_ ${real.slice(4)}` }],
      ['a token with a quote', { authorization: `Bearer vgl_' OR '1'='1` }],
      ['basic credentials', { authorization: `Basic ${Buffer.from('admin:admin').toString('base64')}` }],
      ['the real token in another header', { 'x-api-key': real }],
      ['Bearer and nothing', { authorization: 'Bearer' }],
    ];
    const responses: { label: string; status: number; body: Record<string, unknown>; headers: string[] }[] = [];
    for (const [label, headers] of forged) {
      const response = await request('GET', '/api/studies', { headers: headers as Record<string, string> });
      responses.push({ label, status: response.status, body: response.json(), headers: [...response.headers.keys()].sort() });
    }
    // Bytes fetch() will not send: Latin-1 and UTF-8 outside ASCII in the header value.
    for (const [label, bytes] of [
      ['a Latin-1 token', Buffer.from('vgl_\xe9\xe8\xff', 'latin1')],
      ['a UTF-8 token', Buffer.from('vgl_日本語', 'utf8')],
    ] as const) {
      const raw = await rawHttp((socket) => {
        socket.write(
          Buffer.concat([Buffer.from('GET /api/studies HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer '), bytes, Buffer.from('\r\n\r\n')]),
        );
      });
      const headers = raw.head
        .split('\r\n')
        .slice(1)
        .map((line) => line.slice(0, line.indexOf(':')).toLowerCase())
        .filter((name) => name !== 'connection')
        .sort();
      responses.push({ label, status: raw.status, body: JSON.parse(raw.body) as Record<string, unknown>, headers });
    }
    const reference = responses[0] as (typeof responses)[number];
    for (const response of responses) {
      expect(response.status, response.label).toBe(401);
      expect({ ...response.body, requestId: '…' }, response.label).toEqual({ ...reference.body, requestId: '…' });
      expect(
        response.headers.filter((h) => !['connection', 'keep-alive'].includes(h)),
        response.label,
      ).toEqual(reference.headers.filter((h) => !['connection', 'keep-alive'].includes(h)));
    }
    expect(reference.body).toMatchObject({ code: 'AUTH_REQUIRED', statusCode: 401 });
    expect((await request('GET', '/api/studies', { headers: { authorization: `Bearer ${real}` } })).status, 'the real token still works').toBe(200);
    await expectHealthy();
  });

  it('answers path traversal and injection-like parameters with 400 or 404, never a 500, and echoes none of them', async () => {
    const attempts: [Role, string][] = [];
    const hostile = [
      '..%2F..%2Fetc%2Fpasswd',
      '%2e%2e%2f%2e%2e%2fvigil.sqlite',
      '%2e%2e',
      '..',
      "'%20OR%201%3D1--",
      '%27%3B%20DROP%20TABLE%20cases%3B--',
      '%00',
      '%F0%9F%92%A9',
      'x%0d%0aSet-Cookie:%20a=b',
      '__proto__',
      '%24%7B7*7%7D',
      'a'.repeat(600),
      '%ZZ',
      '%C0%AE%C0%AE',
    ];
    for (const id of hostile) {
      attempts.push(['ml-engineer', `/api/studies/${id}`], ['ml-engineer', `/api/cases/${id}`]);
      attempts.push(['auditor', `/api/audit/entries/${id}`], ['auditor', `/api/audit/entries/${id}/proof`]);
      attempts.push(['admin', `/api/${id}/${id}/vigil.sqlite`], ['admin', `/dicomweb/${id}/${id}/etc/passwd`]);
    }
    // Outside /api and /dicomweb, an unknown path is one of the dashboard's screens (its index.html, or
    // the page saying it is not built); a file outside the dashboard's folder is never served.
    for (const id of hostile) {
      for (const path of [`/${id}/${id}/etc/passwd`, `/${id}/${id}/package.json`, `/assets/${id}/${id}/package.json`, `/assets/${id}%2f${id}%2fvigil.sqlite`]) {
        const response = await rawRequest('GET', path, {});
        expect([200, 400, 403, 404], `GET ${path}`).toContain(response.status);
        if (response.status === 200) expect(response.head.toLowerCase(), path).toContain('content-type: text/html');
        else expect(Object.keys(response.json()).sort(), path).toEqual(['code', 'message', 'requestId', 'statusCode']);
        expect(response.body, path).not.toMatch(/root:x:0:0|"devDependencies"|SQLite format/);
      }
    }
    for (const [role, path] of attempts) {
      const response = await rawRequest('GET', path, auth(role));
      expect([400, 404], `${role} GET ${path}`).toContain(response.status);
      expect(Object.keys(response.json()).sort(), path).toEqual(['code', 'message', 'requestId', 'statusCode']);
      expect(response.body, path).not.toMatch(/passwd|DROP TABLE|OR 1=1|vigil\.sqlite|Set-Cookie|__proto__|%ZZ|aaaaaaaa/i);
      expect(response.head.toLowerCase()).not.toContain('set-cookie');
    }
    // A review posted to a hostile item id, and list cursors of the same kind.
    for (const id of hostile) {
      const review = await rawRequest(
        'POST',
        `/api/worklist/${id}/review`,
        { ...auth('clinician-reviewer'), 'content-type': 'application/json' },
        JSON.stringify({ findingPresent: true, imageQualityAdequate: true, agreesWithModel: true, comment: '' }),
      );
      expect([400, 404], `POST review ${id}`).toContain(review.status);
      for (const [role, list] of [
        ['ml-engineer', '/api/studies'],
        ['clinician-reviewer', '/api/worklist'],
        ['clinician-reviewer', '/api/reviews'],
      ] as const) {
        const page = await rawRequest('GET', `${list}?cursor=${id}&limit=${id}`, auth(role));
        expect([200, 400], `${list}?cursor=${id}`).toContain(page.status);
      }
    }
    expect(await request('GET', '/api/studies', { headers: auth('ml-engineer') }).then((r) => r.status), 'the tables are all still there').toBe(200);
    await expectHealthy();
  });

  it('leaks nothing: no planted identifier, token or stack trace in any response or log line, and nothing on the console', async () => {
    // STOW-RS of the planted instance (a good one, and one cut short) so the HTTP ingest paths log too.
    const { buildPart10 } = await import('../../src/adapters/dicom-dcmjs/internal/test-builders.js');
    const part10 = Buffer.from(buildPart10(plantedDataset(), { transferSyntaxUid: EXPLICIT_VR_LE }));
    for (const bytes of [part10, part10.subarray(0, part10.length - 500)]) {
      await request('POST', '/dicomweb/studies', {
        headers: { ...auth('integration'), 'content-type': stowType },
        body: Buffer.concat([Buffer.from('--b\r\nContent-Type: application/dicom\r\n\r\n'), bytes, Buffer.from('\r\n--b--\r\n')]),
      });
    }
    await expectHealthy();
    expect(bodies.length).toBeGreaterThan(50);
    expect(stderr, 'the debug log was captured').toContain('"stage":"http"');
    // The one exception: a STOW-RS response names the SOP Instance UIDs it stored (PS3.18 Table 10.5.3-2).
    const inResponses = Object.values(PLANTED);
    const inLogs = [...inResponses, SYNTHETIC_IDENTIFIERS.sopInstanceUid, SYNTHETIC_IDENTIFIERS.seriesInstanceUid];
    // A whole value, not a prefix: the planted Study Instance UID begins the SOP Instance UID.
    const holds = (text: string, needle: string) => new RegExp(`${needle.replace(/[.^$*+?()[\]{}|\\]/g, '\\$&')}(?![.0-9])`).test(text);
    for (const needle of inResponses) for (const body of bodies) expect(holds(body, needle), `response holds "${needle}"`).toBe(false);
    for (const needle of inLogs) expect(holds(stderr, needle), `log holds "${needle}"`).toBe(false);
    for (const token of [...tokens.values(), revoked]) expect(stderr.includes(token)).toBe(false);
    for (const body of bodies) expect(body, 'a stack trace').not.toMatch(/\n\s+at |\.ts:\d+|node_modules|Error:/);
    // Every line on stderr is a log record; stdout carries only the fixture's own lines: no library printed.
    for (const line of stderr.split('\n').filter((l) => l.length > 0)) expect(() => JSON.parse(line) as unknown, line.slice(0, 200)).not.toThrow();
    expect(stdout.trim().split('\n')).toEqual([expect.stringMatching(/^ready \d+ \d+$/)]);
  });
});
