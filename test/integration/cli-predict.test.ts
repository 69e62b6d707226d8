import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readMedmnistSplit } from '../../src/adapters/dataset-medmnist/read-npz.js';
import { encodeGreyPng } from '../../src/adapters/image-sharp/encode-png.js';
import { EXIT_CODES } from '../../src/cli/exit-codes.js';
import { openSqliteDatabase } from '../../src/adapters/store-sqlite/open-sqlite.js';
import { SqliteSystemStats } from '../../src/adapters/store-sqlite/sqlite-system-stats.js';
import { caseGateSchema } from '../../src/http/contract.js';
import type { PredictResult } from '../../src/workflows/predict-images.js';
import { texturedGreyPng } from '../helpers/images.js';
import { jsonLines, runVigil } from '../helpers/run-vigil.js';
import { ADULT_CHEST, hasDcmodify } from '../helpers/child-chest-film.js';
import { DEMO_MODEL_DIR, DICOM_SAMPLES, hasDicomSamples, hasPneumoniaMnist, PNEUMONIA_NPZ } from '../helpers/sample-data.js';

const runFile = promisify(execFile);
let work: string;
/** What the demo model decides a PNG as: a frontal chest radiograph of a 3-year-old. */
const CHILD_CHEST_PA = ['--modality', 'CR', '--body-part', 'CHEST', '--view', 'PA', '--patient-age-years', '3'];
const dataDir = (): string => join(work, 'data');

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'vigil-cli-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('vigil predict', () => {
  it('judges a mixed folder: good images decided, a corrupt DICOM, a truncated one and a text file each get their own coded error, exit 3', async () => {
    const inputs = join(work, 'mixed');
    mkdirSync(inputs);
    writeFileSync(join(inputs, 'a.png'), await texturedGreyPng(1));
    writeFileSync(join(inputs, 'b.txt'), 'not an image');
    const dicomish = new Uint8Array(200);
    dicomish.set(new TextEncoder().encode('DICM'), 128);
    writeFileSync(join(inputs, 'c.dcm'), dicomish);
    writeFileSync(join(inputs, 'd.png'), (await texturedGreyPng(2)).subarray(0, 100));

    const run = await runVigil(['predict', inputs, '--json', ...CHILD_CHEST_PA], dataDir());
    expect(run.code).toBe(3);
    const lines = jsonLines<PredictResult>(run.stdout);
    expect(lines.map((l) => [l.input.file.split('/').at(-1), l.status, l.error?.code ?? null])).toEqual([
      ['a.png', 'decided', null],
      ['b.txt', 'error', 'INPUT_FORMAT_UNKNOWN'],
      ['c.dcm', 'error', expect.stringMatching(/^DICOM_/)],
      ['d.png', 'error', 'IMAGE_DECODE_FAILED'],
    ]);
    const decided = lines[0] as PredictResult;
    expect(decided.outputs).toEqual([
      { finding: 'pneumonia', probability: expect.any(Number), decision: expect.stringMatching(/^(positive|negative|refer)$/) },
    ]);
    // The registry version id (every file of the bundle) beside the model file's SHA-256: the version half of the deployment key.
    expect(decided.model).toEqual({
      id: 'pneumonia-demo',
      version: '1.0.0',
      sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
      versionId: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    expect(decided.auditId).toMatch(/^a-\d+$/);
    expect(decided.studyKey).toMatch(/^st-[0-9a-f]{32}$/);
    for (const line of lines.slice(1)) expect(line.auditId, 'errors are audited too').toMatch(/^a-\d+$/);

    // Marked as the command line's in the log, and kept out of a server's counts on the same store.
    const db = openSqliteDatabase({ dataDir: dataDir() });
    try {
      const origins = db
        .prepare<[], string | null>(`SELECT json_extract(body, '$.event.origin') FROM audit_entries WHERE type IN ('decision', 'error')`)
        .pluck()
        .all();
      expect(origins.length).toBeGreaterThanOrEqual(4);
      expect(new Set(origins)).toEqual(new Set(['cli']));
      const counts = await new SqliteSystemStats(db).decisionsSince(new Date(Date.now() - 86_400_000).toISOString());
      expect(counts).toMatchObject({ images: 0, gateRejected: 0, byDecision: {} });
      expect(counts.commandLineImages).toBeGreaterThanOrEqual(1);
    } finally {
      db.close();
    }
  });

  it('refers every image the gate warned about, per the policy (a PNG that does not declare its view)', async () => {
    const inputs = join(work, 'no-view');
    mkdirSync(inputs);
    writeFileSync(join(inputs, 'a.png'), await texturedGreyPng(3));
    const run = await runVigil(['predict', inputs, '--json', '--modality', 'CR', '--body-part', 'CHEST', '--patient-age-years', '3'], dataDir());
    const [line] = jsonLines<PredictResult>(run.stdout);
    expect(line?.quality?.verdict).toBe('warn');
    expect(line?.quality?.reasons.filter((r) => r.outcome === 'unchecked')).toEqual([
      expect.objectContaining({ code: 'view_undeclared', verdict: 'warn', check: 'view', outcome: 'unchecked', why: 'value_unknown', threshold: 'PA|AP' }),
    ]);
    expect(line?.outputs[0]?.decision).toBe('refer');
    expect(run.stdout).not.toContain('"verdict":"pass"');
  });

  it('says what it could not check on a PNG that declares nothing, and the paediatric model refuses an unknown age', async () => {
    const inputs = join(work, 'undeclared');
    mkdirSync(inputs);
    writeFileSync(join(inputs, 'a.png'), await texturedGreyPng(3));
    const dir = join(work, 'undeclared-data');
    const run = await runVigil(['predict', inputs, '--json'], dir);
    const [line] = jsonLines<PredictResult>(run.stdout);
    expect(line?.status).toBe('rejected');
    expect(line?.quality?.verdict).toBe('reject');
    expect(line?.quality?.reasons.filter((r) => r.outcome === 'unchecked').map((r) => [r.code, r.verdict, r.outcome, r.why])).toEqual([
      ['modality_undeclared', 'warn', 'unchecked', 'value_unknown'],
      ['body_part_undeclared', 'warn', 'unchecked', 'value_unknown'],
      ['view_undeclared', 'warn', 'unchecked', 'value_unknown'],
      ['patient_age_unknown', 'reject', 'unchecked', 'value_unknown'],
    ]);
    // The shape the API's contract declares for a case result's gate (the dashboard reads it from there).
    expect(caseGateSchema.parse(line?.quality)).toEqual(line?.quality);
    const checks = Object.fromEntries((line?.quality?.checks ?? []).map((c) => [c.check, c.outcome === 'unchecked' ? `unchecked:${c.why ?? ''}` : c.outcome]));
    expect(checks).toEqual({
      modality: 'unchecked:value_unknown',
      body_part: 'unchecked:value_unknown',
      view: 'unchecked:value_unknown',
      patient_age: 'unchecked:value_unknown',
      photometric: 'passed',
      size: 'passed',
      bit_depth: 'passed',
      constant_image: 'passed',
      saturation: expect.stringMatching(/^(passed|failed)$/),
      dynamic_range: expect.stringMatching(/^(passed|failed)$/),
      sharpness: expect.stringMatching(/^(passed|failed)$/),
      distribution: expect.stringMatching(/^(passed|failed)$/),
    });
    // The audit entry says so too: the verdict, each unchecked reason, and every check not made.
    const proof = JSON.parse((await runVigil(['audit', 'prove', line?.auditId as string, '--json'], dir)).stdout) as {
      entry: { event: { gate: { verdict: string; reasons: { code: string; outcome: string }[]; unchecked: { check: string; why: string }[] } } };
    };
    expect(proof.entry.event.gate.verdict).toBe('reject');
    expect(proof.entry.event.gate.reasons).toContainEqual(expect.objectContaining({ code: 'patient_age_unknown', outcome: 'unchecked', why: 'value_unknown' }));
    expect(proof.entry.event.gate.unchecked).toEqual([
      { check: 'modality', why: 'value_unknown' },
      { check: 'body_part', why: 'value_unknown' },
      { check: 'view', why: 'value_unknown' },
      { check: 'patient_age', why: 'value_unknown' },
    ]);
    // The text output says "not checked", never a bare pass.
    const text = await runVigil(['predict', inputs], dir);
    expect(text.stdout).toContain('rejected: patient_age_unknown (not checked: value unknown, needs 1-5)');
    expect(text.stdout).toContain('also warned: modality_undeclared (not checked: value unknown, needs CR|DX)');
  });

  it.skipIf(!hasPneumoniaMnist)(
    'with a model whose manifest restricts neither view nor age, an unknown view and age are fine: passed, reported as not required',
    async () => {
      const model = join(work, 'unrestricted-model');
      mkdirSync(model);
      copyFileSync(join(DEMO_MODEL_DIR, 'model.onnx'), join(model, 'model.onnx'));
      const manifest = JSON.parse(readFileSync(join(DEMO_MODEL_DIR, 'vigil-model.json'), 'utf8')) as { intendedUse: Record<string, unknown> };
      manifest.intendedUse.views = [];
      delete manifest.intendedUse.patientAgeYears;
      writeFileSync(join(model, 'vigil-model.json'), JSON.stringify(manifest));
      const inputs = join(work, 'for-unrestricted');
      mkdirSync(inputs);
      // The first PneumoniaMNIST test image, as the demo writes it: within every quality bound of the model.
      const split = readMedmnistSplit(readFileSync(PNEUMONIA_NPZ), 'test');
      writeFileSync(join(inputs, 'a.png'), await encodeGreyPng(split.images[0] as Uint8Array, split.width, split.height));
      const run = await runVigil(['predict', inputs, '--json', '--model', model, '--modality', 'CR', '--body-part', 'CHEST'], dataDir());
      const [line] = jsonLines<PredictResult>(run.stdout);
      expect(line?.status).toBe('decided');
      expect(line?.quality?.verdict).toBe('pass');
      expect(line?.quality?.reasons).toEqual([]);
      expect(line?.quality?.checks.filter((c) => c.outcome !== 'passed')).toEqual([
        { check: 'view', outcome: 'unchecked', why: 'not_required' },
        { check: 'patient_age', outcome: 'unchecked', why: 'not_required' },
      ]);
      // The same image with the demo model's own manifest (views PA/AP, ages 1-5) is not a pass: its view and age were not checked.
      const restricted = jsonLines<PredictResult>(
        (await runVigil(['predict', inputs, '--json', '--modality', 'CR', '--body-part', 'CHEST'], dataDir())).stdout,
      );
      expect(restricted[0]?.quality?.verdict).toBe('reject');
      expect(restricted[0]?.quality?.reasons.map((r) => r.code)).toEqual(['view_undeclared', 'patient_age_unknown']);
    },
  );

  it.skipIf(!hasDicomSamples)('decodes every sample file: each frame is decided or rejected with reasons, never an error', async () => {
    const run = await runVigil(['predict', DICOM_SAMPLES, '--json'], dataDir());
    const lines = jsonLines<PredictResult>(run.stdout).filter((l) => l.input.file.endsWith('.dcm'));
    expect(new Set(lines.map((l) => l.input.file)).size).toBe(20);
    expect(lines.length).toBe(50); // 20 files, 50 frames
    expect(lines.filter((l) => l.status === 'error')).toEqual([]);
    const byFile = (name: string) => lines.filter((l) => l.input.file.endsWith(name));
    // The one chest film is of an adult (born 1940-03-05, studied 2004-08-26; no Patient's Age): the
    // age is derived at the door, before de-identification removes the dates, and the paediatric model refuses it.
    const chest = byFile('cr_chest_pa_j2k_lossy.dcm')[0];
    expect(chest?.status).toBe('rejected');
    expect(chest?.quality?.reasons).toEqual([
      {
        code: 'patient_age_not_intended',
        verdict: 'reject',
        message: expect.any(String),
        measured: 64,
        threshold: '1-5',
        check: 'patient_age',
        outcome: 'failed',
      },
    ]);
    expect(chest?.outputs).toEqual([]);
    expect(run.stdout, 'only the age goes past the door, never a date').not.toMatch(/19400305|20040826/);
    expect(byFile('cr_leg_j2k_lossless.dcm')[0]?.quality?.reasons.map((r) => r.code)).toContain('body_part_not_intended');
    expect(byFile('ct_small_explicitLE.dcm')[0]?.quality?.reasons[0]).toMatchObject({
      code: 'modality_not_intended',
      verdict: 'reject',
      measured: 'CT',
      threshold: 'CR|DX',
    });
    expect(byFile('us_multiframe30_jpeg_baseline.dcm').map((l) => l.input.frame)).toEqual(Array.from({ length: 30 }, (_, i) => i));
    for (const rejected of lines.filter((l) => l.status === 'rejected')) expect(rejected.outputs, 'a rejected image is not sent to the model').toEqual([]);
  });

  it.skipIf(!hasDicomSamples || !hasDcmodify)(
    "refuses the adult chest film once its birth date and Patient's Age are removed: an unknown age is not judged as if checked",
    async () => {
      const inputs = join(work, 'ageless');
      mkdirSync(inputs);
      const film = join(inputs, 'chest-without-age.dcm');
      copyFileSync(join(DICOM_SAMPLES, ADULT_CHEST), film);
      await runFile('dcmodify', ['-nb', '-imt', '-ea', '(0010,0030)', '-ea', '(0010,1010)', film]);
      const run = await runVigil(['predict', inputs, '--json'], dataDir());
      const [line] = jsonLines<PredictResult>(run.stdout);
      // Before: decided positive at 0.993 with gate verdict "pass". The film declares CR, CHEST and PA, so only the age is unknown.
      expect(line?.status).toBe('rejected');
      expect(line?.outputs).toEqual([]);
      expect(line?.quality?.verdict).toBe('reject');
      expect(line?.quality?.reasons).toEqual([
        {
          code: 'patient_age_unknown',
          verdict: 'reject',
          message: expect.any(String),
          measured: 'absent',
          threshold: '1-5',
          check: 'patient_age',
          outcome: 'unchecked',
          why: 'value_unknown',
        },
      ]);
      expect(line?.quality?.checks.find((c) => c.check === 'view')).toEqual({ check: 'view', outcome: 'passed', measured: 'PA', threshold: 'PA|AP' });
    },
  );

  it("judges PNG/JPEG inputs by their declared patient age: inside the model's range decided, outside rejected, not a whole age a usage error", async () => {
    const inputs = join(work, 'aged');
    mkdirSync(inputs);
    writeFileSync(join(inputs, 'a.png'), await texturedGreyPng(4));
    const declare = ['--json', '--modality', 'CR', '--body-part', 'CHEST', '--view', 'PA'];
    const child = jsonLines<PredictResult>((await runVigil(['predict', inputs, ...declare, '--patient-age-years', '3'], dataDir())).stdout);
    expect(child.map((l) => [l.status, l.quality?.reasons.map((r) => r.code)])).toEqual([
      ['decided', expect.not.arrayContaining(['patient_age_not_intended'])],
    ]);
    const adult = jsonLines<PredictResult>((await runVigil(['predict', inputs, ...declare, '--patient-age-years', '97'], dataDir())).stdout);
    expect(adult[0]?.status).toBe('rejected');
    expect(adult[0]?.quality?.reasons).toContainEqual(expect.objectContaining({ code: 'patient_age_not_intended', measured: 90, threshold: '1-5' }));
    const wrong = await runVigil(['predict', inputs, '--patient-age-years', '3.5'], dataDir());
    expect(wrong.code).toBe(EXIT_CODES.CLI_USAGE);
    expect((await runVigil(['predict', inputs, '--patient-age-years', '5-1'], dataDir())).code).toBe(EXIT_CODES.CLI_USAGE);
    // A range known to hold the age (a source that knows only its population's ages): inside is checked and passed, reaching across is not checked.
    const population = jsonLines<PredictResult>((await runVigil(['predict', inputs, ...declare, '--patient-age-years', '1-5'], dataDir())).stdout);
    expect(population[0]?.quality?.checks.find((c) => c.check === 'patient_age')).toEqual({
      check: 'patient_age',
      outcome: 'passed',
      measured: '1-5',
      threshold: '1-5',
    });
    const across = jsonLines<PredictResult>((await runVigil(['predict', inputs, ...declare, '--patient-age-years', '0-10'], dataDir())).stdout);
    expect(across[0]?.status).toBe('rejected');
    expect(across[0]?.quality?.reasons).toContainEqual(expect.objectContaining({ code: 'patient_age_unknown', measured: '0-10', outcome: 'unchecked' }));
  });

  it('fails with a usage error (exit 2) when given nothing to do', async () => {
    const run = await runVigil(['predict'], dataDir());
    expect(run.code).toBe(EXIT_CODES.CLI_USAGE);
    expect(run.stderr).toContain('CLI_USAGE');
  });
});

describe('vigil audit', () => {
  it('verifies the log, proves an entry, and finds the first tampered entry', async () => {
    const dir = join(work, 'audit-data');
    const inputs = join(work, 'audit-inputs');
    mkdirSync(inputs);
    for (let i = 0; i < 3; i++) writeFileSync(join(inputs, `${i}.png`), await texturedGreyPng(10 + i));
    const predicted = jsonLines<PredictResult>((await runVigil(['predict', inputs, '--json', ...CHILD_CHEST_PA], dir)).stdout);

    const verified = await runVigil(['audit', 'verify', '--json'], dir);
    expect(verified.code).toBe(0);
    expect(JSON.parse(verified.stdout)).toMatchObject({ ok: true, treeSize: 5 }); // config, model load, 3 decisions

    const auditId = predicted[1]?.auditId as string;
    const proved = await runVigil(['audit', 'prove', auditId, '--json'], dir);
    expect(proved.code).toBe(0);
    const proof = JSON.parse(proved.stdout) as { verified: boolean; entry: { event: { type: string; outputs: unknown[] } } };
    expect(proof.verified).toBe(true);
    expect(proof.entry.event).toMatchObject({ type: 'decision', outputs: predicted[1]?.outputs });

    const missing = await runVigil(['audit', 'prove', 'a-999'], dir);
    expect(missing.code).toBe(EXIT_CODES.AUDIT_ENTRY_NOT_FOUND);

    // Someone with the database file rewrites a decision.
    const db = new Database(join(dir, 'vigil.sqlite'));
    for (const { name } of db.prepare("SELECT name FROM sqlite_master WHERE type = 'trigger'").all() as { name: string }[]) db.exec(`DROP TRIGGER ${name}`);
    const index = Number(auditId.slice(2));
    const row = db.prepare('SELECT body FROM audit_entries WHERE idx = ?').get(index) as { body: string };
    db.prepare('UPDATE audit_entries SET body = ? WHERE idx = ?').run(
      row.body.replace(/"decision":"(positive|negative|refer)"/, '"decision":"negative"').replace(/"probability":[0-9.e-]+/, '"probability":0.01'),
      index,
    );
    db.close();

    const tampered = await runVigil(['audit', 'verify'], dir);
    expect(tampered.code).toBe(EXIT_CODES.AUDIT_VERIFY_FAILED);
    expect(tampered.stdout).toContain(`FAILED at entry ${auditId}`);
  });
});

describe('vigil model inspect', () => {
  const copyBundle = (name: string): string => {
    const dir = join(work, name);
    mkdirSync(dir);
    for (const f of ['vigil-model.json', 'model.onnx']) copyFileSync(join(DEMO_MODEL_DIR, f), join(dir, f));
    return dir;
  };

  it('shows the intended use and verifies the hash', async () => {
    const run = await runVigil(['model', 'inspect', DEMO_MODEL_DIR], dataDir());
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('(verified)');
    expect(run.stdout).toContain('Not for:');
    expect(run.stdout).toContain('modalities CR, DX');
    expect(run.stdout).toContain('patient ages: 1-5 years');
    expect(run.stdout).toContain('when a restricted value is unknown: modality warn, body part warn, view warn, patient age reject');
    expect(run.stdout).toContain('Reference distribution: 524 images of MedMNIST val split');
  });

  it('refuses an age range whose min is above its max, or outside 0-130', async () => {
    const dir = copyBundle('bad-age-range');
    const manifest = JSON.parse(readFileSync(join(dir, 'vigil-model.json'), 'utf8')) as { intendedUse: Record<string, unknown> };
    manifest.intendedUse.patientAgeYears = { min: 6, max: 5 };
    writeFileSync(join(dir, 'vigil-model.json'), JSON.stringify(manifest));
    const run = await runVigil(['model', 'inspect', dir], dataDir());
    expect(run.code).toBe(EXIT_CODES.MODEL_MANIFEST_INVALID);
    expect(run.stderr).toContain('intendedUse.patientAgeYears.min: min must be <= max');
    manifest.intendedUse.patientAgeYears = { min: 0, max: 131 };
    writeFileSync(join(dir, 'vigil-model.json'), JSON.stringify(manifest));
    expect((await runVigil(['model', 'inspect', dir], dataDir())).stderr).toContain('intendedUse.patientAgeYears.max');
  });

  it('refuses a model file whose hash does not match the manifest', async () => {
    const dir = copyBundle('tampered-model');
    const bytes = readFileSync(join(dir, 'model.onnx'));
    bytes[bytes.length - 1] = (bytes[bytes.length - 1] as number) ^ 0xff;
    writeFileSync(join(dir, 'model.onnx'), bytes);
    const run = await runVigil(['model', 'inspect', dir, '--json'], dataDir());
    expect(run.code).toBe(EXIT_CODES.MODEL_HASH_MISMATCH);
    expect(JSON.parse(run.stdout)).toEqual({ error: { code: 'MODEL_HASH_MISMATCH', message: expect.any(String) } });
  });

  it('names the wrong field of an invalid manifest', async () => {
    const dir = copyBundle('bad-manifest');
    const manifest = JSON.parse(readFileSync(join(dir, 'vigil-model.json'), 'utf8')) as {
      decisionPolicy: { pneumonia: { threshold: number } };
      input: Record<string, unknown>;
    };
    manifest.decisionPolicy.pneumonia.threshold = 1.5;
    delete manifest.input.dtype;
    writeFileSync(join(dir, 'vigil-model.json'), JSON.stringify(manifest));
    const run = await runVigil(['model', 'inspect', dir], dataDir());
    expect(run.code).toBe(EXIT_CODES.MODEL_MANIFEST_INVALID);
    expect(run.stderr).toContain('decisionPolicy.pneumonia.threshold');
    expect(run.stderr).toContain('input.dtype');
  });

  it('refuses a model whose input does not match its manifest, before judging anything', async () => {
    const dir = copyBundle('wrong-input');
    const manifest = JSON.parse(readFileSync(join(dir, 'vigil-model.json'), 'utf8')) as { input: { name: string } };
    manifest.input.name = 'pixels';
    writeFileSync(join(dir, 'vigil-model.json'), JSON.stringify(manifest));
    const inputs = join(work, 'wrong-input-images');
    mkdirSync(inputs);
    writeFileSync(join(inputs, 'a.png'), await texturedGreyPng(4));
    const run = await runVigil(['predict', inputs, '--model', dir], dataDir());
    expect(run.code).toBe(EXIT_CODES.MODEL_INPUT_SHAPE_MISMATCH);
    expect(run.stderr).toContain('MODEL_INPUT_SHAPE_MISMATCH');
  });
});
