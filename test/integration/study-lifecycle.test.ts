/**
 * A study's life end to end in one server: a film is sent, judged, its result sent back (SR to a real
 * storescp, FHIR to a webhook) as `preliminary`; a reviewer reads it and the FHIR report is issued again
 * as `final`; more instances of the same study arrive, and the new case supersedes the old one: linked on
 * the API, the old case's open worklist items closed, a new SR naming the old SR as its predecessor
 * (validated by dciodvfy), and an `amended` FHIR report under the same report id. Never two unrelated
 * results for one study.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readInstanceIdentity } from '../../src/adapters/dicom-dcmjs/read-instance-identity.js';
import { loadConfig } from '../../src/config/load-config.js';
import type { FhirBundle, FhirDiagnosticReport, FhirObservation } from '../../src/domain/results/result-fhir.js';
import type { CaseBody, StudyBody, WorklistItemBody } from '../../src/http/contract.js';
import { createLogger } from '../../src/logging/create-logger.js';
import { createApiServer, type ApiServer } from '../../src/main.js';
import { ADULT_CHEST, CHILD_BIRTH_DATE } from '../helpers/child-chest-film.js';
import { startStorescp } from '../helpers/dicom-peers.js';
import { DICOM_SAMPLES, hasDicomSamples, REPO_ROOT } from '../helpers/sample-data.js';

const run = promisify(execFile);
const hasDcmtk = ['storescp', 'storescu', 'dcmodify', 'dcmdump'].every((tool) => ['/usr/bin', '/usr/local/bin'].some((d) => existsSync(join(d, tool))));
const hasDciodvfy = existsSync('/usr/bin/dciodvfy');
const STUDY_UID = '1.2.826.0.1.3680043.10.543.88';

let dir: string;
let pacsDir: string;
let storescp: { port: number; stop: () => Promise<void> } | undefined;
let webhook: Server;
const delivered: { readonly headers: IncomingHttpHeaders; readonly bundle: FhirBundle }[] = [];
let server: ApiServer;
const tokens: Record<'engineer' | 'reviewer' | 'integration' | 'auditor', string> = { engineer: '', reviewer: '', integration: '', auditor: '' };
let logs = '';

async function waitFor<T>(probe: () => Promise<T | undefined> | T | undefined, what: string, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function api<T>(as: keyof typeof tokens, method: 'GET' | 'POST', url: string, payload?: Record<string, unknown>): Promise<{ status: number; body: T }> {
  const headers = { authorization: `Bearer ${tokens[as]}` };
  const response = await server.app.inject(payload === undefined ? { method, url, headers } : { method, url, headers, payload });
  return { status: response.statusCode, body: response.json<T>() };
}

/** Copy `n` of the study: the chest film made paediatric (the demo model decides it), in one study, its own SOP Instance UID. */
async function film(n: number): Promise<string> {
  const file = join(dir, `film-${n}.dcm`);
  copyFileSync(join(DICOM_SAMPLES, ADULT_CHEST), file);
  await run('dcmodify', [
    '-nb',
    '-m',
    `(0010,0030)=${CHILD_BIRTH_DATE}`,
    '-m',
    `(0020,000d)=${STUDY_UID}`,
    '-m',
    `(0020,000e)=${STUDY_UID}.1`,
    '-m',
    `(0008,0018)=${STUDY_UID}.1.${n}`,
    file,
  ]);
  return file;
}

const send = async (n: number): Promise<void> => {
  await run('storescu', ['-xw', '-aet', 'MODALITY', '-aec', 'VIGIL', '127.0.0.1', String(server.dicomPort), await film(n)]).catch((e: unknown) => {
    throw new Error(`${String(e)}\n${logs}`);
  });
};

/** The study once judged with `instances` instances (the state is `judged` and its current case covers them). */
const judgedStudy = (instances: number) =>
  waitFor(async () => {
    const { body } = await api<{ studies: StudyBody[] }>('engineer', 'GET', '/api/studies');
    const study = body.studies[0];
    if (study?.state !== 'judged' || study.instances !== instances) return undefined;
    const detail = (await api<StudyBody & { cases: CaseBody[] }>('engineer', 'GET', `/api/studies/${study.studyKey}`)).body;
    return detail.cases.some((c) => c.supersededBy === null && c.instances === instances) ? detail : undefined;
  }, `the study judged with ${instances} instance(s)`);

const reportOf = (bundle: FhirBundle): FhirDiagnosticReport => bundle.entry[0]?.resource as FhirDiagnosticReport;
const caseIdOf = (report: FhirDiagnosticReport): string | undefined => report.identifier.find((i) => i.system === 'urn:vigil:case-id')?.value;
const webhookFor = (caseId: string, status: string) =>
  waitFor(() => delivered.find((d) => caseIdOf(reportOf(d.bundle)) === caseId && reportOf(d.bundle).status === status), `a ${status} report for a case`);

/** The SR files storescp received, by their SOP Instance UID. */
const srFiles = async (): Promise<Map<string, string>> =>
  new Map(
    await Promise.all(
      readdirSync(pacsDir)
        .filter((name) => name.startsWith('SR'))
        .map(async (name): Promise<[string, string]> => [
          (await readInstanceIdentity(readFileSync(join(pacsDir, name)))).reference.sopInstanceUid,
          join(pacsDir, name),
        ]),
    ),
  );

describe.skipIf(!hasDcmtk || !hasDicomSamples)('a study judged, read, and superseded by late instances (needs DCMTK and ../shared/data)', () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-lifecycle-'));
    pacsDir = join(dir, 'pacs');
    mkdirSync(pacsDir);
    storescp = await startStorescp('PACS', pacsDir);
    webhook = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (c: Buffer) => chunks.push(c));
      request.on('end', () => {
        delivered.push({ headers: request.headers, bundle: JSON.parse(Buffer.concat(chunks).toString('utf8')) as FhirBundle });
        response.end();
      });
    });
    await new Promise<void>((resolve) => webhook.listen(0, '127.0.0.1', resolve));
    const secretFile = join(dir, 'webhook-secret');
    writeFileSync(secretFile, 'whsec-synthetic-lifecycle-0123456789abcdef', { mode: 0o600 });
    const config = loadConfig(
      {
        VIGIL_DATA_DIR: join(dir, 'data'),
        VIGIL_DICOM_PORT: '0',
        VIGIL_STUDY_QUIET_MS: '800',
        VIGIL_INTRA_OP_THREADS: '1',
        VIGIL_MIN_FREE_DISK_BYTES: '1',
        // The modality sends for the integration account: it reads the results of what it sent.
        VIGIL_DICOM_SENDER_USERS: 'MODALITY=integration-1',
        // Every confident decision goes to review too, so each case has worklist items to read.
        VIGIL_REVIEW_SAMPLE_RATE: '1',
        VIGIL_RESULT_DICOM_DESTINATION: `PACS@127.0.0.1:${storescp.port}`,
        VIGIL_RESULT_WEBHOOK_URL: `http://127.0.0.1:${(webhook.address() as AddressInfo).port}/results`,
        VIGIL_RESULT_WEBHOOK_SECRET_FILE: secretFile,
      },
      REPO_ROOT,
    );
    server = await createApiServer(config, createLogger('debug', { write: (line: string) => void (logs += line) }), { background: true });
    for (const [name, role] of [
      ['engineer', 'ml-engineer'],
      ['reviewer', 'clinician-reviewer'],
      ['integration', 'integration'],
      ['auditor', 'auditor'],
    ] as const) {
      const created = await server.app.inject({
        method: 'POST',
        url: '/api/users',
        headers: { authorization: `Bearer ${server.bootstrap?.token ?? ''}` },
        payload: { name: `${name}-1`, role },
      });
      tokens[name] = created.json<{ token: string }>().token;
    }
  }, 60_000);
  afterAll(async () => {
    await server?.close();
    await storescp?.stop();
    await new Promise((resolve) => webhook?.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  let first: CaseBody;
  let firstReportId: string;

  it('sends a result as preliminary, and issues the FHIR report again as final once a human has read the case', async () => {
    await send(1);
    first = (await judgedStudy(1)).cases[0] as CaseBody;
    const preliminary = await webhookFor(first.caseId, 'preliminary');
    firstReportId = reportOf(preliminary.bundle).id;
    expect((preliminary.bundle.entry[1]?.resource as FhirObservation).status).toBe('preliminary');
    expect(reportOf(preliminary.bundle).conclusion).toContain('not reviewed by a clinician');
    const served = await api<FhirBundle>('integration', 'GET', `/api/cases/${encodeURIComponent(first.caseId)}/fhir`);
    expect(reportOf(served.body).status).toBe('preliminary');
    await waitFor(async () => ((await srFiles()).size === 1 ? true : undefined), 'the first SR');

    const { body: worklist } = await api<{ items: WorklistItemBody[] }>('reviewer', 'GET', '/api/worklist');
    const items = worklist.items.filter((i) => i.caseId === first.caseId);
    expect(items).toHaveLength(1);
    const review = await api('reviewer', 'POST', `/api/worklist/${encodeURIComponent(items[0]?.itemId ?? '')}/review`, {
      findingPresent: true,
      imageQualityAdequate: true,
      agreesWithModel: true,
      comment: '',
    });
    expect(review.status).toBe(201);

    const final = await webhookFor(first.caseId, 'final');
    expect(reportOf(final.bundle).id, 'the same report, read').toBe(firstReportId);
    expect(reportOf(final.bundle).conclusion).toContain('read by a clinician (1 read(s)): agrees with the model on 1');
    expect((final.bundle.entry[1]?.resource as FhirObservation).status).toBe('final');
    expect(final.headers['x-vigil-delivery'], 'a new delivery, not a retry of the first').not.toBe(preliminary.headers['x-vigil-delivery']);
    expect(reportOf((await api<FhirBundle>('integration', 'GET', `/api/cases/${encodeURIComponent(first.caseId)}/fhir`)).body).status).toBe('final');
    // The SR is not issued again after a read (result-sr.ts says why).
    expect((await srFiles()).size).toBe(1);
  }, 120_000);

  it('supersedes the case when instances arrive after it was judged: linked, an SR naming its predecessor, an amended FHIR report', async () => {
    await send(2);
    const study = await judgedStudy(2);
    expect(study.cases.map((c) => [c.caseId, c.instances, c.supersedes, c.supersededBy])).toEqual([
      [first.caseId, 1, null, study.cases[1]?.caseId],
      [study.cases[1]?.caseId, 2, first.caseId, null],
    ]);
    const second = study.cases[1] as CaseBody;

    const amended = await webhookFor(second.caseId, 'amended');
    const report = reportOf(amended.bundle);
    expect(report.id, 'the receiver replaces the report it holds').toBe(firstReportId);
    expect(report.identifier).toEqual([
      { system: 'urn:vigil:report-id', value: first.caseId },
      { system: 'urn:vigil:case-id', value: second.caseId },
    ]);
    expect(report.result, 'an observation per judged image').toHaveLength(2);
    expect(reportOf((await api<FhirBundle>('integration', 'GET', `/api/cases/${encodeURIComponent(second.caseId)}/fhir`)).body).status).toBe('amended');

    const srs = await waitFor(async () => {
      const files = await srFiles();
      return files.size === 2 ? files : undefined;
    }, 'the second SR');
    const [firstSr, secondSr] = await Promise.all(
      [...srs.values()].map(async (file) => ({
        file,
        dump: (await run('dcmdump', ['+U8', file])).stdout,
        uid: (await readInstanceIdentity(readFileSync(file))).reference.sopInstanceUid,
      })),
    ).then((all) => all.sort((a, b) => Number(a.dump.includes('(0040,a360)')) - Number(b.dump.includes('(0040,a360)'))));
    expect(firstSr?.dump).not.toContain('(0040,a360)');
    expect(secondSr?.dump).toContain('(0040,a360)'); // Predecessor Documents Sequence
    expect(secondSr?.uid).not.toBe(firstSr?.uid);
    const predecessor = secondSr?.dump.slice(secondSr.dump.indexOf('(0040,a360)'));
    expect(predecessor).toContain(`[${firstSr?.uid ?? ''}]`);
    expect(predecessor).toContain(`[${STUDY_UID}]`);
    if (hasDciodvfy) {
      const checked = await run('dciodvfy', [secondSr?.file ?? '']).catch((e: { stdout: string; stderr: string }) => e);
      const output = `${checked.stdout}${checked.stderr}`;
      expect(
        output.split('\n').filter((line) => line.startsWith('Error')),
        output,
      ).toEqual([]);
    }
  }, 120_000);

  it("closes the superseded case's open worklist items: a reviewer cannot read them unknowingly", async () => {
    const { body: before } = await api<{ items: WorklistItemBody[] }>('reviewer', 'GET', '/api/worklist');
    const open = before.items.filter((i) => i.caseId !== first.caseId);
    expect(open, "the second case's two images: one item for the study").toHaveLength(1);
    expect(open[0]?.imageCount).toBe(2);
    await send(3);
    const study = await judgedStudy(3);
    const third = study.cases.find((c) => c.supersededBy === null) as CaseBody;
    expect(third.instances).toBe(3);
    expect(
      study.cases.filter((c) => c.supersededBy === null),
      'one current case',
    ).toHaveLength(1);

    const { body: after } = await api<{ items: WorklistItemBody[] }>('reviewer', 'GET', '/api/worklist');
    expect(after.items.map((i) => [i.caseId, i.imageCount])).toEqual([[third.caseId, 3]]);
    const refused = await api<{ code: string }>('reviewer', 'POST', `/api/worklist/${encodeURIComponent(open[0]?.itemId ?? '')}/review`, {
      findingPresent: true,
      imageQualityAdequate: true,
      agreesWithModel: true,
      comment: '',
    });
    expect(refused).toMatchObject({ status: 409, body: { code: 'REVIEW_ITEM_SUPERSEDED' } });

    // Both supersessions are in the audit log, naming the cases by id and the study by its key.
    const { body: audit } = await api<{ entries: { event: Record<string, unknown> }[] }>('auditor', 'GET', '/api/audit/entries?type=case_superseded');
    expect(audit.entries.map((e) => e.event).reverse()).toEqual([
      { type: 'case_superseded', caseId: first.caseId, supersededBy: study.cases[1]?.caseId, studyKey: study.studyKey, itemsClosed: 0 },
      { type: 'case_superseded', caseId: study.cases[1]?.caseId, supersededBy: third.caseId, studyKey: study.studyKey, itemsClosed: 1 },
    ]);
  }, 120_000);
});
