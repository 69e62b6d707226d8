import { execFile, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateRawSync } from 'node:zlib';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { freePort } from '../../../test/helpers/dicom-peers.js';
import { DICOM_SAMPLES, hasDicomSamples } from '../../../test/helpers/sample-data.js';
import type { DicomReceiverOptions, ReceivedInstance, StoreHandler, StoreOutcome } from '../../ports/dicom-receiver.js';
import { buildPart10, el, imageDataset } from '../dicom-dcmjs/internal/test-builders.js';
import { findTransferSyntax } from '../dicom-dcmjs/internal/transfer-syntax.js';
import { DIMSE_STATUS, DimseDcmjsReceiver, dimseStatusOf, RECEIVABLE_TRANSFER_SYNTAXES } from './dimse-dcmjs-receiver.js';
import { STORAGE_SOP_CLASSES } from './internal/storage-sop-classes.js';
import { associateRequest, negotiate, readPart10, sendRawStore } from './internal/test-raw-scu.js';

const hasDcmtk = ['storescu', 'echoscu', 'dcmsend'].every((tool) => spawnSync(tool, ['--version']).status === 0);
const SAMPLES = DICOM_SAMPLES;
const hasSamples = hasDicomSamples;
const sampleFiles = hasSamples ? readdirSync(SAMPLES).filter((name) => name.endsWith('.dcm')) : [];

/** storescu proposes only uncompressed syntaxes unless told; each compressed syntax has its own flag. */
const STORESCU_FLAG: Readonly<Record<string, string>> = {
  '1.2.840.10008.1.2.4.50': '-xy',
  '1.2.840.10008.1.2.4.51': '-xx',
  '1.2.840.10008.1.2.4.70': '-xs',
  '1.2.840.10008.1.2.4.80': '-xt',
  '1.2.840.10008.1.2.4.81': '-xu',
  '1.2.840.10008.1.2.4.90': '-xv',
  '1.2.840.10008.1.2.4.91': '-xw',
  '1.2.840.10008.1.2.5': '-xr',
  '1.2.840.10008.1.2.1.99': '-xd',
  '1.2.840.10008.1.2.2': '-xb',
  '1.2.840.10008.1.2.1': '-xe',
  '1.2.840.10008.1.2': '-xi',
};

const DEFLATED = '1.2.840.10008.1.2.1.99';
/** The syntaxes issue 5 asks the receiver to take. */
const REQUIRED_TRANSFER_SYNTAXES = [
  '1.2.840.10008.1.2',
  '1.2.840.10008.1.2.1',
  '1.2.840.10008.1.2.2',
  '1.2.840.10008.1.2.1.99',
  '1.2.840.10008.1.2.5',
  '1.2.840.10008.1.2.4.50',
  '1.2.840.10008.1.2.4.51',
  '1.2.840.10008.1.2.4.57',
  '1.2.840.10008.1.2.4.70',
  '1.2.840.10008.1.2.4.80',
  '1.2.840.10008.1.2.4.81',
  '1.2.840.10008.1.2.4.90',
  '1.2.840.10008.1.2.4.91',
  '1.2.840.10008.1.2.4.201',
  '1.2.840.10008.1.2.4.202',
  '1.2.840.10008.1.2.4.203',
];

interface Run {
  readonly code: number;
  readonly output: string;
}

function run(command: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(command, args, { env: { ...process.env, ...env }, timeout: 60_000, maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
      resolve({ code, output: `${stdout}${stderr}` });
    });
  });
}

const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');
const datasetOf = (bytes: Buffer): Buffer => bytes.subarray(readPart10(bytes).datasetOffset);

interface Received {
  readonly instance: ReceivedInstance;
  readonly bytes: Buffer;
}

let workDir: string;
beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'vigil-dimse-'));
});
afterAll(async () => {
  await rm(workDir, { recursive: true, force: true });
});

const running: DimseDcmjsReceiver[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((receiver) => receiver.stop()));
});

async function startReceiver(
  overrides: Partial<DicomReceiverOptions> = {},
  outcome: (instance: ReceivedInstance) => Promise<StoreOutcome> | StoreOutcome = () => ({ status: 'stored' }),
): Promise<{ port: number; received: Received[]; incomingDir: string; receiver: DimseDcmjsReceiver }> {
  const received: Received[] = [];
  const incomingDir = join(workDir, `incoming-${running.length}-${Date.now()}`);
  const receiver = new DimseDcmjsReceiver({
    port: 0,
    host: '127.0.0.1',
    aeTitle: 'VIGIL',
    allowlist: { callingAeTitles: '*' },
    acceptedTransferSyntaxes: RECEIVABLE_TRANSFER_SYNTAXES,
    associateTimeoutMs: 10_000,
    idleTimeoutMs: 10_000,
    incomingDir,
    minFreeDiskBytes: 0,
    ...overrides,
  });
  const handler: StoreHandler = async (instance) => {
    received.push({ instance, bytes: Buffer.from(await instance.bytes()) });
    return outcome(instance);
  };
  const { port } = await receiver.start(handler);
  running.push(receiver);
  return { port, received, incomingDir, receiver };
}

describe('dimseStatusOf (PS3.4 B.2.3, PS3.7 C)', () => {
  it('acknowledges only stored and duplicate', () => {
    expect(dimseStatusOf({ status: 'stored' })).toBe(0x0000);
    expect(dimseStatusOf({ status: 'duplicate' })).toBe(0x0000);
    expect(dimseStatusOf({ status: 'failed' })).toBe(0x0110);
    expect(dimseStatusOf({ status: 'refused', reason: 'out_of_resources' })).toBe(0xa700);
    expect(dimseStatusOf({ status: 'refused', reason: 'cannot_understand' })).toBe(0xc000);
    expect(dimseStatusOf({ status: 'refused', reason: 'not_allowed' })).toBe(0x0124);
    expect(dimseStatusOf({ status: 'refused', reason: 'sop_class_not_supported' })).toBe(0x0122);
  });
});

describe.skipIf(!hasSamples)('DimseDcmjsReceiver with a hand-written SCU, exact bytes (needs ../shared/data/dicom-samples)', () => {
  // In memory (the default) and spilled to a file part-way (a limit smaller than most samples).
  it.each(sampleFiles.flatMap((name) => [[name, 'in memory', undefined] as const, [name, 'spilled', 20_000] as const]))(
    'stores %s with the data set byte-identical to the file, fragments reassembled (%s)',
    async (name, _mode, maxInMemoryBytes) => {
      const { port, received } = await startReceiver(maxInMemoryBytes === undefined ? {} : { maxInMemoryBytes });
      const bytes = readFileSync(join(SAMPLES, name));
      const info = readPart10(bytes);
      const dataset = bytes.subarray(info.datasetOffset);
      const result = await sendRawStore(port, {
        callingAe: 'RAWSCU',
        calledAe: 'VIGIL',
        sopClassUid: info.sopClassUid,
        sopInstanceUid: info.sopInstanceUid,
        transferSyntaxUid: info.transferSyntaxUid,
        dataset,
        fragmentBytes: 7_777,
      });
      expect(result).toEqual({ kind: 'status', status: 0x0000 });
      expect(received).toHaveLength(1);
      const [{ instance, bytes: stored } = expect.fail('no instance')] = received;
      const storedInfo = readPart10(stored);
      expect(storedInfo.datasetOffset).toBe(instance.datasetOffset);
      expect(sha256(stored.subarray(storedInfo.datasetOffset))).toBe(sha256(dataset));
      expect(storedInfo).toMatchObject({ sopClassUid: info.sopClassUid, sopInstanceUid: info.sopInstanceUid, transferSyntaxUid: info.transferSyntaxUid });
      expect(instance).toMatchObject({
        sopClassUid: info.sopClassUid,
        sopInstanceUid: info.sopInstanceUid,
        transferSyntaxUid: info.transferSyntaxUid,
        callingAeTitle: 'RAWSCU',
        calledAeTitle: 'VIGIL',
        remoteAddress: '127.0.0.1',
        sizeBytes: stored.length,
      });
    },
  );
});

describe('DimseDcmjsReceiver refusal codes', () => {
  it("sends a refusal's code as Error Comment (0000,0902) beside the status, and nothing else", async () => {
    const bytes = Buffer.from(
      buildPart10(imageDataset({ rows: 2, columns: 2, bitsAllocated: 8, pixelData: el(0x7fe00010, 'OB', new Uint8Array(4)) }), { transferSyntaxUid: DEFLATED }),
    );
    const info = readPart10(bytes);
    const request = {
      callingAe: 'RAWSCU',
      calledAe: 'VIGIL',
      sopClassUid: info.sopClassUid,
      sopInstanceUid: info.sopInstanceUid,
      transferSyntaxUid: info.transferSyntaxUid,
      dataset: bytes.subarray(info.datasetOffset),
    };
    const outcomes: StoreOutcome[] = [
      { status: 'refused', reason: 'cannot_understand', code: 'DICOM_INFLATE_LIMIT_EXCEEDED' },
      { status: 'refused', reason: 'out_of_resources', code: 'STORE_DISK_FULL' },
      // Only a code's own characters go out.
      { status: 'refused', reason: 'cannot_understand', code: 'not a code\\' },
      { status: 'refused', reason: 'cannot_understand' },
    ];
    const { port } = await startReceiver({}, () => outcomes.shift() ?? { status: 'stored' });
    expect(await sendRawStore(port, request)).toEqual({ kind: 'status', status: 0xc000, errorComment: 'DICOM_INFLATE_LIMIT_EXCEEDED' });
    expect(await sendRawStore(port, request)).toEqual({ kind: 'status', status: 0xa700, errorComment: 'STORE_DISK_FULL' });
    expect(await sendRawStore(port, request)).toEqual({ kind: 'status', status: 0xc000 });
    expect(await sendRawStore(port, request)).toEqual({ kind: 'status', status: 0xc000 });
    expect(await sendRawStore(port, request)).toEqual({ kind: 'status', status: 0x0000 });
  });
});

describe.skipIf(!hasSamples)('DimseDcmjsReceiver outcomes and refusals, hand-written SCU (needs ../shared/data/dicom-samples)', () => {
  const file = (): { info: ReturnType<typeof readPart10>; dataset: Buffer } => {
    const bytes = readFileSync(join(SAMPLES, 'ct_small_explicitLE.dcm'));
    const info = readPart10(bytes);
    return { info, dataset: bytes.subarray(info.datasetOffset) };
  };
  const send = (port: number, overrides: { callingAe?: string; calledAe?: string; sopClassUid?: string } = {}) => {
    const { info, dataset } = file();
    return sendRawStore(port, {
      callingAe: overrides.callingAe ?? 'RAWSCU',
      calledAe: overrides.calledAe ?? 'VIGIL',
      sopClassUid: overrides.sopClassUid ?? info.sopClassUid,
      sopInstanceUid: info.sopInstanceUid,
      transferSyntaxUid: info.transferSyntaxUid,
      dataset,
    });
  };

  it.each([
    [{ status: 'duplicate' } as const, DIMSE_STATUS.success],
    [{ status: 'failed' } as const, DIMSE_STATUS.processingFailure],
    [{ status: 'refused', reason: 'out_of_resources' } as const, DIMSE_STATUS.outOfResources],
    [{ status: 'refused', reason: 'not_allowed' } as const, DIMSE_STATUS.notAuthorized],
  ])('answers handler outcome %o with status %i and deletes the file', async (outcome, status) => {
    const { port, incomingDir } = await startReceiver({}, () => outcome);
    expect(await send(port)).toEqual({ kind: 'status', status });
    expect(await readdir(incomingDir)).toEqual([]);
  });

  it('answers 0x0110 when the handler throws', async () => {
    const { port } = await startReceiver({}, () => {
      throw new Error('disk on fire');
    });
    expect(await send(port)).toEqual({ kind: 'status', status: 0x0110 });
  });

  it('closes a connection from a host outside the allowlist at accept, without a word (no A-ASSOCIATE-RJ)', async () => {
    const { port, received } = await startReceiver({ allowlist: { callingAeTitles: '*', hosts: ['10.0.0.0/8', '::2'] } });
    expect(await send(port)).toEqual({ kind: 'closed' });
    expect(received).toHaveLength(0);
  });

  it('refuses an association beyond maxAssociations (transient, local limit exceeded) and takes one again once a slot frees', async () => {
    const { port } = await startReceiver({ maxAssociations: 1 });
    const { info } = file();
    const holder = connect({ host: '127.0.0.1', port });
    const accepted = new Promise<number>((resolve) => holder.once('data', (chunk: Buffer) => resolve(chunk.readUInt8(0))));
    holder.write(associateRequest('HOLDER', 'VIGIL', [{ abstractSyntax: info.sopClassUid, transferSyntaxes: [info.transferSyntaxUid] }]));
    expect(await accepted, 'A-ASSOCIATE-AC').toBe(0x02);
    // PS3.8 Table 9-21: result 2 rejected-transient, source 3 service provider (presentation), reason 2 local limit exceeded.
    expect(await send(port)).toEqual({ kind: 'rejected', result: 2, source: 3, reason: 2 });
    await new Promise<void>((resolve) => {
      holder.once('close', () => resolve());
      holder.destroy();
    });
    await expect.poll(() => send(port), { timeout: 5_000 }).toEqual({ kind: 'status', status: DIMSE_STATUS.success });
  });

  it('rejects a wrong called AE title (called AE not recognized)', async () => {
    const { port } = await startReceiver();
    expect(await send(port, { calledAe: 'SOMEONE' })).toEqual({ kind: 'rejected', result: 1, source: 1, reason: 7 });
  });

  it('refuses the presentation context of a SOP class that is not an image or SR storage class', async () => {
    const { port } = await startReceiver();
    // RT Plan Storage: a storage class, but not one Vigil takes.
    expect(await send(port, { sopClassUid: '1.2.840.10008.5.1.4.1.1.481.5' })).toEqual({ kind: 'context-refused', result: 3 });
  });
  it('stop() waits for a running handler, answers it, then refuses new connections', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let handlerStarted: () => void = () => undefined;
    const started = new Promise<void>((resolve) => (handlerStarted = resolve));
    const { port, receiver } = await startReceiver({}, async () => {
      handlerStarted();
      await gate;
      return { status: 'stored' };
    });
    const sending = send(port);
    await started;
    let stopped = false;
    const stopping = receiver.stop().then(() => (stopped = true));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(stopped).toBe(false);
    release();
    expect(await sending).toEqual({ kind: 'status', status: 0x0000 });
    await stopping;
    expect(await send(port)).toEqual({ kind: 'closed' });
  });

  it('never writes to the console, whatever dcmjs-dimse would log', async () => {
    const spies = (['log', 'info', 'warn', 'error', 'debug', 'trace'] as const).map((method) => vi.spyOn(console, method));
    try {
      const { port } = await startReceiver();
      const bytes = readFileSync(join(SAMPLES, 'sc_fake_phi_simpson.dcm'));
      const info = readPart10(bytes);
      const sent = { callingAe: 'RAWSCU', calledAe: 'VIGIL', ...info, dataset: bytes.subarray(info.datasetOffset) };
      expect(await sendRawStore(port, sent)).toEqual({ kind: 'status', status: 0 });
      expect(await sendRawStore(port, { ...sent, calledAe: 'WRONG' })).toMatchObject({ kind: 'rejected' });
      for (const spy of spies) expect(spy).not.toHaveBeenCalled();
    } finally {
      for (const spy of spies) spy.mockRestore();
    }
  });
});

describe('RECEIVABLE_TRANSFER_SYNTAXES', () => {
  it('lists only syntaxes the DICOM reader decodes', () => {
    expect(RECEIVABLE_TRANSFER_SYNTAXES.filter((uid) => findTransferSyntax(uid) === undefined)).toEqual([]);
    expect(RECEIVABLE_TRANSFER_SYNTAXES).toEqual(expect.arrayContaining(REQUIRED_TRANSFER_SYNTAXES));
  });

  it('are each accepted, proposed alone, for every storage SOP class the receiver takes (what any -x option of storescu proposes)', async () => {
    const { port } = await startReceiver();
    const pairs = [...STORAGE_SOP_CLASSES.keys()].flatMap((abstractSyntax) =>
      RECEIVABLE_TRANSFER_SYNTAXES.map((transferSyntax) => ({ abstractSyntax, transferSyntaxes: [transferSyntax] })),
    );
    const refused: string[] = [];
    // PS3.8 allows 128 presentation contexts per association (odd ids 1 to 255).
    for (let start = 0; start < pairs.length; start += 128) {
      const batch = pairs.slice(start, start + 128);
      const answers = await negotiate(port, 'VIGIL', batch);
      if (answers === undefined) throw new Error('association rejected');
      batch.forEach(({ abstractSyntax, transferSyntaxes: [proposed] }, index) => {
        const answer = answers.get(index * 2 + 1);
        if (answer?.result !== 0 || answer.transferSyntax !== proposed) refused.push(`${abstractSyntax} ${proposed}`);
      });
    }
    expect(pairs.length).toBe(STORAGE_SOP_CLASSES.size * RECEIVABLE_TRANSFER_SYNTAXES.length);
    expect(refused).toEqual([]);
  });
});

describe('DimseDcmjsReceiver bad input', () => {
  async function echoWorks(port: number): Promise<boolean> {
    // A bare association request for Verification: accepted means the receiver still serves.
    return new Promise((resolve) => {
      const socket = connect({ host: '127.0.0.1', port }, () => {
        socket.write(associateRequest('PROBE', 'VIGIL', [{ abstractSyntax: '1.2.840.10008.1.1', transferSyntaxes: ['1.2.840.10008.1.2'] }]));
      });
      socket.once('data', (chunk: Buffer) => {
        socket.destroy();
        resolve(chunk.readUInt8(0) === 0x02);
      });
      socket.once('error', () => resolve(false));
    });
  }

  function sendBytes(port: number, bytes: Buffer, closeAfterMs = 300): Promise<'closed-by-server' | 'left-open'> {
    return new Promise((resolve) => {
      const socket = connect({ host: '127.0.0.1', port }, () => socket.write(bytes));
      const timer = setTimeout(() => {
        socket.destroy();
        resolve('left-open');
      }, closeAfterMs);
      socket.on('close', () => {
        clearTimeout(timer);
        resolve('closed-by-server');
      });
      socket.on('error', () => undefined);
    });
  }

  it('drops a connection that sends garbage, and keeps serving', async () => {
    const { port } = await startReceiver();
    expect(await sendBytes(port, Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'))).toBe('closed-by-server');
    expect(await sendBytes(port, Buffer.from([0x01, 0x00, 0x00, 0x00, 0x00, 0x08, 1, 2, 3, 4, 5, 6, 7, 8]))).toBe('closed-by-server');
    expect(await echoWorks(port)).toBe(true);
  });

  it('drops a PDU header announcing more than the maximum length, without buffering it', async () => {
    const { port } = await startReceiver();
    expect(await sendBytes(port, Buffer.from([0x04, 0x00, 0xff, 0xff, 0xff, 0xff, 0x00]))).toBe('closed-by-server');
    expect(await echoWorks(port)).toBe(true);
  });

  it('survives a truncated PDU: the peer vanishes mid-PDU, the association times out when the peer stays', async () => {
    const { port } = await startReceiver({ associateTimeoutMs: 1_000 });
    const request = associateRequest('PROBE', 'VIGIL', [{ abstractSyntax: '1.2.840.10008.1.1', transferSyntaxes: ['1.2.840.10008.1.2'] }]);
    expect(await sendBytes(port, request.subarray(0, 40), 100)).toBe('left-open');
    expect(await sendBytes(port, request.subarray(0, 40), 4_000)).toBe('closed-by-server');
    expect(await echoWorks(port)).toBe(true);
  });

  it.each([
    ['held in memory: nothing is ever written to the incoming folder', {}, 0],
    ['spilled to a file (maxInMemoryBytes 0): the partial file is deleted', { maxInMemoryBytes: 0 }, 1],
  ] as const)('drops a C-STORE whose data set stops mid-way, %s', async (_label, overrides, filesMidway) => {
    const { port, received, incomingDir } = await startReceiver(overrides);
    const socket = connect({ host: '127.0.0.1', port });
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write(associateRequest('PROBE', 'VIGIL', [{ abstractSyntax: '1.2.840.10008.5.1.4.1.1.2', transferSyntaxes: ['1.2.840.10008.1.2.1'] }]));
    await new Promise((resolve) => socket.once('data', resolve));
    const { pDataTf, storeCommand } = await import('./internal/test-raw-scu.js');
    socket.write(pDataTf(1, true, true, storeCommand(1, '1.2.840.10008.5.1.4.1.1.2', '1.2.3.4.5')));
    socket.write(pDataTf(1, false, false, Buffer.alloc(1000, 1)));
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect((await readdir(incomingDir)).length).toBe(filesMidway);
    socket.destroy();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await readdir(incomingDir)).toEqual([]);
    expect(received).toHaveLength(0);
    expect(await echoWorks(port)).toBe(true);
  });
});

describe('DimseDcmjsReceiver after a crash', () => {
  it('deletes the partial files a killed process left in its incoming folder when it starts', async () => {
    const incomingDir = join(workDir, `left-behind-${Date.now()}`);
    await mkdir(incomingDir, { recursive: true });
    await writeFile(join(incomingDir, 'a.part'), 'received bytes, never acknowledged');
    await writeFile(join(incomingDir, 'keep.txt'), 'not ours');
    await startReceiver({ incomingDir });
    expect(await readdir(incomingDir)).toEqual(['keep.txt']);
  });
});

describe.skipIf(!hasDcmtk)('DimseDcmjsReceiver with DCMTK (needs storescu/echoscu: apt-get install dcmtk)', () => {
  it('answers C-ECHO', async () => {
    const { port } = await startReceiver();
    const echo = await run('echoscu', ['-aec', 'VIGIL', '127.0.0.1', String(port)]);
    expect(echo.code, echo.output).toBe(0);
  });

  /** DCMTK's storescp in bit-preserving mode (-B) writes what it received: the oracle for "as sent". */
  async function receiveWithStorescp(path: string, flag: string): Promise<Buffer> {
    const outDir = await mkdtemp(join(workDir, 'storescp-'));
    const port = await freePort();
    const scp = spawn('storescp', ['-B', '+xa', '-od', outDir, String(port)], { stdio: 'ignore' });
    try {
      for (let attempt = 0; ; attempt += 1) {
        const store = await run('storescu', ['-R', flag, '127.0.0.1', String(port), path]);
        if (store.code === 0) break;
        if (attempt > 20) throw new Error(`storescp never answered: ${store.output}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const [name = ''] = await readdir(outDir);
      return await readFile(join(outDir, name));
    } finally {
      scp.kill();
    }
  }

  it.skipIf(!hasSamples).each(sampleFiles)('receives %s from storescu with the data set exactly as sent (storescp -B as oracle)', async (name) => {
    const path = join(SAMPLES, name);
    const info = readPart10(readFileSync(path));
    const flag = STORESCU_FLAG[info.transferSyntaxUid];
    if (flag === undefined) return; // HTJ2K: unknown to DCMTK 3.6.7; covered by the hand-written SCU above.
    const { port, received } = await startReceiver();
    const store = await run('storescu', ['-aec', 'VIGIL', '-R', flag, '127.0.0.1', String(port), path]);
    expect(store.code, store.output).toBe(0);
    expect(received).toHaveLength(1);
    const stored = received[0]?.bytes ?? Buffer.alloc(0);
    expect(readPart10(stored).transferSyntaxUid).toBe(info.transferSyntaxUid);
    // storescu re-encodes what it sends (it drops group lengths, re-deflates, ...), so the reference is
    // what DCMTK's own bit-preserving receiver got from the same command, not the file.
    const oracle = await receiveWithStorescp(path, flag);
    // storescp inflates a Deflated data set on receipt and deflates it again when writing (its -B keeps the
    // element encoding, not the deflate stream), so there the inflated bytes are compared. The hand-written
    // SCU above shows the deflate stream itself is kept byte for byte.
    const comparable = (bytes: Buffer): Buffer => (info.transferSyntaxUid === DEFLATED ? inflateRawSync(datasetOf(bytes)) : datasetOf(bytes));
    expect(sha256(comparable(stored))).toBe(sha256(comparable(oracle)));
  });

  /**
   * README's command. storescu proposes uncompressed syntaxes plus at most one compressed syntax per run
   * (-xs, -xv, …, one at a time) and cannot decompress JPEG 2000, so `storescu study/*.dcm` fails on any
   * compressed file it was not told about. DCMTK's dcmsend proposes, per SOP class, each transfer syntax
   * the files carry, and sends compressed files as they are.
   */
  it.skipIf(!hasSamples)('receives every sample DCMTK can read from one dcmsend run, compressed syntaxes unconverted', async () => {
    // HTJ2K (1.2.840.10008.1.2.4.201-203) is unknown to DCMTK before 3.6.8, which cannot even read such a file.
    const isHtj2k = (uid: string): boolean => uid.startsWith('1.2.840.10008.1.2.4.20');
    const files = sampleFiles.map((name) => readPart10(readFileSync(join(SAMPLES, name)))).filter((info) => !isHtj2k(info.transferSyntaxUid));
    const sendable = sampleFiles.filter((name) => !isHtj2k(readPart10(readFileSync(join(SAMPLES, name))).transferSyntaxUid));
    const { port, received } = await startReceiver();
    const send = await run('dcmsend', ['-aec', 'VIGIL', '127.0.0.1', String(port), ...sendable.map((name) => join(SAMPLES, name))]);
    expect(send.code, send.output).toBe(0);
    // Uncompressed files may arrive in another uncompressed syntax (dcmsend proposes them together); the rest as they are.
    const UNCOMPRESSED = new Set(['1.2.840.10008.1.2', '1.2.840.10008.1.2.1', '1.2.840.10008.1.2.2']);
    const key = (sopInstanceUid: string, transferSyntaxUid: string): string =>
      `${sopInstanceUid} ${UNCOMPRESSED.has(transferSyntaxUid) ? 'uncompressed' : transferSyntaxUid}`;
    expect(received.map(({ instance }) => key(instance.sopInstanceUid, instance.transferSyntaxUid)).sort()).toEqual(
      files.map((info) => key(info.sopInstanceUid, info.transferSyntaxUid)).sort(),
    );
    expect(files.length).toBeGreaterThanOrEqual(sampleFiles.length - 1);
  });

  it.skipIf(!hasSamples)('gives storescu a failure status when the handler refuses (needs ../shared/data/dicom-samples)', async () => {
    const { port } = await startReceiver({}, () => ({ status: 'refused', reason: 'out_of_resources' }));
    const store = await run('storescu', ['-v', '-aec', 'VIGIL', '127.0.0.1', String(port), join(SAMPLES, 'ct_small_explicitLE.dcm')]);
    expect(store.code).not.toBe(0);
    expect(store.output).toMatch(/0xa700|Refused: OutOfResources/i);
  });

  it.skipIf(!hasSamples)('acknowledges a duplicate as success (needs ../shared/data/dicom-samples)', async () => {
    const { port, received } = await startReceiver({}, () => ({ status: 'duplicate' }));
    const store = await run('storescu', ['-aec', 'VIGIL', '127.0.0.1', String(port), join(SAMPLES, 'ct_small_explicitLE.dcm')]);
    expect(store.code, store.output).toBe(0);
    expect(received).toHaveLength(1);
  });

  it.skipIf(!hasSamples)('rejects a calling AE title not on the allowlist (needs ../shared/data/dicom-samples)', async () => {
    const { port, received } = await startReceiver({ allowlist: { callingAeTitles: ['MODALITY1'] } });
    const store = await run('storescu', ['-aet', 'OTHER', '-aec', 'VIGIL', '127.0.0.1', String(port), join(SAMPLES, 'ct_small_explicitLE.dcm')]);
    expect(store.code).not.toBe(0);
    expect(store.output).toMatch(/Calling AE Title Not Recognized/i);
    const allowed = await run('storescu', ['-aet', 'MODALITY1', '-aec', 'VIGIL', '127.0.0.1', String(port), join(SAMPLES, 'ct_small_explicitLE.dcm')]);
    expect(allowed.code, allowed.output).toBe(0);
    expect(received).toHaveLength(1);
  });

  it.skipIf(!hasSamples)('refuses new associations when the disk is low (transient, local limit exceeded) (needs ../shared/data/dicom-samples)', async () => {
    const { port, received } = await startReceiver({ minFreeDiskBytes: Number.MAX_SAFE_INTEGER });
    const store = await run('storescu', ['-aec', 'VIGIL', '127.0.0.1', String(port), join(SAMPLES, 'ct_small_explicitLE.dcm')]);
    expect(store.code).not.toBe(0);
    expect(store.output).toMatch(/Transient/i);
    expect(store.output).toMatch(/Local Limit Exceeded/i);
    expect(received).toHaveLength(0);
  });

  it.skipIf(!hasSamples)(
    '8 parallel storescu for 10 s: every acknowledged instance reaches the handler once per send, bytes intact',
    async () => {
      const files = ['ct_small_explicitLE.dcm', 'mr_small_explicitLE.dcm', 'us_phi_burnedin_yes.dcm'].map((name) => join(SAMPLES, name));
      // Three distinct instances (the mr_small_* samples share one SOP Instance UID, so only one is used).
      const keyOf = (info: { sopInstanceUid: string }): string => info.sopInstanceUid;
      // storescu re-encodes (see the oracle test above), so every stored copy must equal the first one.
      const expected = new Map<string, string>();
      const calls = new Map<string, number>();
      let corrupted = 0;
      const { port, received } = await startReceiver({}, (instance) => {
        calls.set(keyOf(instance), (calls.get(keyOf(instance)) ?? 0) + 1);
        return { status: 'stored' };
      });
      const deadline = Date.now() + 10_000;
      let acknowledged = 0;
      let runs = 0;
      await Promise.all(
        Array.from({ length: 8 }, async () => {
          while (Date.now() < deadline) {
            const store = await run('storescu', ['-v', '-aec', 'VIGIL', '127.0.0.1', String(port), ...files], { TCP_NODELAY: '1' });
            expect(store.code, store.output).toBe(0);
            acknowledged += store.output.match(/Received Store Response \(Success\)/g)?.length ?? 0;
            runs += 1;
          }
        }),
      );
      for (const { instance, bytes } of received) {
        const digest = sha256(datasetOf(bytes));
        if (digest !== (expected.get(keyOf(instance)) ?? expected.set(keyOf(instance), digest).get(keyOf(instance)))) corrupted += 1;
      }
      expect(expected.size).toBe(files.length);
      expect(runs).toBeGreaterThan(8);
      expect(acknowledged).toBe(runs * files.length);
      expect(received).toHaveLength(acknowledged);
      expect([...calls.values()]).toEqual(files.map(() => runs));
      expect(corrupted).toBe(0);
    },
    60_000,
  );
});
