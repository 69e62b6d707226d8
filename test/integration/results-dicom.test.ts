import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStorescp } from '../helpers/dicom-peers.js';
import { readInstanceIdentity } from '../../src/adapters/dicom-dcmjs/read-instance-identity.js';
import { loadConfig } from '../../src/config/load-config.js';
import type { CaseBody, StudyBody } from '../../src/http/contract.js';
import { createLogger } from '../../src/logging/create-logger.js';
import { createApiServer, type ApiServer } from '../../src/main.js';
import { ADULT_CHEST, CHILD_BIRTH_DATE } from '../helpers/child-chest-film.js';
import { DICOM_SAMPLES, hasDicomSamples, REPO_ROOT } from '../helpers/sample-data.js';

const run = promisify(execFile);
const hasDcmtk = ['storescp', 'storescu', 'dcmodify', 'dcmdump'].every((tool) => ['/usr/bin', '/usr/local/bin'].some((d) => existsSync(join(d, tool))));

/** The identity the study is sent with: synthetic values, so that finding any of them anywhere is meaningful. */
const SENT = {
  patientName: 'SYNTHETIC^RESULTSBACK',
  patientId: 'SYNTH-PID-RB-0001',
  accessionNumber: 'SYNACC0001',
  studyUid: '1.2.826.0.1.3680043.10.543.77',
  seriesUid: '1.2.826.0.1.3680043.10.543.77.1',
  sopUid: '1.2.826.0.1.3680043.10.543.77.1.1',
};

let dir: string;
let pacsDir: string;
let storescp: { port: number; stop: () => Promise<void> } | undefined;
let server: ApiServer;
let logs = '';
/** The token of `ris-1`, the integration account the modality's AE title sends for (VIGIL_DICOM_SENDER_USERS). */
let integration: string;

async function waitFor<T>(probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Every file under `root`, recursively. */
function filesUnder(root: string): string[] {
  return readdirSync(root, { recursive: true, encoding: 'utf8' })
    .map((name) => join(root, name))
    .filter((path) => statSync(path).isFile());
}

describe.skipIf(!hasDcmtk || !hasDicomSamples)('results back by DICOM: an SR to a real storescp (needs DCMTK and ../shared/data)', () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-results-'));
    pacsDir = join(dir, 'pacs');
    mkdirSync(pacsDir);
    storescp = await startStorescp('PACS', pacsDir);
    const pacsPort = storescp.port;
    const config = loadConfig(
      {
        VIGIL_DATA_DIR: join(dir, 'data'),
        VIGIL_DICOM_PORT: '0',
        VIGIL_STUDY_QUIET_MS: '500',
        VIGIL_INTRA_OP_THREADS: '1',
        VIGIL_MIN_FREE_DISK_BYTES: '1',
        VIGIL_RESULT_DICOM_DESTINATION: `PACS@127.0.0.1:${pacsPort}`,
        // The modality sends for the RIS's integration account, which then reads the results of what it sent.
        VIGIL_DICOM_SENDER_USERS: 'MODALITY=ris-1',
      },
      REPO_ROOT,
    );
    server = await createApiServer(config, createLogger('debug', { write: (line: string) => void (logs += line) }), { background: true });
    integration = (
      await server.app.inject({
        method: 'POST',
        url: '/api/users',
        headers: { authorization: `Bearer ${server.bootstrap?.token ?? ''}` },
        payload: { name: 'ris-1', role: 'integration' },
      })
    ).json<{ token: string }>().token;
    // The real chest film, with a synthetic identity written over the original, and a child's birth date
    // (3 years on its study date) so that the paediatric demo model decides it: the SR is sent only for
    // decided cases, and the film as it is (a 64-year-old) is refused for its age.
    const study = join(dir, 'study.dcm');
    copyFileSync(join(DICOM_SAMPLES, ADULT_CHEST), study);
    await run('dcmodify', [
      '-nb',
      '-m',
      `(0010,0030)=${CHILD_BIRTH_DATE}`,
      '-m',
      `(0010,0010)=${SENT.patientName}`,
      '-m',
      `(0010,0020)=${SENT.patientId}`,
      '-m',
      `(0008,0050)=${SENT.accessionNumber}`,
      '-m',
      `(0020,000d)=${SENT.studyUid}`,
      '-m',
      `(0020,000e)=${SENT.seriesUid}`,
      '-m',
      `(0008,0018)=${SENT.sopUid}`,
      study,
    ]);
    await run('storescu', ['-xw', '-aet', 'MODALITY', '-aec', 'VIGIL', '127.0.0.1', String(server.dicomPort), study], {
      env: { ...process.env, TCP_NODELAY: '1' },
    }).catch((e: unknown) => {
      throw new Error(`${String(e)}\n${logs}`);
    });
  }, 60_000);
  afterAll(async () => {
    await server?.close();
    await storescp?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('sends one SR that names the model and the decision and references the original study and instance', async () => {
    const received = await waitFor(() => {
      const files = readdirSync(pacsDir).filter((name) => name.startsWith('SR'));
      return files.length > 0 ? files : undefined;
    });
    expect(received).toHaveLength(1);
    const sr = readFileSync(join(pacsDir, received[0] as string));
    const identity = await readInstanceIdentity(sr);
    expect(identity.reference.studyInstanceUid).toBe(SENT.studyUid);
    expect(identity.reference.sopClassUid).toBe('1.2.840.10008.5.1.4.1.1.88.33');
    expect(identity.study).toMatchObject({
      patientName: SENT.patientName,
      patientId: SENT.patientId,
      patientBirthDate: CHILD_BIRTH_DATE,
      accessionNumber: SENT.accessionNumber,
    });

    const { stdout: dump } = await run('dcmdump', ['+U8', join(pacsDir, received[0] as string)]);
    expect(dump).toContain('[pneumonia-demo]'); // Algorithm Name
    expect(dump).toContain('[Algorithm Version]');
    expect(dump).toMatch(/\[(Positive|Negative|Refer to human review)\]/);
    expect(dump).toContain('[UNVERIFIED]');
    // The evidence and the IMAGE item reference the instance as it was sent.
    expect(dump.match(new RegExp(`\\[${SENT.sopUid.replaceAll('.', '\\.')}\\]`, 'g'))?.length).toBe(2);
    expect(dump).toContain(`[${SENT.seriesUid}]`);
    if (existsSync('/usr/bin/dciodvfy')) {
      // The SR as the PACS stored it (dcmjs-dimse re-encoded it on the way) still validates.
      const checked = await run('dciodvfy', [join(pacsDir, received[0] as string)]).catch((e: { stdout: string; stderr: string }) => e);
      const output = `${checked.stdout}${checked.stderr}`;
      expect(
        output.split('\n').filter((line) => line.startsWith('Error')),
        output,
      ).toEqual([]);
    }

    // The delivery was audited, naming the SR by the UID Vigil made for it and nothing of the patient.
    const auditor = (
      await server.app.inject({
        method: 'POST',
        url: '/api/users',
        headers: { authorization: `Bearer ${server.bootstrap?.token ?? ''}` },
        payload: { name: 'auditor-1', role: 'auditor' },
      })
    ).json<{ token: string }>().token;
    const entries = await waitFor(async () => {
      const response = await server.app.inject({ method: 'GET', url: '/api/audit/verify', headers: { authorization: `Bearer ${auditor}` } });
      const { treeSize } = response.json<{ treeSize: number }>();
      const events: { type: string; srSopInstanceUid?: string }[] = [];
      for (let i = 0; i < treeSize; i++) {
        const entry = await server.app.inject({ method: 'GET', url: `/api/audit/entries/a-${i}`, headers: { authorization: `Bearer ${auditor}` } });
        events.push(entry.json<{ event: { type: string; srSopInstanceUid?: string } }>().event);
      }
      return events.some((e) => e.type === 'result_delivered') ? events : undefined;
    });
    expect(entries.filter((e) => e.type === 'result_delivered')).toEqual([
      expect.objectContaining({ destination: 'dicom', srSopInstanceUid: identity.reference.sopInstanceUid }),
    ]);
    const metrics = await server.app.inject({ method: 'GET', url: '/api/metrics', headers: { authorization: `Bearer ${server.bootstrap?.token ?? ''}` } });
    expect(metrics.body).toContain('vigil_results_delivered_total{destination="dicom"} 1');
    expect(metrics.body).toContain('vigil_result_delivery_failures_total{destination="dicom"} 0');
  });

  it('serves the FHIR Bundle to an integration, re-identified, and audits the read', async () => {
    const engineer = (
      await server.app.inject({
        method: 'POST',
        url: '/api/users',
        headers: { authorization: `Bearer ${server.bootstrap?.token ?? ''}` },
        payload: { name: 'engineer-1', role: 'ml-engineer' },
      })
    ).json<{ token: string }>().token;
    const { studies } = (await server.app.inject({ method: 'GET', url: '/api/studies', headers: { authorization: `Bearer ${engineer}` } })).json<{
      studies: StudyBody[];
    }>();
    const study = (
      await server.app.inject({ method: 'GET', url: `/api/studies/${studies[0]?.studyKey ?? ''}`, headers: { authorization: `Bearer ${engineer}` } })
    ).json<StudyBody & { cases: CaseBody[] }>();
    const caseId = study.cases[0]?.caseId ?? '';
    const response = await server.app.inject({
      method: 'GET',
      url: `/api/cases/${encodeURIComponent(caseId)}/fhir`,
      headers: { authorization: `Bearer ${integration}` },
    });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toContain('application/fhir+json');
    const bundle = response.json<{ type: string; entry: { resource: Record<string, unknown> }[] }>();
    expect(bundle.type).toBe('collection');
    expect(bundle.entry[0]?.resource).toMatchObject({
      resourceType: 'DiagnosticReport',
      subject: { identifier: { system: 'urn:vigil:dicom-patient-id', value: SENT.patientId } },
      imagingStudy: [{ identifier: { system: 'urn:dicom:uid', value: `urn:oid:${SENT.studyUid}` } }],
    });
    const forbidden = await server.app.inject({
      method: 'GET',
      url: `/api/cases/${encodeURIComponent(caseId)}/fhir`,
      headers: { authorization: `Bearer ${engineer}` },
    });
    expect(forbidden.statusCode).toBe(403);
    const missing = await server.app.inject({ method: 'GET', url: '/api/cases/none/fhir', headers: { authorization: `Bearer ${integration}` } });
    expect(missing.json()).toMatchObject({ code: 'ROUTE_NOT_FOUND', statusCode: 404 });
  });

  it('keeps the originals nowhere but the encrypted vault: not in logs, the store, the audit log or the objects', async () => {
    await server.close();
    // The birth date too: only the age in years derived from it is kept beside the instance.
    const needles = [SENT.patientName, SENT.patientId, SENT.accessionNumber, SENT.studyUid, SENT.seriesUid, SENT.sopUid, 'CompressedSamples', CHILD_BIRTH_DATE];
    for (const file of filesUnder(join(dir, 'data'))) {
      const bytes = readFileSync(file);
      for (const needle of needles) expect(bytes.includes(Buffer.from(needle)), `${needle} in ${file}`).toBe(false);
    }
    for (const needle of needles) expect(logs).not.toContain(needle);
  });
});
