import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load-config.js';
import type { CaseBody, StudyBody } from '../../src/http/contract.js';
import { createLogger } from '../../src/logging/create-logger.js';
import { createApiServer, type ApiServer } from '../../src/main.js';
import type { PredictResult } from '../../src/workflows/predict-images.js';
import { ADULT_CHEST, CHILD_BIRTH_DATE, childChestFilm, hasDcmodify } from '../helpers/child-chest-film.js';
import { texturedGreyPng } from '../helpers/images.js';
import { DICOM_SAMPLES, hasDicomSamples, REPO_ROOT } from '../helpers/sample-data.js';

const run = promisify(execFile);
const hasStorescu = ['/usr/bin/storescu', '/usr/local/bin/storescu'].some((p) => existsSync(p));

/**
 * Samples and the storescu flag that proposes their transfer syntax as-is: the adult chest film (64
 * years: outside the demo model's 1-5), its copy made 3 years old (decided), a CT and an MR.
 */
const sent = (): { path: string; flag: string }[] => [
  { path: join(DICOM_SAMPLES, ADULT_CHEST), flag: '-xw' },
  { path: childFilm, flag: '-xw' },
  { path: join(DICOM_SAMPLES, 'ct_small_explicitLE.dcm'), flag: '-xe' },
  { path: join(DICOM_SAMPLES, 'mr_small_explicitLE.dcm'), flag: '-xe' },
];

/** Every file under a folder, recursively. */
const filesUnder = (folder: string): string[] =>
  readdirSync(folder).flatMap((name) => (statSync(join(folder, name)).isDirectory() ? filesUnder(join(folder, name)) : [join(folder, name)]));

let dir: string;
let childFilm: string;
let server: ApiServer;
let token: string;
let logs = '';

async function send(): Promise<void> {
  for (const { path, flag } of sent()) {
    await run('storescu', [flag, '-aet', 'MODALITY', '-aec', 'VIGIL', '127.0.0.1', String(server.dicomPort), path], {
      env: { ...process.env, TCP_NODELAY: '1' },
    });
  }
}

async function get<T>(url: string): Promise<T> {
  const response = await server.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } });
  expect(response.statusCode, url).toBe(200);
  return response.json<T>();
}

async function waitFor<T>(probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe.skipIf(!hasStorescu || !hasDcmodify || !hasDicomSamples)(
  'vigil serve: studies arrive over C-STORE and are judged (needs DCMTK storescu and dcmodify, and ../shared/data)',
  () => {
    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'vigil-serve-'));
      childFilm = await childChestFilm(dir);
      const config = loadConfig(
        { VIGIL_DATA_DIR: dir, VIGIL_DICOM_PORT: '0', VIGIL_STUDY_QUIET_MS: '500', VIGIL_INTRA_OP_THREADS: '1', VIGIL_MIN_FREE_DISK_BYTES: '1' },
        REPO_ROOT,
      );
      server = await createApiServer(config, createLogger('debug', { write: (line: string) => void (logs += line) }), { background: true });
      const admin = server.bootstrap?.token as string;
      const created = await server.app.inject({
        method: 'POST',
        url: '/api/users',
        headers: { authorization: `Bearer ${admin}` },
        payload: { name: 'engineer', role: 'ml-engineer' },
      });
      token = created.json<{ token: string }>().token;
    });
    afterAll(async () => {
      await server?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('de-identifies and stores what arrives, assembles each study after its quiet period, and judges it once', async () => {
      await send();
      const studies = await waitFor(async () => {
        const { studies } = await get<{ studies: StudyBody[] }>('/api/studies');
        const withCases = await Promise.all(studies.map((s) => get<StudyBody & { cases: CaseBody[] }>(`/api/studies/${s.studyKey}`)));
        return withCases.length === 4 && withCases.every((s) => s.cases.length === 1 && s.state === 'judged') ? withCases : undefined;
      });
      // Stored under pseudonymous names only: a folder per study, and beside it, for each instance whose
      // patient's age was known at the door, that age in years and nothing else (the CT says 000Y; the MR has no age).
      const objects = readdirSync(join(dir, 'objects'));
      expect(objects.filter((name) => /^2\.25\.\d+$/.test(name))).toHaveLength(4);
      const ageFolders = objects.filter((name) => /^2\.25\.\d+\.age$/.test(name));
      expect(ageFolders).toHaveLength(3);
      expect(objects).toHaveLength(7);
      const ages = ageFolders.flatMap((folder) => filesUnder(join(dir, 'objects', folder)).map((file) => JSON.parse(readFileSync(file, 'utf8')) as unknown));
      expect(ages.sort((a, b) => (a as { patientAgeYears: number }).patientAgeYears - (b as { patientAgeYears: number }).patientAgeYears)).toEqual([
        { patientAgeYears: 0 },
        { patientAgeYears: 3 },
        { patientAgeYears: 64 },
      ]);
      // No birth date anywhere in the data folder, in any form a file could hold it.
      for (const file of filesUnder(dir).filter((f) => f !== childFilm)) {
        const bytes = readFileSync(file);
        for (const date of ['19400305', CHILD_BIRTH_DATE, '1940-03-05', '2001-04-15']) expect(bytes.includes(date), `${date} in ${file}`).toBe(false);
      }

      const results = studies.flatMap((s) => s.cases.flatMap((c) => c.results as PredictResult[]));
      expect(results.map((r) => r.status).sort()).toEqual(['decided', 'rejected', 'rejected', 'rejected']);
      // The adult film is refused for its age, with nothing else against it; its paediatric copy is decided.
      // (The CT, Patient's Age 000Y, is refused for its age too, beside its modality.)
      const adult = results.filter((r) => r.quality?.reasons.some((x) => x.code === 'patient_age_not_intended' && x.measured === 64));
      expect(adult.map((r) => [r.status, r.quality?.reasons])).toEqual([
        [
          'rejected',
          [
            {
              code: 'patient_age_not_intended',
              verdict: 'reject',
              message: expect.any(String),
              measured: 64,
              threshold: '1-5',
              check: 'patient_age',
              outcome: 'failed',
            },
          ],
        ],
      ]);
      expect(adult[0]?.outputs).toEqual([]);
      const decided = results.find((r) => r.status === 'decided');
      expect(decided?.quality?.reasons.map((x) => x.code)).not.toContain('patient_age_not_intended');
      expect(decided?.outputs[0]).toMatchObject({ finding: 'pneumonia', decision: expect.stringMatching(/^(positive|negative|refer)$/) });
      for (const s of studies) expect(s.state).toBe('judged');

      // The same instances again: stored once, judged once.
      await send();
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      for (const s of studies) {
        const again = await get<StudyBody & { cases: CaseBody[] }>(`/api/studies/${s.studyKey}`);
        expect(again.instances).toBe(1);
        expect(again.cases).toHaveLength(1);
      }
      const verify = await server.app.inject({
        method: 'GET',
        url: '/api/audit/verify',
        headers: { authorization: `Bearer ${server.bootstrap?.token ?? ''}` },
      });
      expect(verify.statusCode).toBe(403); // the administrator does not read the audit log; the auditor does
      expect(logs).not.toContain('SIMPSON');
    });

    it('puts what the gate rejected on the worklist, takes one review per item, and audits reviews and case reads', async () => {
      const as = async (role: string): Promise<string> => {
        const created = await server.app.inject({
          method: 'POST',
          url: '/api/users',
          headers: { authorization: `Bearer ${server.bootstrap?.token ?? ''}` },
          payload: { name: `user-${role}`, role },
        });
        return created.json<{ token: string }>().token;
      };
      const reviewer = await as('clinician-reviewer');
      const auditor = await as('auditor');
      const worklist = await server.app.inject({ method: 'GET', url: '/api/worklist', headers: { authorization: `Bearer ${reviewer}` } });
      const items = worklist.json<{ items: { itemId: string; reasons: string[] }[] }>().items;
      expect(items.filter((i) => i.reasons.includes('gate_rejected'))).toHaveLength(3); // the adult chest film, the CT and the MR
      const item = items[0] as { itemId: string };
      const read = { findingPresent: null, imageQualityAdequate: true, agreesWithModel: true, comment: 'wrong modality for this model' };
      const url = `/api/worklist/${encodeURIComponent(item.itemId)}/review`;
      const first = await server.app.inject({ method: 'POST', url, headers: { authorization: `Bearer ${reviewer}` }, payload: read });
      expect(first.statusCode).toBe(201);
      const again = await server.app.inject({ method: 'POST', url, headers: { authorization: `Bearer ${reviewer}` }, payload: read });
      expect(again.json<{ code: string; statusCode: number }>()).toMatchObject({ code: 'REVIEW_ALREADY_RECORDED', statusCode: 409 });
      const reviews = await server.app.inject({ method: 'GET', url: '/api/reviews', headers: { authorization: `Bearer ${reviewer}` } });
      expect(reviews.json<{ reviews: { itemId: string }[] }>().reviews.map((r) => r.itemId)).toEqual([item.itemId]);

      const verify = await server.app.inject({ method: 'GET', url: '/api/audit/verify', headers: { authorization: `Bearer ${auditor}` } });
      const { treeSize } = verify.json<{ ok: boolean; treeSize: number }>();
      expect(verify.json()).toMatchObject({ ok: true });
      const types: string[] = [];
      for (let i = 0; i < treeSize; i++) {
        const entry = await server.app.inject({ method: 'GET', url: `/api/audit/entries/a-${i}`, headers: { authorization: `Bearer ${auditor}` } });
        types.push(entry.json<{ event: { type: string } }>().event.type);
      }
      expect(types).toContain('review_recorded');
      expect(types).toContain('case_read');
      expect(JSON.stringify(types)).not.toContain('wrong modality'); // the comment stays out of the log
    });

    it('judges PNG uploads as one study, with what their sender declared', async () => {
      const pacs = (
        await server.app.inject({
          method: 'POST',
          url: '/api/users',
          headers: { authorization: `Bearer ${server.bootstrap?.token ?? ''}` },
          payload: { name: 'camera-gateway', role: 'integration' },
        })
      ).json<{ token: string }>().token;
      const upload = async (declaration: object, images: Buffer[]) => {
        const parts: Buffer[] = [Buffer.from('--u\r\nContent-Type: application/json\r\n\r\n' + JSON.stringify(declaration) + '\r\n')];
        for (const image of images) parts.push(Buffer.from('--u\r\nContent-Type: image/png\r\n\r\n'), image, Buffer.from('\r\n'));
        parts.push(Buffer.from('--u--\r\n'));
        return server.app.inject({
          method: 'POST',
          url: '/api/images',
          headers: { authorization: `Bearer ${pacs}`, 'content-type': 'multipart/related; type="application/json"; boundary=u' },
          payload: Buffer.concat(parts),
        });
      };
      // The device knows only its population's ages (1-5 years): a range, checked against the model's.
      const declared = await upload({ site: 'site-a', device: 'cam-1', modality: 'CR', bodyPart: 'CHEST', view: 'PA', patientAgeYears: { min: 1, max: 5 } }, [
        await texturedGreyPng(1),
        await texturedGreyPng(2),
        await texturedGreyPng(1),
      ]);
      expect(declared.statusCode).toBe(201);
      expect(declared.json()).toMatchObject({ stored: 2, duplicates: 1, failed: [] });
      const bare = await upload({}, [await texturedGreyPng(3), Buffer.from('not an image')]);
      expect(bare.json()).toMatchObject({ stored: 1, failed: [{ index: 1, code: 'INPUT_FORMAT_UNKNOWN' }] });
      const invalid = await upload({ modality: 'cr; drop table' }, [await texturedGreyPng(4)]);
      expect(invalid.json<{ code: string }>().code).toBe('REQUEST_INVALID');
      const notAnAge = await upload({ patientAgeYears: '1940-03-05' }, [await texturedGreyPng(4)]);
      expect(notAnAge.json<{ code: string }>().code).toBe('REQUEST_INVALID');
      const adult = await upload({ modality: 'CR', bodyPart: 'CHEST', view: 'PA', patientAgeYears: 64 }, [await texturedGreyPng(5)]);
      expect(adult.statusCode).toBe(201);

      const judged = async (studyKey: string) =>
        waitFor(async () => {
          const study = await get<StudyBody & { cases: CaseBody[] }>(`/api/studies/${studyKey}`);
          return study.cases.length === 1 ? (study.cases[0]?.results as PredictResult[]) : undefined;
        });
      const declaredResults = await judged(declared.json<{ studyKey: string }>().studyKey);
      expect(declaredResults).toHaveLength(2);
      for (const r of declaredResults) expect(r.quality?.reasons.map((x) => x.code)).not.toContain('modality_undeclared');
      for (const r of declaredResults) {
        expect(r.status).toBe('decided');
        expect(r.quality?.checks.find((c) => c.check === 'patient_age')).toEqual({
          check: 'patient_age',
          outcome: 'passed',
          measured: '1-5',
          threshold: '1-5',
        });
      }
      // Nothing declared: every restricted value is reported as not checked, and the paediatric model refuses the unknown age.
      const bareKey = bare.json<{ studyKey: string }>().studyKey;
      const bareResults = await judged(bareKey);
      expect(bareResults[0]?.status).toBe('rejected');
      expect(bareResults[0]?.quality?.reasons.filter((x) => x.outcome === 'unchecked').map((x) => [x.code, x.verdict])).toEqual([
        ['modality_undeclared', 'warn'],
        ['body_part_undeclared', 'warn'],
        ['view_undeclared', 'warn'],
        ['patient_age_unknown', 'reject'],
      ]);
      // The worklist says so apart from the verdict.
      const reader = (
        await server.app.inject({
          method: 'POST',
          url: '/api/users',
          headers: { authorization: `Bearer ${server.bootstrap?.token ?? ''}` },
          payload: { name: 'upload-reader', role: 'clinician-reviewer' },
        })
      ).json<{ token: string }>().token;
      const worklist = await server.app.inject({ method: 'GET', url: '/api/worklist', headers: { authorization: `Bearer ${reader}` } });
      const items = worklist.json<{ items: { studyKey: string; reasons: string[] }[] }>().items.filter((i) => i.studyKey === bareKey);
      expect(items.map((i) => i.reasons)).toEqual([['gate_rejected', 'gate_unchecked']]);
      const adultResults = await judged(adult.json<{ studyKey: string }>().studyKey);
      expect(adultResults.map((r) => r.status)).toEqual(['rejected']);
      expect(adultResults[0]?.quality?.reasons).toContainEqual(expect.objectContaining({ code: 'patient_age_not_intended', measured: 64, threshold: '1-5' }));
    });
  },
);
