/**
 * The receiver under pressure from other hosts: the allowlist at accept, the ARTIM deadline, the idle
 * timer, per-host shares and the exact association limit. 127.0.0.2 plays the other host (Linux routes all
 * of 127.0.0.0/8 to loopback, so a client socket bound to it reaches the receiver on 127.0.0.1 and is seen
 * as coming from 127.0.0.2); DCMTK's echoscu, from 127.0.0.1, plays the sender who must still be served.
 */
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DICOM_SAMPLES } from '../../../test/helpers/sample-data.js';
import type { DicomReceiverOptions, StoreOutcome } from '../../ports/dicom-receiver.js';
import { DIMSE_STATUS, DimseDcmjsReceiver, RECEIVABLE_TRANSFER_SYNTAXES } from './dimse-dcmjs-receiver.js';
import { associateRequest, readPart10, sendRawStore } from './internal/test-raw-scu.js';

const OTHER_HOST = '127.0.0.2';
const hasSecondLoopback = await new Promise<boolean>((resolve) => {
  const probe = createServer();
  probe.once('error', () => resolve(false));
  probe.listen(0, OTHER_HOST, () => probe.close(() => resolve(true)));
});
const hasEchoscu = spawnSync('echoscu', ['--version']).status === 0;
const SAMPLE = join(DICOM_SAMPLES, 'ct_small_explicitLE.dcm');
const BOTH_HOSTS = { callingAeTitles: '*', hosts: ['127.0.0.1', OTHER_HOST] } as const;

let workDir: string;
beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'vigil-dimse-limits-'));
});
afterAll(async () => {
  await rm(workDir, { recursive: true, force: true });
});

const running: DimseDcmjsReceiver[] = [];
const peers: Socket[] = [];
afterEach(async () => {
  for (const socket of peers.splice(0)) socket.destroy();
  await Promise.all(running.splice(0).map((receiver) => receiver.stop()));
});

async function startReceiver(
  overrides: Partial<DicomReceiverOptions> = {},
  outcome: () => Promise<StoreOutcome> = () => Promise.resolve({ status: 'stored' }),
): Promise<number> {
  const receiver = new DimseDcmjsReceiver({
    port: 0,
    host: '127.0.0.1',
    aeTitle: 'VIGIL',
    allowlist: BOTH_HOSTS,
    acceptedTransferSyntaxes: RECEIVABLE_TRANSFER_SYNTAXES,
    associateTimeoutMs: 5_000,
    idleTimeoutMs: 10_000,
    incomingDir: join(workDir, `incoming-${Date.now()}-${running.length}`),
    minFreeDiskBytes: 0,
    ...overrides,
  });
  const { port } = await receiver.start(outcome);
  running.push(receiver);
  return port;
}

const verificationRequest = (callingAe: string): Buffer =>
  associateRequest(callingAe, 'VIGIL', [{ abstractSyntax: '1.2.840.10008.1.1', transferSyntaxes: ['1.2.840.10008.1.2'] }]);

interface Peer {
  readonly socket: Socket;
  /** Every byte the receiver sent, in order. */
  readonly received: Buffer[];
  readonly connected: Promise<void>;
  /** Milliseconds from connecting until the receiver closed (or reset) the connection. */
  readonly closed: Promise<number>;
  /** The next chunk from the receiver, or undefined once it closed. */
  next(): Promise<Buffer | undefined>;
}

function openPeer(port: number, localAddress: string): Peer {
  const started = Date.now();
  const socket = connect({ host: '127.0.0.1', port, localAddress });
  peers.push(socket);
  socket.on('error', () => undefined);
  const received: Buffer[] = [];
  const waiting: ((chunk: Buffer | undefined) => void)[] = [];
  socket.on('data', (chunk: Buffer) => {
    received.push(chunk);
    waiting.shift()?.(chunk);
  });
  const closed = new Promise<number>((resolve) =>
    socket.once('close', () => {
      for (const wake of waiting.splice(0)) wake(undefined);
      resolve(Date.now() - started);
    }),
  );
  const connected = new Promise<void>((resolve) => {
    socket.once('connect', () => resolve());
    socket.once('close', () => resolve());
  });
  return {
    socket,
    received,
    connected,
    closed,
    next: () => (socket.destroyed ? Promise.resolve(undefined) : new Promise((resolve) => waiting.push(resolve))),
  };
}

/** Writes `bytes` one byte per `everyMs` until they run out or the connection closes; returns how many went out. */
function trickle(peer: Peer, bytes: Buffer, everyMs: number): { sent(): number } {
  let sent = 0;
  const timer = setInterval(() => {
    if (sent >= bytes.length || peer.socket.destroyed) clearInterval(timer);
    else peer.socket.write(bytes.subarray(sent, (sent += 1)));
  }, everyMs);
  void peer.closed.then(() => clearInterval(timer));
  return { sent: () => sent };
}

/** PS3.8 PDU types 0x02 A-ASSOCIATE-AC, 0x03 -RJ (with result/source/reason), 0x07 A-ABORT; or closed. */
function describeAnswer(chunk: Buffer | undefined): string {
  if (chunk === undefined) return 'closed';
  if (chunk.readUInt8(0) === 0x02) return 'AC';
  if (chunk.readUInt8(0) === 0x03) return `RJ ${chunk.readUInt8(7)}/${chunk.readUInt8(8)}/${chunk.readUInt8(9)}`;
  return `PDU 0x${chunk.readUInt8(0).toString(16)}`;
}

function echoscu(port: number): Promise<{ ok: boolean; ms: number; output: string }> {
  const started = Date.now();
  return new Promise((resolve) => {
    execFile('echoscu', ['-aec', 'VIGIL', '127.0.0.1', String(port)], { timeout: 20_000 }, (error, stdout, stderr) =>
      resolve({ ok: error === null, ms: Date.now() - started, output: `${stdout}${stderr}` }),
    );
  });
}

/** A-ASSOCIATE-RJ result 2 transient, source 3 service provider (presentation), reason 2 local limit exceeded (PS3.8 Table 9-21). */
const LOCAL_LIMIT_EXCEEDED = 'RJ 2/3/2';

describe.skipIf(!hasSecondLoopback)('DimseDcmjsReceiver: who may hold a slot, and for how long (needs 127.0.0.2 on loopback)', () => {
  it('drops a peer trickling its A-ASSOCIATE-RQ one byte every 200 ms when ARTIM expires: a deadline, not an idle timer', async () => {
    const port = await startReceiver({ associateTimeoutMs: 1_000 });
    const peer = openPeer(port, '127.0.0.1');
    await peer.connected;
    const request = verificationRequest('SLOWLORIS');
    const sending = trickle(peer, request, 200);
    const closedAfterMs = await peer.closed;
    expect(sending.sent()).toBeLessThan(request.length);
    expect(closedAfterMs).toBeGreaterThanOrEqual(900);
    expect(closedAfterMs).toBeLessThan(2_500);
    expect(peer.received).toEqual([]);
  });

  it('drops a peer that sends PDUs but never an A-ASSOCIATE-RQ, however often it sends them', async () => {
    const port = await startReceiver({ associateTimeoutMs: 1_000 });
    const peer = openPeer(port, '127.0.0.1');
    await peer.connected;
    // A-RELEASE-RQ every 300 ms: a complete PDU each time, which used to count as activity.
    const releaseRequest = Buffer.from([0x05, 0, 0, 0, 0, 4, 0, 0, 0, 0]);
    const timer = setInterval(() => peer.socket.destroyed || peer.socket.write(releaseRequest), 300);
    try {
      expect(await peer.closed).toBeLessThan(2_500);
    } finally {
      clearInterval(timer);
    }
  });

  it('closes a connection that sends nothing at all when ARTIM expires', async () => {
    const port = await startReceiver({ associateTimeoutMs: 1_000 });
    const peer = openPeer(port, '127.0.0.1');
    await peer.connected;
    const closedAfterMs = await peer.closed;
    expect(closedAfterMs).toBeGreaterThanOrEqual(900);
    expect(closedAfterMs).toBeLessThan(2_500);
  });

  it('aborts an association whose peer stops mid-PDU, or trickles one a byte every 100 ms: only a whole PDU counts as activity', async () => {
    const port = await startReceiver({ idleTimeoutMs: 600 });
    const store = [{ abstractSyntax: '1.2.840.10008.5.1.4.1.1.2', transferSyntaxes: ['1.2.840.10008.1.2.1'] }];
    const { pDataTf, storeCommand } = await import('./internal/test-raw-scu.js');
    const command = pDataTf(1, true, true, storeCommand(1, '1.2.840.10008.5.1.4.1.1.2', '1.2.3.4.5'));
    for (const sendRest of [(_peer: Peer) => undefined, (peer: Peer) => void trickle(peer, command.subarray(10), 100)]) {
      const peer = openPeer(port, '127.0.0.1');
      peer.socket.write(associateRequest('STALLER', 'VIGIL', store));
      expect(describeAnswer(await peer.next())).toBe('AC');
      const associatedAt = Date.now();
      // The PDU header and a few bytes of the command, then nothing (or a byte at a time).
      peer.socket.write(command.subarray(0, 10));
      sendRest(peer);
      expect(describeAnswer(await peer.next())).toBe('PDU 0x7');
      await peer.closed;
      expect(Date.now() - associatedAt).toBeGreaterThanOrEqual(550);
      expect(Date.now() - associatedAt).toBeLessThan(2_500);
    }
  });

  it('does not hold its own stalled event loop against a peer: a request that arrived in time is read before ARTIM or idle expiry is judged', async () => {
    const port = await startReceiver({ associateTimeoutMs: 300, idleTimeoutMs: 300 });
    const peer = openPeer(port, '127.0.0.1');
    // Sends from the check phase (after this turn's poll), then blocks this thread (the receiver's too): the
    // next turn starts with the receiver's timers past due and the bytes not yet read.
    const sendThenStall = (bytes: Buffer): Promise<void> =>
      new Promise((resolve) =>
        setImmediate(() => {
          peer.socket.write(bytes);
          Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 600);
          resolve();
        }),
      );
    await peer.connected;
    await new Promise((resolve) => setTimeout(resolve, 50));
    await sendThenStall(verificationRequest('PATIENT'));
    expect(describeAnswer(await peer.next())).toBe('AC');
    // Same for the idle timer: an A-RELEASE-RQ sent in time is answered (A-RELEASE-RP), not aborted.
    await sendThenStall(Buffer.from([0x05, 0, 0, 0, 0, 4, 0, 0, 0, 0]));
    expect(describeAnswer(await peer.next())).toBe('PDU 0x6');
  });

  it('accepts exactly maxAssociations of requests that arrive together, and answers the next one transient / local limit exceeded', async () => {
    const port = await startReceiver({ maxAssociations: 10 });
    // Ten from each host: as many handshakes as one host may have under way (its share, here all ten).
    const all: Peer[] = [];
    for (let i = 0; i < 20; i += 1) {
      all.push(openPeer(port, i % 2 === 0 ? '127.0.0.1' : OTHER_HOST));
      await all[i]?.connected;
    }
    // Connected one by one, so the receiver has accepted every socket; then the requests are written in one
    // tick and this thread (the receiver's too) sleeps, so that all are waiting in the kernel when the
    // receiver next reads: it handles them in one turn of its event loop, the worst case for a check that
    // awaits something before it counts.
    for (const peer of all) peer.socket.write(verificationRequest('TOGETHER'));
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
    const answers = await Promise.all(all.map(async (peer) => describeAnswer(await peer.next())));
    expect(answers.filter((answer) => answer === 'AC')).toHaveLength(10);
    expect(answers.filter((answer) => answer !== 'AC')).toEqual(Array.from({ length: 10 }, () => LOCAL_LIMIT_EXCEEDED));
  });

  it('gives one host at most its share of associations, and takes it back when its idle associations are aborted', async () => {
    const port = await startReceiver({ maxAssociations: 4, maxAssociationsPerHost: 2, idleTimeoutMs: 1_000 });
    const idle: Peer[] = [];
    const answers: string[] = [];
    for (let i = 0; i < 4; i += 1) {
      const peer = openPeer(port, OTHER_HOST);
      idle.push(peer);
      peer.socket.write(verificationRequest('IDLER'));
      answers.push(describeAnswer(await peer.next()));
    }
    expect(answers).toEqual(['AC', 'AC', LOCAL_LIMIT_EXCEEDED, LOCAL_LIMIT_EXCEEDED]);
    // The other host still has room.
    const other = openPeer(port, '127.0.0.1');
    other.socket.write(verificationRequest('OTHER'));
    expect(describeAnswer(await other.next())).toBe('AC');
    // The two idle associations are aborted (A-ABORT) after the idle time, and their host may associate again.
    const accepted = idle.slice(0, 2);
    expect((await Promise.all(accepted.map((peer) => peer.next()))).map(describeAnswer)).toEqual(['PDU 0x7', 'PDU 0x7']);
    // Closed, all four (a rejected or aborted connection holds a handshake slot until the receiver has seen it close).
    await Promise.all(idle.map((peer) => peer.closed));
    const associateAgain = async (): Promise<string> => {
      const again = openPeer(port, OTHER_HOST);
      again.socket.write(verificationRequest('IDLER'));
      return describeAnswer(await again.next());
    };
    await expect.poll(associateAgain, { timeout: 2_000, interval: 50 }).toBe('AC');
  });

  it.skipIf(!existsSync(SAMPLE))('does not cut an association while data flows slowly or while the handler works longer than the idle time', async () => {
    const port = await startReceiver({ idleTimeoutMs: 500 }, async () => {
      await new Promise((resolve) => setTimeout(resolve, 1_200));
      return { status: 'stored' };
    });
    const bytes = readFileSync(SAMPLE);
    const info = readPart10(bytes);
    const started = Date.now();
    const result = await sendRawStore(port, {
      callingAe: 'SLOWLINK',
      calledAe: 'VIGIL',
      ...info,
      dataset: bytes.subarray(info.datasetOffset),
      fragmentBytes: 4_000,
      fragmentDelayMs: 300,
      localAddress: OTHER_HOST,
    });
    expect(result).toEqual({ kind: 'status', status: DIMSE_STATUS.success });
    expect(Date.now() - started).toBeGreaterThan(3_000);
  });
});

describe.skipIf(!hasSecondLoopback || !hasEchoscu)('DimseDcmjsReceiver: the allowed sender is served while others press (needs 127.0.0.2 and echoscu)', () => {
  it('resets 200 silent connections from a host not on the allowlist at accept; echoscu from an allowed host succeeds at once', async () => {
    const port = await startReceiver({ allowlist: { callingAeTitles: '*', hosts: ['127.0.0.1'] } });
    const strangers = Array.from({ length: 200 }, () => openPeer(port, OTHER_HOST));
    await Promise.all(strangers.map((peer) => peer.connected));
    const echo = await echoscu(port);
    expect(echo.ok, echo.output).toBe(true);
    expect(echo.ms).toBeLessThan(2_000);
    const closedAfterMs = await Promise.all(strangers.map((peer) => peer.closed));
    expect(Math.max(...closedAfterMs)).toBeLessThan(2_000);
    expect(strangers.filter((peer) => peer.received.length > 0)).toHaveLength(0);
  });

  it('serves echoscu at once while an allowed host keeps slowloris connections open (its share of handshakes is capped)', async () => {
    const port = await startReceiver({ maxAssociations: 4, maxAssociationsPerHost: 2 });
    const slow = Array.from({ length: 20 }, () => openPeer(port, OTHER_HOST));
    await Promise.all(slow.map((peer) => peer.connected));
    for (const peer of slow) trickle(peer, verificationRequest('SLOWLORIS'), 200);
    const echo = await echoscu(port);
    expect(echo.ok, echo.output).toBe(true);
    expect(echo.ms).toBeLessThan(2_000);
    // Two hold their handshake slots (until ARTIM); the other 18 were reset at accept.
    const stillOpen = slow.filter((peer) => !peer.socket.destroyed);
    expect(stillOpen).toHaveLength(2);
  });

  it('with no share left for others, an allowed sender waits no longer than the idle timeout of the associations holding every slot', async () => {
    const port = await startReceiver({ maxAssociations: 2, maxAssociationsPerHost: 2, idleTimeoutMs: 1_000 });
    const idle = Array.from({ length: 2 }, () => openPeer(port, OTHER_HOST));
    for (const peer of idle) {
      await peer.connected;
      peer.socket.write(verificationRequest('IDLER'));
      expect(describeAnswer(await peer.next())).toBe('AC');
    }
    const refused = await echoscu(port);
    expect(refused.ok).toBe(false);
    expect(refused.output).toMatch(/Local Limit Exceeded/i);
    const started = Date.now();
    let echo = await echoscu(port);
    while (!echo.ok && Date.now() - started < 5_000) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      echo = await echoscu(port);
    }
    expect(echo.ok, echo.output).toBe(true);
    expect(Date.now() - started).toBeLessThan(2_500);
  });
});
