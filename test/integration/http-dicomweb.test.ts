import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readInstanceIdentity } from '../../src/adapters/dicom-dcmjs/read-instance-identity.js';
import { SqliteAccessStore } from '../../src/adapters/store-sqlite/sqlite-access-store.js';
import { openSqliteDatabase, type SqliteDatabase } from '../../src/adapters/store-sqlite/open-sqlite.js';
import { loadConfig } from '../../src/config/load-config.js';
import type { StudyBody, UploadResponse } from '../../src/http/contract.js';
import { contentTypeParameters, parseMultipartRelated } from '../../src/http/internal/multipart-related.js';
import { createLogger } from '../../src/logging/create-logger.js';
import { createApiServer, type ApiServer } from '../../src/main.js';
import { ADULT_CHEST, CHILD_BIRTH_DATE, hasDcmodify } from '../helpers/child-chest-film.js';
import { texturedGreyPng } from '../helpers/images.js';
import { DICOM_SAMPLES, hasDicomSamples, REPO_ROOT } from '../helpers/sample-data.js';

const run = promisify(execFile);

/** What the sender sends: synthetic values, so that finding any of them in a log or an error is meaningful. */
const SENT = {
  patientName: 'SYNTHETIC^DICOMWEB',
  accessionNumber: 'SYNACCDW01',
  studyUid: '1.2.826.0.1.3680043.10.543.4242',
  seriesUid: '1.2.826.0.1.3680043.10.543.4242.1',
  sopUid: '1.2.826.0.1.3680043.10.543.4242.1.1',
};
const SR_CLASS = '1.2.840.10008.5.1.4.1.1.88.33';
/** Debian's python3-pydicom, an independent DICOM reader, when installed (the system Python: a pyenv one on PATH may lack it). */
const PYTHON = '/usr/bin/python3';
const hasPydicom = await run(PYTHON, ['-c', 'import pydicom']).then(
  () => true,
  () => false,
);

type DicomJson = Record<string, { vr: string; Value?: unknown[] }>;

let dir: string;
let server: ApiServer;
let db: SqliteDatabase;
let logs = '';
let study: Buffer;
const token = new Map<'sender' | 'other' | 'reader', string>();
const as = (who: 'sender' | 'other' | 'reader') => ({ authorization: `Bearer ${token.get(who) ?? ''}` });

async function waitFor<T>(probe: () => Promise<T | undefined>, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting\n${logs.slice(-3000)}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

function multipart(parts: readonly { headers: Record<string, string>; body: Uint8Array }[], boundary: string): Buffer {
  const chunks: Buffer[] = [];
  for (const part of parts) {
    const head = Object.entries(part.headers)
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join('');
    chunks.push(Buffer.from(`--${boundary}\r\n${head}\r\n`), Buffer.from(part.body), Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return Buffer.concat(chunks);
}

/** A `multipart/form-data` file part, as curl -F name=@file sends it. */
const formFile = (name: string, filename: string, body: Uint8Array, type = 'application/octet-stream') => ({
  headers: { 'Content-Disposition': `form-data; name="${name}"; filename="${filename}"`, 'Content-Type': type },
  body,
});

describe.skipIf(!hasDcmodify || !hasDicomSamples)('DICOMweb and lookups for a sender (needs DCMTK and ../shared/data)', () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-dicomweb-'));
    const config = loadConfig(
      {
        VIGIL_DATA_DIR: join(dir, 'data'),
        VIGIL_DICOM_PORT: '0',
        VIGIL_STUDY_QUIET_MS: '500',
        VIGIL_INTRA_OP_THREADS: '1',
        VIGIL_MIN_FREE_DISK_BYTES: '1',
      },
      REPO_ROOT,
    );
    server = await createApiServer(config, createLogger('debug', { write: (line: string) => void (logs += line) }), { background: true });
    db = openSqliteDatabase({ dataDir: join(dir, 'data') });
    const access = new SqliteAccessStore(db, { now: () => new Date() });
    for (const [who, role] of [
      ['sender', 'integration'],
      ['other', 'integration'],
      ['reader', 'clinician-reviewer'],
    ] as const) {
      const user = await access.createUser(`user-${who}`, role);
      token.set(who, (await access.issueToken(user.userId, 'test')).secret);
    }
    // The real chest film made a child's (the demo model decides it), with the sender's synthetic identity.
    const file = join(dir, 'study.dcm');
    copyFileSync(join(DICOM_SAMPLES, ADULT_CHEST), file);
    await run('dcmodify', [
      '-nb',
      ...['-m', `(0010,0030)=${CHILD_BIRTH_DATE}`, '-m', `(0010,0010)=${SENT.patientName}`, '-m', `(0008,0050)=${SENT.accessionNumber}`],
      ...['-m', `(0020,000d)=${SENT.studyUid}`, '-m', `(0020,000e)=${SENT.seriesUid}`, '-m', `(0008,0018)=${SENT.sopUid}`],
      file,
    ]);
    study = readFileSync(file);
  }, 60_000);
  afterAll(async () => {
    await server?.close();
    db?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  let studyKey: string;
  let studyUid: string;

  it('answers STOW-RS with a valid Store Instances Response that names the study key, the stored UID and the links', async () => {
    const response = await server.app.inject({
      method: 'POST',
      url: '/dicomweb/studies',
      headers: { ...as('sender'), 'content-type': 'multipart/related; type="application/dicom"; boundary=b1' },
      payload: multipart([{ headers: { 'Content-Type': 'application/dicom' }, body: study }], 'b1'),
    });
    expect(response.statusCode, response.body).toBe(200);
    const body = response.json<Record<string, { vr: string; Value: DicomJson[] | string[] }>>();
    // Every key is a DICOM tag (8 hex digits): a DICOM JSON parser reads the response as it is.
    expect(Object.keys(body).every((k) => /^[0-9A-F]{8}$/.test(k))).toBe(true);
    const item = (body['00081199']?.Value as DicomJson[])[0] as DicomJson;
    expect(item['00081155']?.Value).toEqual([SENT.sopUid]);
    expect(item['00090010']?.Value).toEqual(['VIGIL 1.0']);
    studyKey = item['00091001']?.Value?.[0] as string;
    expect(studyKey).toMatch(/^st-[0-9a-f]{32}$/);
    expect(item['00091002']?.Value?.[0]).toMatch(/^2\.25\.\d+$/);
    expect(item['00091003']?.Value).toEqual([`/api/studies/${studyKey}`]);
    expect(item['00091004']?.Value).toEqual(['STORED']);
    const retrieve = (body['00081190']?.Value as string[])[0] as string;
    studyUid = retrieve.replace('/dicomweb/studies/', '');
    expect(studyUid).toMatch(/^2\.25\.\d+$/);
    expect(response.headers['x-vigil-study-keys']).toBe(studyKey);
    expect(response.headers.link).toContain(`</api/studies/${studyKey}>; rel="related"`);
  });

  it('finds the study by the Study Instance UID or Accession Number it was sent with, for its sender only', async () => {
    const lookup = async (query: string, who: 'sender' | 'other' | 'reader') =>
      (await server.app.inject({ method: 'GET', url: `/api/studies?${query}`, headers: as(who) })).json<{ studies: StudyBody[] }>().studies;
    expect((await lookup(`studyInstanceUid=${SENT.studyUid}`, 'sender')).map((s) => s.studyKey)).toEqual([studyKey]);
    expect((await lookup(`accessionNumber=${SENT.accessionNumber}`, 'sender')).map((s) => s.studyKey)).toEqual([studyKey]);
    // Vigil's own (pseudonymous) UID keys to the same study.
    expect((await lookup(`studyInstanceUid=${studyUid}`, 'sender')).map((s) => s.studyKey)).toEqual([studyKey]);
    expect(await lookup(`accessionNumber=${SENT.accessionNumber}X`, 'sender')).toEqual([]);
    // Another sender sees nothing of it; a reader of every study finds it.
    expect(await lookup(`accessionNumber=${SENT.accessionNumber}`, 'other')).toEqual([]);
    expect(await lookup('limit=10', 'other')).toEqual([]);
    expect((await lookup(`accessionNumber=${SENT.accessionNumber}`, 'reader')).map((s) => s.studyKey)).toEqual([studyKey]);
    expect((await server.app.inject({ method: 'GET', url: `/api/studies/${studyKey}`, headers: as('other') })).statusCode).toBe(404);
    const [found] = await lookup(`studyInstanceUid=${SENT.studyUid}`, 'sender');
    expect(found).toMatchObject({ studyUid, modalities: ['CR'], studyDate: expect.stringMatching(/^\d{8}$/) });
  });

  it('judges the study and serves its SR by QIDO-RS and WADO-RS to its sender, not to another', async () => {
    await waitFor(async () => {
      const s = (await server.app.inject({ method: 'GET', url: `/api/studies/${studyKey}`, headers: as('sender') })).json<StudyBody>();
      return s.state === 'judged' ? s : undefined;
    });
    const qido = async (query: string, who: 'sender' | 'other' = 'sender') => {
      const response = await server.app.inject({ method: 'GET', url: `/dicomweb/studies?${query}`, headers: as(who) });
      expect(response.statusCode, response.body).toBe(200);
      expect(response.headers['content-type']).toContain('application/dicom+json');
      return response.json<DicomJson[]>();
    };
    const [match, ...more] = await qido(`AccessionNumber=${SENT.accessionNumber}&includefield=all`);
    expect(more).toEqual([]);
    expect(match?.['0020000D']?.Value).toEqual([studyUid]);
    expect(match?.['00080061']?.Value).toEqual(['CR']);
    expect(match?.['00081190']?.Value).toEqual([`/dicomweb/studies/${studyUid}`]);
    expect(match?.['00091001']?.Value).toEqual([studyKey]);
    const studyDate = match?.['00080020']?.Value?.[0] as string;
    expect(await qido(`StudyInstanceUID=${SENT.studyUid}`)).toHaveLength(1);
    expect(await qido(`StudyDate=${studyDate}&ModalitiesInStudy=CR`)).toHaveLength(1);
    expect(await qido(`StudyDate=${studyDate.slice(0, 4)}0101-${studyDate}`)).toHaveLength(1);
    expect(await qido('ModalitiesInStudy=MR')).toEqual([]);
    expect(await qido('limit=1&offset=1')).toEqual([]);
    expect(await qido(`AccessionNumber=${SENT.accessionNumber}`, 'other')).toEqual([]);
    const badKey = await server.app.inject({ method: 'GET', url: '/dicomweb/studies?PatientName=SYNTHETIC', headers: as('sender') });
    expect(badKey.json()).toMatchObject({ code: 'REQUEST_INVALID', statusCode: 400 });
    expect(badKey.body).not.toContain('SYNTHETIC');
    // A key the client made up is named when it is shaped like a field name (so the sender sees which), counted when it is free text.
    const madeUp = await server.app.inject({ method: 'GET', url: '/dicomweb/studies?ZQXMARK=1', headers: as('sender') });
    expect(madeUp.json()).toMatchObject({ code: 'REQUEST_INVALID', statusCode: 400, message: 'The request is invalid: (root): an unknown field "ZQXMARK"' });
    const freeText = await server.app.inject({ method: 'GET', url: '/dicomweb/studies?SYNTHETIC%5EPATIENT=1', headers: as('sender') });
    expect(freeText.json()).toMatchObject({ code: 'REQUEST_INVALID', statusCode: 400, message: 'The request is invalid: (root): an unknown field' });
    const tooMany = await server.app.inject({ method: 'GET', url: '/dicomweb/studies?limit=100000', headers: as('sender') });
    expect(tooMany.statusCode).toBe(400);

    const series = (await server.app.inject({ method: 'GET', url: `/dicomweb/studies/${SENT.studyUid}/series`, headers: as('sender') })).json<DicomJson[]>();
    expect(series).toHaveLength(1);
    expect(series[0]?.['00080060']?.Value).toEqual(['SR']);
    const seriesUid = series[0]?.['0020000E']?.Value?.[0] as string;
    const instances = (
      await server.app.inject({ method: 'GET', url: `/dicomweb/studies/${studyUid}/series/${seriesUid}/instances`, headers: as('sender') })
    ).json<DicomJson[]>();
    expect(instances[0]?.['00080016']?.Value).toEqual([SR_CLASS]);
    const sopUid = instances[0]?.['00080018']?.Value?.[0] as string;
    const url = `/dicomweb/studies/${studyUid}/series/${seriesUid}/instances/${sopUid}`;

    const retrieved = await server.app.inject({ method: 'GET', url, headers: { ...as('sender'), accept: 'multipart/related; type="application/dicom"' } });
    expect(retrieved.statusCode).toBe(200);
    const { mediaType, params } = contentTypeParameters(retrieved.headers['content-type'] as string);
    expect(mediaType).toBe('multipart/related');
    expect(params.type).toBe('application/dicom');
    const parsed = parseMultipartRelated(retrieved.rawPayload, params.boundary ?? '', 10);
    if (!parsed.ok) throw new Error(parsed.reason);
    expect(parsed.parts).toHaveLength(1);
    const sr = parsed.parts[0]?.body as Uint8Array;
    const identity = await readInstanceIdentity(sr);
    // Pseudonymous: the de-identified study QIDO-RS names, never the sender's identity.
    expect(identity.reference).toMatchObject({ studyInstanceUid: studyUid, sopInstanceUid: sopUid, sopClassUid: SR_CLASS });
    expect(Buffer.from(sr).includes(SENT.patientName)).toBe(false);
    expect(Buffer.from(sr).includes(SENT.accessionNumber)).toBe(false);

    if (hasPydicom) {
      // An independent reader of what was served: pydicom must read the SR part as a DICOM file.
      const path = join(dir, 'served-sr.dcm');
      writeFileSync(path, sr);
      const { stdout } = await run(PYTHON, [
        '-c',
        'import sys, pydicom; d = pydicom.dcmread(sys.argv[1]); print(d.SOPClassUID, d.StudyInstanceUID, d.Modality, d.ContentSequence[0].ValueType)',
        path,
      ]);
      expect(stdout.trim().split(' ').slice(0, 3)).toEqual([SR_CLASS, studyUid, 'SR']);
    }

    const metadata = await server.app.inject({ method: 'GET', url: `/dicomweb/studies/${studyUid}/metadata`, headers: as('sender') });
    expect(metadata.headers['content-type']).toContain('application/dicom+json');
    const [dataset] = metadata.json<DicomJson[]>();
    expect(dataset?.['0020000D']?.Value).toEqual([studyUid]);
    expect(dataset?.['00080018']?.Value).toEqual([sopUid]);
    expect(dataset?.['00080060']?.Value).toEqual(['SR']);

    const whole = await server.app.inject({ method: 'GET', url: `/dicomweb/studies/${studyUid}`, headers: as('sender') });
    expect(whole.statusCode).toBe(200);
    const refused = await server.app.inject({ method: 'GET', url, headers: { ...as('sender'), accept: 'application/json' } });
    expect(refused.json()).toMatchObject({ code: 'REQUEST_NOT_ACCEPTABLE', statusCode: 406 });
    for (const path of [url, `/dicomweb/studies/${studyUid}/metadata`, `/dicomweb/studies/${studyUid}/series`]) {
      expect((await server.app.inject({ method: 'GET', url: path, headers: as('other') })).statusCode, path).toBe(404);
    }
    // Once judged, the links of a resend name the current case and its FHIR result.
    const resend = await server.app.inject({
      method: 'POST',
      url: '/api/images',
      headers: { ...as('sender'), 'content-type': 'multipart/form-data; boundary=r1' },
      payload: multipart([formFile('file', 'study.dcm', study)], 'r1'),
    });
    const links = resend.json<UploadResponse>().studies[0];
    expect(links?.currentCase?.fhir).toMatch(/^\/api\/cases\/.+\/fhir$/);
    const fhir = await server.app.inject({ method: 'GET', url: links?.currentCase?.fhir ?? '', headers: as('sender') });
    expect(fhir.statusCode).toBe(200);
    expect((await server.app.inject({ method: 'GET', url: links?.currentCase?.fhir ?? '', headers: as('other') })).statusCode).toBe(404);
  }, 120_000);

  it('takes multipart/form-data uploads (curl -F) and maps each file to what became of it', async () => {
    const upload = (parts: Parameters<typeof multipart>[0], who: 'sender' | 'other' = 'sender') =>
      server.app.inject({
        method: 'POST',
        url: '/api/images',
        headers: { ...as(who), 'content-type': 'multipart/form-data; boundary=f1' },
        payload: multipart(parts, 'f1'),
      });
    const declaration = {
      headers: { 'Content-Disposition': 'form-data; name="declaration"' },
      body: Buffer.from(JSON.stringify({ modality: 'CR', bodyPart: 'CHEST', view: 'PA', patientAgeYears: { min: 1, max: 5 } })),
    };
    const response = await upload([
      declaration,
      formFile('file', 'a.png', await texturedGreyPng(7), 'image/png'),
      formFile('file', 'notes.txt', Buffer.from('not an image'), 'text/plain'),
      formFile('file', 'study.dcm', study),
    ]);
    expect(response.statusCode, response.body).toBe(201);
    const body = response.json<UploadResponse>();
    expect(body.parts.map((p) => [p.index, p.kind, p.status])).toEqual([
      [0, 'image', 'stored'],
      [1, 'image', 'refused'],
      [2, 'dicom', 'duplicate'],
    ]);
    expect(body.parts[1]?.code).toBe('INPUT_FORMAT_UNKNOWN');
    expect(body.parts[2]?.studyKey).toBe(studyKey);
    expect(body.parts[0]?.sopInstanceUid).toMatch(/^2\.25\./);
    expect(body.studyKey).toBe(body.parts[0]?.studyKey);
    expect(body.studies.map((s) => s.studyKey).sort()).toEqual([body.studyKey, studyKey].sort());
    expect(body.failed).toEqual([{ index: 1, code: 'INPUT_FORMAT_UNKNOWN' }]);
    // The sender reads the uploaded study; another sender does not.
    expect((await server.app.inject({ method: 'GET', url: `/api/studies/${body.studyKey}`, headers: as('sender') })).json()).toMatchObject({
      modalities: ['CR'],
    });
    expect((await server.app.inject({ method: 'GET', url: `/api/studies/${body.studyKey}`, headers: as('other') })).statusCode).toBe(404);

    // A form field that is neither the declaration nor a file: a coded error saying what is expected.
    const stray = await upload([{ headers: { 'Content-Disposition': 'form-data; name="patient"' }, body: Buffer.from(SENT.patientName) }]);
    expect(stray.json()).toMatchObject({ code: 'REQUEST_INVALID', statusCode: 400 });
    expect(stray.json<{ message: string }>().message).toContain('file parts (PNG, JPEG or DICOM)');
    expect(stray.body).not.toContain(SENT.patientName);
    const nothing = await upload([formFile('file', 'x.txt', Buffer.from('text'), 'text/plain')]);
    expect(nothing.json()).toMatchObject({ code: 'INPUT_FORMAT_UNKNOWN', statusCode: 415 });
    expect(nothing.json<{ message: string }>().message).toContain('PNG, JPEG or DICOM');
    if (hasDicomSamples) {
      // A DICOM file every route refuses for its own reason (the samples' HTJ2K file has no Study
      // Instance UID): that reason and its status, not "send PNG, JPEG or DICOM files".
      const refused = await upload([formFile('file', 'sc.dcm', readFileSync(join(DICOM_SAMPLES, 'sc_rgb_htj2k.dcm')), 'application/dicom')]);
      expect(refused.json<{ code: string }>().code).toMatch(/^DICOM_/);
      expect(refused.statusCode).toBe(422);
    }
    const other = await server.app.inject({
      method: 'POST',
      url: '/api/images',
      headers: { ...as('sender'), 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'a=b',
    });
    expect(other.json()).toMatchObject({ code: 'INPUT_FORMAT_UNKNOWN', statusCode: 415 });
    expect(other.json<{ message: string }>().message).toBe('This route takes multipart/related or multipart/form-data only');
  });

  it('never writes what the sender sent into a log line', () => {
    expect(logs.length).toBeGreaterThan(0);
    for (const value of Object.values(SENT)) expect(logs).not.toContain(value);
  });
});
