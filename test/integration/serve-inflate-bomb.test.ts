/**
 * Decompression bombs against a real `vigil serve` process (test/fixtures/serve/run-server.ts), at the
 * default limits: a 1.5 MB Deflated Explicit VR Little Endian file whose dataset inflates to 1.5 GB. It
 * used to be acknowledged as Success after about a minute, with the server at 6 GB resident, /api/health
 * unanswered throughout and 1.6 to 1.8 GB still held afterwards (C-STORE and STOW-RS alike). Now the
 * inflation stops at VIGIL_MAX_INFLATE_RATIO (100) times the deflated size, off the event loop, the
 * instance is refused with a coded status, nothing is stored, and the memory comes back.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SYNTHETIC_IDENTIFIERS, buildPart10, deflatedBomb, el, imageDataset, sampleBytes } from '../../src/adapters/dicom-dcmjs/internal/test-builders.js';
import { readPart10, sendRawStore } from '../../src/adapters/dimse-dcmjs/internal/test-raw-scu.js';
import { openSqliteDatabase } from '../../src/adapters/store-sqlite/open-sqlite.js';
import { SqliteAccessStore } from '../../src/adapters/store-sqlite/sqlite-access-store.js';
import { REPO_ROOT } from '../helpers/sample-data.js';

const LOADER = join(REPO_ROOT, 'test/fixtures/ts-loader/register.js');
const SERVER = join(REPO_ROOT, 'test/fixtures/serve/run-server.ts');
const MiB = 1024 ** 2;
/** 1.5 GB of zeros, deflated to about 1.5 MB: the bomb from the field. */
const BOMB_ZEROS = 1_500_000_000;

let dir: string;
let child: ChildProcess;
let dicomPort: number;
let base: string;
let token: string;
let stderr = '';

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vigil-inflate-bomb-'));
  child = spawn(process.execPath, ['--import', LOADER, SERVER, dir], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, LOG_LEVEL: 'info', VIGIL_MAX_UPLOAD_BYTES: String(8 * MiB) },
  });
  child.stderr?.on('data', (chunk: Buffer) => void (stderr += chunk.toString()));
  let stdout = '';
  [dicomPort, base] = await new Promise<[number, string]>((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const match = /ready (\d+) (\d+)/.exec(stdout);
      if (match) resolve([Number(match[1]), `http://127.0.0.1:${match[2]}`]);
    });
    child.on('exit', (code) => reject(new Error(`server exited (${String(code)}) before it was ready: ${stderr}`)));
  });
  const db = openSqliteDatabase({ dataDir: dir });
  try {
    const access = new SqliteAccessStore(db, { now: () => new Date() });
    token = (await access.issueToken((await access.createUser('bomb-sender', 'integration')).userId, 'test')).secret;
  } finally {
    db.close();
  }
}, 60_000);

afterAll(() => {
  child?.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

function residentBytes(): number {
  const kib = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${String(child.pid)}/status`, 'utf8'))?.[1];
  return Number(kib) * 1024;
}

function storedInstances(): number {
  const db = openSqliteDatabase({ dataDir: dir });
  try {
    return db.prepare<[], number>('SELECT count(*) FROM study_instances').pluck().get() ?? 0;
  } finally {
    db.close();
  }
}

const objectFiles = (): string[] =>
  existsSync(join(dir, 'objects')) ? readdirSync(join(dir, 'objects'), { recursive: true, encoding: 'utf8' }).filter((name) => name.endsWith('.dcm')) : [];

/**
 * Runs `send` while watching the server: its resident memory every 20 ms, and /api/health back to back.
 * Then waits (up to 15 s) for the resident memory to come back near where it started.
 */
async function watch<T>(send: () => Promise<T>): Promise<{ result: T; elapsedMs: number; peakGrowth: number; afterGrowth: number; slowestHealthMs: number }> {
  const baseline = residentBytes();
  let peak = baseline;
  const sampler = setInterval(() => (peak = Math.max(peak, residentBytes())), 20);
  let watching = true;
  let slowestHealthMs = 0;
  const health = (async () => {
    while (watching) {
      const started = performance.now();
      const response = await fetch(`${base}/api/health`);
      await response.text();
      expect(response.status).toBe(200);
      slowestHealthMs = Math.max(slowestHealthMs, performance.now() - started);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  })();
  const started = performance.now();
  const result = await send();
  const elapsedMs = performance.now() - started;
  watching = false;
  await health;
  const deadline = Date.now() + 15_000;
  while (residentBytes() - baseline > 64 * MiB && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
  clearInterval(sampler);
  return { result, elapsedMs, peakGrowth: peak - baseline, afterGrowth: residentBytes() - baseline, slowestHealthMs };
}

/** Health answered a few times and the ingest path loaded, so that the baseline is a warm server's. */
async function warmUp(): Promise<void> {
  for (let i = 0; i < 5; i++) await fetch(`${base}/api/health`).then((r) => r.text());
  await new Promise((resolve) => setTimeout(resolve, 1_000));
}

describe('a decompression bomb at the default limits', () => {
  const bomb = Buffer.from(deflatedBomb(BOMB_ZEROS));
  const info = readPart10(bomb);

  it('still takes genuine Deflated instances (C-STORE, STOW-RS), kept inflated (Explicit VR Little Endian) so they are never inflated again', async () => {
    const genuine = (sop: string): Buffer => {
      const pixels = Array.from({ length: 64 * 64 }, (_, i) => (i * 37) % 4096);
      const dataset = imageDataset({
        rows: 64,
        columns: 64,
        bitsAllocated: 16,
        bitsStored: 12,
        modality: 'CR',
        pixelData: el(0x7fe00010, 'OW', sampleBytes(pixels, 16)),
      }).map((e) => (e.tag === 0x00080018 ? el(0x00080018, 'UI', sop) : e));
      return Buffer.from(buildPart10(dataset, { transferSyntaxUid: '1.2.840.10008.1.2.1.99' }));
    };
    const file = genuine(`${SYNTHETIC_IDENTIFIERS.sopInstanceUid}.1`);
    const sent = readPart10(file);
    const result = await sendRawStore(dicomPort, {
      callingAe: 'MODALITY',
      calledAe: 'VIGIL',
      sopClassUid: sent.sopClassUid,
      sopInstanceUid: sent.sopInstanceUid,
      transferSyntaxUid: sent.transferSyntaxUid,
      dataset: file.subarray(sent.datasetOffset),
    });
    expect(result).toEqual({ kind: 'status', status: 0 });
    const stow = await fetch(`${base}/dicomweb/studies`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'multipart/related; type="application/dicom"; boundary=b' },
      body: Buffer.concat([
        Buffer.from('--b\r\nContent-Type: application/dicom\r\n\r\n'),
        genuine(`${SYNTHETIC_IDENTIFIERS.sopInstanceUid}.2`),
        Buffer.from('\r\n--b--\r\n'),
      ]),
    });
    expect(stow.status).toBe(200);
    expect(storedInstances()).toBe(2);
    for (const stored of objectFiles()) expect(readPart10(readFileSync(join(dir, 'objects', stored))).transferSyntaxUid).toBe('1.2.840.10008.1.2.1');
  });

  it('over C-STORE: refused 0xC000 with Error Comment DICOM_INFLATE_LIMIT_EXCEEDED, nothing stored, memory back, health answered', async () => {
    expect(bomb.length).toBeLessThan(1_600_000);
    await warmUp();
    const watched = await watch(() =>
      sendRawStore(dicomPort, {
        callingAe: 'MODALITY',
        calledAe: 'VIGIL',
        sopClassUid: info.sopClassUid,
        sopInstanceUid: info.sopInstanceUid,
        transferSyntaxUid: info.transferSyntaxUid,
        dataset: bomb.subarray(info.datasetOffset),
      }),
    );
    console.info(
      `C-STORE bomb: answered in ${watched.elapsedMs.toFixed(0)} ms, peak RSS +${(watched.peakGrowth / MiB).toFixed(0)} MiB, ` +
        `after +${(watched.afterGrowth / MiB).toFixed(0)} MiB, slowest /api/health ${watched.slowestHealthMs.toFixed(0)} ms`,
    );
    expect(watched.result).toEqual({ kind: 'status', status: 0xc000, errorComment: 'DICOM_INFLATE_LIMIT_EXCEEDED' });
    expect(storedInstances(), 'only the two genuine instances').toBe(2);
    expect(objectFiles()).toHaveLength(2);
    // 100 × 1.48 MB = 148 MB at most is inflated, never the 1.5 GB (the server used to reach 6 GB).
    expect(watched.peakGrowth, 'peak resident growth').toBeLessThan(600 * MiB);
    expect(watched.afterGrowth, 'resident growth once refused').toBeLessThan(64 * MiB);
    // Generous for a loaded CI machine; the inflation used to hold the event loop for the whole minute.
    expect(watched.slowestHealthMs, 'slowest /api/health during the bomb').toBeLessThan(5_000);
    expect(stderr).toContain('"code":"DICOM_INFLATE_LIMIT_EXCEEDED"');
  });

  it('over STOW-RS: listed as failed with reason 0xC000 (409), named from its meta group, nothing stored, memory back', async () => {
    await warmUp();
    const body = Buffer.concat([Buffer.from('--b\r\nContent-Type: application/dicom\r\n\r\n'), bomb, Buffer.from('\r\n--b--\r\n')]);
    const watched = await watch(async () => {
      const response = await fetch(`${base}/dicomweb/studies`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'multipart/related; type="application/dicom"; boundary=b' },
        body,
      });
      return { status: response.status, json: await response.json() };
    });
    console.info(
      `STOW-RS bomb: answered in ${watched.elapsedMs.toFixed(0)} ms, peak RSS +${(watched.peakGrowth / MiB).toFixed(0)} MiB, ` +
        `after +${(watched.afterGrowth / MiB).toFixed(0)} MiB, slowest /api/health ${watched.slowestHealthMs.toFixed(0)} ms`,
    );
    expect(watched.result).toEqual({
      status: 409,
      json: {
        '00081198': {
          vr: 'SQ',
          Value: [
            {
              '00081150': { vr: 'UI', Value: [info.sopClassUid] },
              '00081155': { vr: 'UI', Value: [info.sopInstanceUid] },
              '00081197': { vr: 'US', Value: [0xc000] },
              // Vigil's private block: the coded reason (docs/api.md, STOW-RS).
              '00090010': { vr: 'LO', Value: ['VIGIL 1.0'] },
              '00091005': { vr: 'LO', Value: ['DICOM_INFLATE_LIMIT_EXCEEDED'] },
            },
          ],
        },
      },
    });
    expect(storedInstances(), 'only the two genuine instances').toBe(2);
    expect(objectFiles()).toHaveLength(2);
    expect(watched.peakGrowth, 'peak resident growth').toBeLessThan(600 * MiB);
    expect(watched.afterGrowth, 'resident growth once refused').toBeLessThan(64 * MiB);
    expect(watched.slowestHealthMs, 'slowest /api/health during the bomb').toBeLessThan(5_000);
  });
});
