import { createHmac, timingSafeEqual } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeHasher } from '../../src/adapters/crypto-node/node-hasher.js';
import { createResultSealer } from '../../src/adapters/crypto-node/result-sealer.js';
import { openSqliteDatabase, type SqliteDatabase } from '../../src/adapters/store-sqlite/open-sqlite.js';
import { SqliteJobQueue } from '../../src/adapters/store-sqlite/sqlite-job-queue.js';
import { SqliteReidentificationVault } from '../../src/adapters/store-sqlite/sqlite-reidentification-vault.js';
import { SqliteCaseStore, SqliteStudyRegistry } from '../../src/adapters/store-sqlite/sqlite-study-registry.js';
import { SqliteWorklistStore } from '../../src/adapters/store-sqlite/sqlite-worklist-store.js';
import { HttpWebhookSender } from '../../src/adapters/webhook-http/http-webhook-sender.js';
import { writeResultSr } from '../../src/adapters/dicom-dcmjs/write-result-sr.js';
import type { AuditEvent } from '../../src/domain/audit/audit-event.js';
import type { FhirBundle, FhirDiagnosticReport } from '../../src/domain/results/result-fhir.js';
import type { InstanceIdentity } from '../../src/domain/results/result-identity.js';
import {
  assembleCaseResult,
  enqueueResultDeliveries,
  resultSrFor,
  runNextDeliveryJob,
  type DeliveryJobDependencies,
} from '../../src/workflows/deliver-results.js';
import type { PredictResult } from '../../src/workflows/predict-images.js';

const SECRET = 'whsec-synthetic-0123456789abcdef0123456789';
const model = { id: 'pneumonia-demo', version: '1.0.0', sha256: 'ab'.repeat(32) };
const pseudo = { studyUid: '2.25.111', seriesUid: '2.25.222', sopUid: '2.25.333' };
const original: InstanceIdentity = {
  reference: {
    studyInstanceUid: '1.2.826.0.1.3680043.10.543.7',
    seriesInstanceUid: '1.2.826.0.1.3680043.10.543.7.1',
    sopInstanceUid: '1.2.826.0.1.3680043.10.543.7.1.1',
    sopClassUid: '1.2.840.10008.5.1.4.1.1.1.1',
  },
  study: { patientName: 'SYNTHETIC^PATIENT', patientId: 'SYNTH-PID-0001', accessionNumber: 'ACC-SYN-7' },
};

interface Received {
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

let dir: string;
let db: SqliteDatabase;
let server: Server;
let url: string;
const received: Received[] = [];
let answers: number[] = [];
let nowMs = Date.parse('2024-02-01T08:00:00Z');
const clock = { now: () => new Date(nowMs) };
const audited: AuditEvent[] = [];
let logs = '';

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vigil-webhook-'));
  db = openSqliteDatabase({ dataDir: dir });
  server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (c: Buffer) => chunks.push(c));
    request.on('end', () => {
      received.push({ headers: request.headers, body: Buffer.concat(chunks).toString('utf8') });
      response.statusCode = answers.shift() ?? 200;
      response.end('{"receiver":"says something"}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/vigil-results?token=not-in-any-log`;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

/** What a receiver does (docs/api.md): recompute the HMAC over "<timestamp>.<body>" and compare in constant time. */
function verifySignature(r: Received): boolean {
  const timestamp = String(r.headers['x-vigil-timestamp']);
  const expected = Buffer.from(`sha256=${createHmac('sha256', SECRET).update(`${timestamp}.${r.body}`).digest('hex')}`);
  const given = Buffer.from(String(r.headers['x-vigil-signature']));
  return given.length === expected.length && timingSafeEqual(given, expected);
}

function dependencies(overrides: Partial<DeliveryJobDependencies> = {}): DeliveryJobDependencies {
  const studies = new SqliteStudyRegistry(db, clock);
  return {
    cases: new SqliteCaseStore(db, clock),
    studies,
    worklist: new SqliteWorklistStore(db, clock),
    jobs: new SqliteJobQueue(db, { clock, retry: { baseDelayMs: 5_000, maxDelayMs: 60_000 }, defaultMaxAttempts: 3 }),
    studyInstances: () =>
      Promise.resolve([
        {
          reference: {
            studyInstanceUid: pseudo.studyUid,
            seriesInstanceUid: pseudo.seriesUid,
            sopInstanceUid: pseudo.sopUid,
            sopClassUid: original.reference.sopClassUid,
          },
          study: { patientId: 'V0123' },
        },
      ]),
    vault: new SqliteReidentificationVault(db, createResultSealer(new Uint8Array(32).fill(7)), clock),
    findingCodes: () => Promise.resolve(new Map([['pneumonia', { system: 'http://snomed.info/sct', code: '233604007', display: 'Pneumonia' }]])),
    vigilVersion: '0.1.0',
    recordAudit: (event) => {
      audited.push(event);
      return Promise.resolve();
    },
    logger: {
      debug: (f, m) => void (logs += JSON.stringify(f) + m),
      info: (f, m) => void (logs += JSON.stringify(f) + m),
      warn: (f, m) => void (logs += JSON.stringify(f) + m),
      error: (f, m) => void (logs += JSON.stringify(f) + m),
    },
    leaseMs: 10_000,
    ids: {
      uidOf: (name) => `2.25.${BigInt('0x' + nodeHasher.sha256Hex(name).slice(0, 32)).toString()}`,
      uuidOf: (name) => nodeHasher.sha256Hex(name).slice(0, 36),
    },
    writeSr: writeResultSr,
    webhook: new HttpWebhookSender({ url, secret: new TextEncoder().encode(SECRET), timeoutMs: 5_000, clock }),
    deviceObserverUid: '2.25.9',
    patientIdSystem: 'urn:oid:1.2.36.146.595.217.0.1',
    ...overrides,
  };
}

const decided: PredictResult = {
  input: { file: `/data/objects/${pseudo.studyUid}/${pseudo.sopUid}.dcm`, frame: null },
  studyKey: 'st-0123456789abcdef0123456789abcdef',
  status: 'decided',
  quality: { verdict: 'pass', reasons: [], checks: [] },
  outputs: [{ finding: 'pneumonia', probability: 0.8125, decision: 'positive' }],
  model,
  auditId: 'a-1',
};

describe('results by webhook (FHIR R4, HMAC-signed), through the durable queue', () => {
  it('retries after a 500 and delivers the same signed Bundle, re-identified, once', async () => {
    const deps = dependencies();
    const caseId = `infer:${decided.studyKey ?? ''}:1:${model.sha256}`;
    await deps.studies.recordInstance(decided.studyKey ?? '', pseudo.studyUid, pseudo.sopUid);
    await deps.cases.save({ caseId, studyKey: decided.studyKey ?? '', model, instances: 1, results: [decided] });
    await deps.vault?.keep({ studyUid: pseudo.studyUid, sopInstanceUid: pseudo.sopUid }, original);

    expect(await enqueueResultDeliveries(deps.jobs, caseId, [decided], ['webhook'])).toBe(1);
    expect(await enqueueResultDeliveries(deps.jobs, caseId, [decided], ['webhook'])).toBe(0); // a re-run queues nothing
    expect(await enqueueResultDeliveries(deps.jobs, 'other', [{ ...decided, status: 'rejected', outputs: [] }], ['webhook'])).toBe(0);

    answers = [500];
    expect(await runNextDeliveryJob(deps)).toBe('failed');
    expect(await runNextDeliveryJob(deps)).toBe('idle'); // backing off
    nowMs += 5_001;
    expect(await runNextDeliveryJob(deps)).toBe('done');
    expect(await runNextDeliveryJob(deps)).toBe('idle');

    expect(received).toHaveLength(2);
    const [first, second] = received as [Received, Received];
    expect(second.body).toBe(first.body); // the same document both times
    expect(second.headers['x-vigil-delivery']).toBe(first.headers['x-vigil-delivery']);
    expect(first.headers['content-type']).toBe('application/fhir+json');
    for (const r of received) expect(verifySignature(r)).toBe(true);
    expect(verifySignature({ ...second, body: second.body.replace('0.8125', '0.9125') })).toBe(false);

    const bundle = JSON.parse(second.body) as FhirBundle;
    const report = bundle.entry[0]?.resource as FhirDiagnosticReport;
    expect(report).toMatchObject({
      // Unread: preliminary (a read re-issues it as final, test/integration/study-lifecycle.test.ts).
      status: 'preliminary',
      subject: { identifier: { system: 'urn:oid:1.2.36.146.595.217.0.1', value: 'SYNTH-PID-0001' } },
      imagingStudy: [{ identifier: { value: `urn:oid:${original.reference.studyInstanceUid}` } }],
    });
    expect(bundle.entry[1]?.resource).toMatchObject({ valueQuantity: { value: 0.8125 }, interpretation: [{ coding: [{ code: 'POS' }] }] });

    expect(audited).toEqual([{ type: 'result_delivered', caseId, studyKey: decided.studyKey, destination: 'webhook' }]);
    const job = (await deps.jobs.deadLetters(10)).length;
    expect(job).toBe(0);
    for (const text of [logs, JSON.stringify(audited)]) {
      expect(text).not.toContain('SYNTHETIC');
      expect(text).not.toContain('SYNTH-PID');
      expect(text).not.toContain(original.reference.studyInstanceUid);
      expect(text).not.toContain('not-in-any-log');
    }
  });

  it('sends nothing under a pseudonym when the originals are missing, and dead-letters in the end', async () => {
    const deps = dependencies({ vault: new SqliteReidentificationVault(db, createResultSealer(new Uint8Array(32).fill(7)), clock) });
    const caseId = 'infer:st-ffffffffffffffffffffffffffffffff:1:x';
    await deps.studies.recordInstance('st-ffffffffffffffffffffffffffffffff', '2.25.444', '2.25.555');
    await deps.cases.save({ caseId, studyKey: 'st-ffffffffffffffffffffffffffffffff', model, instances: 1, results: [decided] });
    const before = received.length;
    await enqueueResultDeliveries(deps.jobs, caseId, [decided], ['webhook']);
    for (let i = 0; i < 3; i++) {
      expect(
        await runNextDeliveryJob({
          ...deps,
          studyInstances: () => Promise.resolve([{ ...original, reference: { ...original.reference, sopInstanceUid: '2.25.555' } }]),
        }),
      ).toBe('failed');
      nowMs += 120_000;
    }
    expect(received.length).toBe(before);
    const dead = await deps.jobs.deadLetters(10);
    expect(dead.map((j) => j.lastError?.code)).toEqual(['RESULT_IDENTITY_UNAVAILABLE']);
  });

  it('derives the SR from the case alone: every attempt sends the same instance, byte for byte', async () => {
    const deps = dependencies();
    const caseId = `infer:${decided.studyKey ?? ''}:1:${model.sha256}`;
    const first = resultSrFor((await assembleCaseResult(deps, caseId)).result, deps.ids, deps.deviceObserverUid);
    const again = resultSrFor((await assembleCaseResult(dependencies(), caseId)).result, deps.ids, deps.deviceObserverUid);
    expect(again.sopInstanceUid).toBe(first.sopInstanceUid);
    expect(first.sopInstanceUid).toMatch(/^2\.25\.[1-9]\d*$/);
    expect(Buffer.from(writeResultSr(again)).equals(Buffer.from(writeResultSr(first)))).toBe(true);
    expect(first.studyInstanceUid).toBe(original.reference.studyInstanceUid);
    const other = resultSrFor({ ...(await assembleCaseResult(deps, caseId)).result, caseId: 'another-case' }, deps.ids, deps.deviceObserverUid);
    expect(other.sopInstanceUid).not.toBe(first.sopInstanceUid);
    expect(other.seriesInstanceUid).not.toBe(first.seriesInstanceUid);
  });

  it("drops a superseded case's delivery still queued, so that it cannot overtake the newer result at the receiver", async () => {
    const deps = dependencies();
    const studyKey = 'st-eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee';
    await deps.studies.recordInstance(studyKey, pseudo.studyUid, pseudo.sopUid);
    await deps.vault?.keep({ studyUid: pseudo.studyUid, sopInstanceUid: pseudo.sopUid }, original);
    const older = `infer:${studyKey}:1:${model.sha256}`;
    const newer = `infer:${studyKey}:2:${model.sha256}`;
    await deps.cases.save({ caseId: older, studyKey, model, instances: 1, results: [decided] });
    await enqueueResultDeliveries(deps.jobs, older, [decided], ['webhook']);
    // The receiver is down; meanwhile more instances arrive and the study is judged again.
    answers = [503];
    expect(await runNextDeliveryJob(deps)).toBe('failed');
    await deps.cases.save({ caseId: newer, studyKey, model, instances: 2, results: [decided] });
    await enqueueResultDeliveries(deps.jobs, newer, [decided], ['webhook']);
    nowMs += 60_000;
    const before = received.length;
    expect(await runNextDeliveryJob(deps)).toBe('done');
    expect(await runNextDeliveryJob(deps)).toBe('done');
    expect(await runNextDeliveryJob(deps)).toBe('idle');
    const sent = received.slice(before).map((r) => JSON.parse(r.body) as FhirBundle);
    expect(
      sent.map((b) => (b.entry[0]?.resource as FhirDiagnosticReport).status),
      'only the newer result, amending the older',
    ).toEqual(['amended']);
    expect((sent[0]?.entry[0]?.resource as FhirDiagnosticReport).identifier).toEqual([
      { system: 'urn:vigil:report-id', value: older },
      { system: 'urn:vigil:case-id', value: newer },
    ]);
    expect(
      audited.filter((e) => e.type === 'result_delivered' && (e.caseId === older || e.caseId === newer)).map((e) => e.type === 'result_delivered' && e.caseId),
    ).toEqual([newer]);
  });

  it('a sealed vault row opens only under its own key and row', () => {
    const sealer = createResultSealer(new Uint8Array(32).fill(7));
    const sealed = sealer.seal(new TextEncoder().encode('SYNTHETIC^PATIENT'), 'row-a');
    expect(new TextDecoder().decode(sealer.open(sealed, 'row-a'))).toBe('SYNTHETIC^PATIENT');
    expect(Buffer.from(sealed).includes(Buffer.from('SYNTHETIC'))).toBe(false);
    expect(() => sealer.open(sealed, 'row-b')).toThrow(expect.objectContaining({ code: 'RESULT_IDENTITY_UNAVAILABLE' }));
    expect(() => createResultSealer(new Uint8Array(32).fill(8)).open(sealed, 'row-a')).toThrow(
      expect.objectContaining({ code: 'RESULT_IDENTITY_UNAVAILABLE' }),
    );
    const tampered = Uint8Array.from(sealed);
    tampered[20] = (tampered[20] ?? 0) ^ 1;
    expect(() => sealer.open(tampered, 'row-a')).toThrow(expect.objectContaining({ code: 'RESULT_IDENTITY_UNAVAILABLE' }));
  });
});
