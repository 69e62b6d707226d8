/**
 * `vigil deid` end to end through the composition root: one line per input, outputs only under --out,
 * quarantine reason files, deterministic pseudonyms across runs, usage errors; and the planted-PHI test:
 * the fake names, IDs, dates and institutions in the samples appear nowhere in the output bytes outside
 * Pixel Data, nor in any log line, error or result field.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { parseForDeid, writeDataset } from '../../src/adapters/dicom-dcmjs/internal/deid-codec.js';
import { buildPart10, el, imageDataset, sampleBytes } from '../../src/adapters/dicom-dcmjs/internal/test-builders.js';
import { DEFAULT_INFLATE_LIMITS } from '../../src/adapters/dicom-dcmjs/internal/part10.js';
import { DEID_TAG, textOf } from '../../src/domain/deidentification/deid-dataset.js';
import type { DeidResult } from '../../src/workflows/deidentify-files.js';
import { jsonLines, runVigil } from '../helpers/run-vigil.js';
import { DICOM_SAMPLES, REPO_ROOT, hasDicomSamples } from '../helpers/sample-data.js';

const run = promisify(execFile);
const work = mkdtempSync(join(tmpdir(), 'vigil-deid-cli-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const samples = hasDicomSamples ? readdirSync(DICOM_SAMPLES).filter((n) => n.endsWith('.dcm')) : [];
const inputs = samples.map((n) => join(DICOM_SAMPLES, n));
const INGEST_OPTIONS = ['--option', 'retain-device-identity', '--option', 'retain-longitudinal-modified-dates'];

/** Fake PHI planted in the samples (pydicom/deid-data and the NEMA files), as listed in their headers. */
const PLANTED = [
  'SIMPSON',
  'HOMER',
  '00007041776',
  'HIBBARD',
  'RIVERIA',
  'SPRINGFIELD',
  'Evergreen',
  '999887722',
  'M1212121',
  'CCHS',
  'ZZZDOWNTIME',
  '40404040404',
  'CLEVELAND',
  'KILLEEN',
  '2020202020202',
  '104111149',
  '120907058',
  'PATIENTFIVE',
  '20200704',
  '19850306',
  '19510829',
];

/** Identifiers each input's own header holds (names, IDs, accession, institution, birth date). */
async function headerIdentifiers(file: string): Promise<string[]> {
  const { dataset } = await parseForDeid(new Uint8Array(readFileSync(file)), DEFAULT_INFLATE_LIMITS);
  const tags = [0x00100010, 0x00100020, 0x00100030, 0x00080050, 0x00080080, 0x00080090, 0x00081050, 0x00081070, 0x00101000, 0x00101001];
  return (
    tags
      .map((t) => textOf(dataset, t) ?? '')
      .flatMap((v) => v.split(/[\^\\ ]+/))
      .filter((v) => v.length >= 5 && !/^V[0-9A-F]+$/.test(v))
      // A word an institution shares with the device maker (e.g. 'Philips') is kept under Retain Device Identity.
      .filter((v) => !(textOf(dataset, 0x00080070) ?? '').toUpperCase().includes(v.toUpperCase()))
  );
}

/** Every byte of a Part 10 file except the Pixel Data value. */
async function bytesOutsidePixelData(file: string): Promise<string> {
  const parsed = await parseForDeid(new Uint8Array(readFileSync(file)), DEFAULT_INFLATE_LIMITS);
  const meta = writeDataset(parsed.meta, { explicitVR: true, littleEndian: true });
  const body = writeDataset(
    parsed.dataset.filter((e) => e.tag !== DEID_TAG.PixelData),
    parsed.syntax,
  );
  return Buffer.from(meta).toString('latin1') + Buffer.from(body).toString('latin1');
}

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? walk(p) : [p];
  });
}

/** Rules that release the PHI samples by blanking the whole image (for the planted-PHI test only). */
const RULES = {
  rules: [
    {
      name: 'fake-phi CT SC',
      match: { manufacturerModelName: 'SOMATOM Definition AS+', rows: 456, columns: 510 },
      rectangles: [{ x: 0, y: 0, width: 510, height: 456 }],
    },
    { name: 'fake-phi US grey', match: { modality: 'US', manufacturerModelName: 'EPIQ 5G' }, rectangles: [{ x: 0, y: 0, width: 1024, height: 768 }] },
    { name: 'fake-phi US RGB', match: { modality: 'US', manufacturerModelName: 'S2000' }, rectangles: [{ x: 0, y: 0, width: 1024, height: 768 }] },
  ],
};

describe.skipIf(!hasDicomSamples)(`vigil deid on the samples${hasDicomSamples ? '' : ' (skipped: no ../shared/data/dicom-samples)'}`, () => {
  it('writes one result per input, outputs only under --out, a reason file per quarantined input; one instance in six syntaxes is released once', async () => {
    const out = join(work, 'out1');
    const run = await runVigil(['deid', ...inputs, '--out', out, '--json', '--secret-file', join(work, 'secret'), ...INGEST_OPTIONS], join(work, 'data1'));
    // mr_small_* are one instance (one SOP Instance UID) in six transfer syntaxes: the first (sorted) is
    // released, the other five are conflicts, not silent overwrites of one another; so the exit code is 3.
    expect(run.code, run.stderr).toBe(3);
    const lines = jsonLines<DeidResult>(run.stdout);
    expect(lines.map((l) => l.input)).toEqual(inputs);
    const mrSmall = (l: DeidResult): boolean => /mr_small_/.test(l.input);
    expect(lines.filter((l) => l.status === 'conflict').map((l) => l.input.split('/').pop())).toEqual([
      'mr_small_explicitLE.dcm',
      'mr_small_implicitLE.dcm',
      'mr_small_j2k_lossless.dcm',
      'mr_small_jpegls.dcm',
      'mr_small_rle.dcm',
    ]);
    const firstMr = lines.find((l) => mrSmall(l));
    expect(firstMr?.status).toBe('deidentified');
    for (const l of lines) {
      expect(Object.keys(l.actions).sort()).toEqual(['emptied', 'kept', 'removed', 'replaced', 'shifted']);
      if (l.status === 'conflict') {
        expect(l.output).toBeNull();
        expect(l.existing).toBe(firstMr?.output);
        expect(l.earlierInput).toBe(firstMr?.input);
        expect(l.error?.code).toBe('DEID_OUTPUT_CONFLICT');
        continue;
      }
      expect(['deidentified', 'quarantined']).toContain(l.status);
      if (l.status === 'quarantined') {
        expect(l.output).toBeNull();
        expect(l.reasons.length).toBeGreaterThan(0);
      } else expect(relative(out, l.output ?? '/')).toMatch(/^2\.25\.\d+\/2\.25\.\d+\.dcm$/);
    }
    const files = walk(out).map((f) => relative(out, f));
    const quarantined = lines.filter((l) => l.status === 'quarantined').length;
    expect(quarantined).toBeGreaterThan(0);
    expect(files.filter((f) => f.startsWith('quarantine/')).length).toBe(quarantined);
    expect(files.every((f) => /^(quarantine\/2\.25\.\d+-[0-9a-f]{16}\.reason\.json|2\.25\.\d+\/2\.25\.\d+\.dcm)$/.test(f))).toBe(true);
    // Every released line names its own file: as many files as lines that say so.
    const released = lines.filter((l) => l.status === 'deidentified').map((l) => l.output);
    expect(new Set(released).size).toBe(released.length);
    expect(files.filter((f) => f.endsWith('.dcm')).length).toBe(released.length);

    // A second run with the same secret gives the same names and the same bytes.
    const again = await runVigil(
      ['deid', ...inputs, '--out', join(work, 'out2'), '--json', '--secret-file', join(work, 'secret'), ...INGEST_OPTIONS],
      join(work, 'data1'),
    );
    const second = jsonLines<DeidResult>(again.stdout);
    lines.forEach((l, i) => {
      const other = second[i];
      expect(other?.status).toBe(l.status);
      if (l.output !== null && other?.output) expect(readFileSync(other.output).equals(readFileSync(l.output))).toBe(true);
    });
  });

  it('planted PHI appears nowhere in the released bytes outside Pixel Data, the logs, errors or result fields', async () => {
    const out = join(work, 'out-phi');
    const rules = join(work, 'rules.json');
    writeFileSync(rules, JSON.stringify(RULES));
    const run = await runVigil(
      [
        'deid',
        ...inputs,
        '--out',
        out,
        '--json',
        '--secret-file',
        join(work, 'secret'),
        ...INGEST_OPTIONS,
        '--option',
        'clean-pixel-data',
        '--pixel-rules',
        rules,
      ],
      join(work, 'data2'),
    );
    // Exit 3 only for the five mr_small_* conflicts (one instance in six syntaxes); nothing failed.
    expect(run.code, run.stderr).toBe(3);
    const lines = jsonLines<DeidResult>(run.stdout);
    expect(lines.filter((l) => l.status === 'conflict').length).toBe(5);
    expect(lines.filter((l) => l.status === 'error')).toEqual([]);
    const byName = new Map(lines.map((l) => [l.input.split('/').pop() ?? '', l]));
    for (const name of ['sc_fake_phi_simpson.dcm', 'us_phi_burnedin_yes.dcm', 'us_rgb_phi_burnedin.dcm']) {
      expect(byName.get(name)?.status, name).toBe('deidentified');
      expect(byName.get(name)?.reasons).toEqual(['pixels-cleaned']);
    }
    const forbidden = new Set([...PLANTED, ...(await Promise.all(inputs.map(headerIdentifiers))).flat()]);
    const outputs = walk(out);
    const released = await Promise.all(outputs.filter((f) => f.endsWith('.dcm')).map(bytesOutsidePixelData));
    const reasonFiles = outputs.filter((f) => f.endsWith('.json')).map((f) => readFileSync(f, 'utf8'));
    const resultFields = lines.map((l) => JSON.stringify({ ...l, input: null }));
    for (const value of forbidden) {
      for (const text of [...released, ...reasonFiles, ...resultFields, run.logs, run.stderr]) expect(text.includes(value), value).toBe(false);
    }
    // Logs never carry a path either.
    expect(run.logs.includes('dicom-samples')).toBe(false);
  });

  it('at ingest, predict keys a study exactly as deid names it (same secret)', async () => {
    const file = inputs.find((f) => f.endsWith('ct_small_explicitLE.dcm'));
    if (file === undefined) return;
    const secret = join(work, 'secret');
    const deid = jsonLines<DeidResult>(
      (await runVigil(['deid', file, '--out', join(work, 'o-ingest'), '--json', '--secret-file', secret], join(work, 'data4'))).stdout,
    );
    const studyUid = relative(join(work, 'o-ingest'), deid[0]?.output ?? '').split('/')[0] ?? '';
    const predict = await runVigil(['predict', file, '--json'], join(work, 'data4'), { VIGIL_SECRET_FILE: secret });
    const key = jsonLines<{ studyKey: string }>(predict.stdout)[0]?.studyKey ?? '';
    expect(key).toMatch(/^st-[0-9a-f]{32}$/);
    expect(`2.25.${BigInt('0x' + key.slice(3)).toString(10)}`).toBe(studyUid);
  });

  it('reports a non-DICOM or corrupt file as an error line, still processes the others, and exits 3', async () => {
    const dir = join(work, 'mixed');
    const sample = inputs.find((f) => f.endsWith('mr_small_explicitLE.dcm'));
    if (sample === undefined) return;
    mkdirSync(dir);
    writeFileSync(join(dir, 'a-notes.txt'), 'not dicom');
    const bytes = readFileSync(sample);
    writeFileSync(join(dir, 'b-truncated.dcm'), bytes.subarray(0, bytes.length - 3000));
    copyFileSync(sample, join(dir, 'c-good.dcm'));
    const run = await runVigil(['deid', dir, '--out', join(work, 'o-mixed'), '--json', '--secret-file', join(work, 'secret')], join(work, 'data5'));
    expect(run.code).toBe(3);
    const lines = jsonLines<DeidResult>(run.stdout);
    expect(lines.map((l) => [l.status, l.error?.code ?? null])).toEqual([
      ['error', 'INPUT_FORMAT_UNKNOWN'],
      ['error', 'DICOM_TRUNCATED'],
      ['deidentified', null],
    ]);
    expect(walk(join(work, 'o-mixed')).length).toBe(1);
  });

  it('refuses a missing --out and an unknown option with coded errors', async () => {
    const missing = await runVigil(['deid', inputs[0] ?? ''], join(work, 'data3'));
    expect(missing.code).toBe(2);
    const unknown = await runVigil(
      ['deid', inputs[0] ?? '', '--out', join(work, 'o3'), '--option', 'keep-everything', '--secret-file', join(work, 'secret')],
      join(work, 'data3'),
    );
    expect(unknown.code).toBe(16);
    expect(unknown.stderr).toContain('DEID_PROFILE_INVALID');
    const both = await runVigil(
      [
        'deid',
        inputs[0] ?? '',
        '--out',
        join(work, 'o3'),
        '--option',
        'retain-longitudinal-full-dates',
        '--option',
        'retain-longitudinal-modified-dates',
        '--secret-file',
        join(work, 'secret'),
      ],
      join(work, 'data3'),
    );
    expect(both.code).toBe(16);
  });
});

/** One sample copied (or linked by content) under a new name, as a site's export folder holds them. */
function place(dir: string, name: string, sample: string): string {
  const target = join(dir, name);
  mkdirSync(join(target, '..'), { recursive: true });
  copyFileSync(join(DICOM_SAMPLES, sample), target);
  return target;
}

const hasDcmmkdir = existsSync('/usr/bin/dcmmkdir');
const hasPydicom = await run('/usr/bin/python3', ['-c', 'import pydicom.fileset']).then(
  () => true,
  () => false,
);

describe.skipIf(!hasDicomSamples)(
  `vigil deid never writes two outputs to one path${hasDicomSamples ? '' : ' (skipped: no ../shared/data/dicom-samples)'}`,
  () => {
    const secret = join(work, 'secret-collisions');
    /** Each input de-identified alone into a folder of its own: the bytes its line may claim. */
    async function aloneBytes(input: string, tag: string): Promise<Buffer> {
      const lines = jsonLines<DeidResult>(
        (await runVigil(['deid', input, '--out', join(work, `alone-${tag}`), '--json', '--secret-file', secret], join(work, 'd-alone'))).stdout,
      );
      return readFileSync(lines[0]?.output ?? '');
    }

    it('inputs sharing a SOP Instance UID: one file, identical copies are duplicates, different ones conflicts; exit 3; every line true', async () => {
      const dir = join(work, 'export');
      // A site export as in the field report: the same CT three times, one MR instance in several syntaxes
      // and once more as an identical copy. 9 inputs, 2 instances.
      const inputs = [
        place(dir, 'a/ct.dcm', 'ct_small_explicitLE.dcm'),
        place(dir, 'b/ct.dcm', 'ct_small_explicitLE.dcm'),
        place(dir, 'c/ct.dcm', 'ct_small_explicitLE.dcm'),
        place(dir, 'm/1-explicit.dcm', 'mr_small_explicitLE.dcm'),
        place(dir, 'm/2-explicit-copy.dcm', 'mr_small_explicitLE.dcm'),
        place(dir, 'm/3-implicit.dcm', 'mr_small_implicitLE.dcm'),
        place(dir, 'm/4-bigendian.dcm', 'mr_small_bigendian.dcm'),
        place(dir, 'm/5-rle.dcm', 'mr_small_rle.dcm'),
        place(dir, 'm/6-jpegls.dcm', 'mr_small_jpegls.dcm'),
      ];
      const out = join(work, 'o-collide');
      const result = await runVigil(['deid', dir, '--out', out, '--json', '--secret-file', secret], join(work, 'd-collide'));
      expect(result.code).toBe(3);
      const lines = jsonLines<DeidResult>(result.stdout);
      expect(lines.map((l) => l.input)).toEqual(inputs);
      expect(lines.map((l) => l.status)).toEqual([
        'deidentified',
        'duplicate',
        'duplicate',
        'deidentified',
        'duplicate',
        'conflict',
        'conflict',
        'conflict',
        'conflict',
      ]);
      const [ct, , , mr] = lines;
      for (const l of lines.slice(1, 3)) expect([l.output, l.existing, l.earlierInput]).toEqual([ct?.output, ct?.output, ct?.input]);
      expect([lines[4]?.output, lines[4]?.earlierInput]).toEqual([mr?.output, mr?.input]);
      for (const l of lines.slice(5)) {
        expect([l.output, l.existing, l.earlierInput, l.error?.code]).toEqual([null, mr?.output, mr?.input, 'DEID_OUTPUT_CONFLICT']);
      }
      // Two files, and what each line says is on disk is: the bytes of that very input, de-identified alone.
      expect(walk(out).length).toBe(2);
      for (const [i, l] of lines.entries()) {
        const alone = await aloneBytes(l.input, String(i));
        if (l.status === 'conflict') expect(readFileSync(l.existing ?? '').equals(alone)).toBe(false);
        else expect(readFileSync(l.output ?? '').equals(alone), l.input).toBe(true);
      }

      // The human lines and the summary say the same.
      const text = await runVigil(['deid', dir, '--out', join(work, 'o-collide-text'), '--secret-file', secret], join(work, 'd-collide'));
      expect(text.stderr).toContain('2 de-identified, 3 duplicate(s), 4 conflict(s), 0 quarantined, 0 failed');
      expect(text.stdout).toMatch(/^duplicate {5}\S+b\/ct\.dcm = \S+ \(the same de-identified bytes as \S+a\/ct\.dcm; nothing new written\)$/m);
      expect(text.stdout).toMatch(/^conflict {6}\S+3-implicit\.dcm: DEID_OUTPUT_CONFLICT: .*\(kept: \S+, from \S+1-explicit\.dcm\)$/m);
    });

    it('a second run into the same folder overwrites nothing: identical files are duplicates already there; only duplicates exit 0', async () => {
      const dir = join(work, 'copies');
      const inputs = [place(dir, 'x/ct.dcm', 'ct_small_explicitLE.dcm'), place(dir, 'y/ct.dcm', 'ct_small_explicitLE.dcm')];
      const out = join(work, 'o-rerun');
      const first = await runVigil(['deid', dir, '--out', out, '--json', '--secret-file', secret], join(work, 'd-rerun'));
      expect(first.code).toBe(0);
      expect(jsonLines<DeidResult>(first.stdout).map((l) => l.status)).toEqual(['deidentified', 'duplicate']);
      const [file] = walk(out);
      const before = statSync(file ?? '');
      const again = await runVigil(['deid', ...inputs, '--out', out, '--json', '--secret-file', secret], join(work, 'd-rerun'));
      expect(again.code).toBe(0);
      const lines = jsonLines<DeidResult>(again.stdout);
      expect(lines.map((l) => [l.status, l.output, l.earlierInput])).toEqual([
        ['duplicate', file, null],
        ['duplicate', file, null],
      ]);
      // The file is the one the first run wrote (same inode, not replaced).
      expect(statSync(file ?? '').ino).toBe(before.ino);

      // Another secret gives other pseudonyms, so other names; the same secret with other options gives other
      // bytes under the same name: a conflict, and the first run's file is kept.
      const other = await runVigil(
        ['deid', inputs[0] ?? '', '--out', out, '--json', '--secret-file', secret, '--option', 'retain-device-identity'],
        join(work, 'd-rerun'),
      );
      expect(other.code).toBe(3);
      expect(jsonLines<DeidResult>(other.stdout)[0]).toMatchObject({ status: 'conflict', output: null, existing: file, earlierInput: null });
      expect(statSync(file ?? '').ino).toBe(before.ino);
    });

    it('a second object with a released SOP Instance UID in another study is a conflict, not a second copy of the instance', async () => {
      const dir = join(work, 'two-studies');
      mkdirSync(dir);
      const ct = (study: string): Uint8Array =>
        buildPart10(
          imageDataset({ rows: 2, columns: 2, bitsAllocated: 16, modality: 'CT', pixelData: el(0x7fe00010, 'OW', sampleBytes([1, 2, 3, 4], 16)) }).map((e) =>
            e.tag === 0x0020000d ? el(e.tag, 'UI', study) : e.tag === 0x00080016 ? el(e.tag, 'UI', '1.2.840.10008.5.1.4.1.1.2') : e,
          ),
          { transferSyntaxUid: '1.2.840.10008.1.2.1' },
        );
      writeFileSync(join(dir, 'a.dcm'), ct('1.2.826.0.1.3680043.10.543.1'));
      writeFileSync(join(dir, 'b.dcm'), ct('1.2.826.0.1.3680043.10.543.2'));
      const out = join(work, 'o-two-studies');
      const result = await runVigil(['deid', dir, '--out', out, '--json', '--secret-file', secret], join(work, 'd-two-studies'));
      expect(result.code).toBe(3);
      const [a, b] = jsonLines<DeidResult>(result.stdout);
      expect(a?.status).toBe('deidentified');
      expect(b).toMatchObject({ status: 'conflict', output: null, existing: a?.output, earlierInput: a?.input, error: { code: 'DEID_OUTPUT_CONFLICT' } });
      expect(walk(out)).toEqual([a?.output]);
    });

    it('two runs into one folder at once: exactly one writes each file, and every line is true of the disk', async () => {
      const dir = join(work, 'race');
      const inputs = [
        place(dir, '1.dcm', 'mr_small_explicitLE.dcm'),
        place(dir, '2.dcm', 'mr_small_implicitLE.dcm'),
        place(dir, '3.dcm', 'mr_small_bigendian.dcm'),
        place(dir, '4.dcm', 'ct_small_explicitLE.dcm'),
      ];
      const out = join(work, 'o-race');
      // Opposite orders, so that the runs race for the MR instance with different bytes.
      const [a, b] = await Promise.all([
        runVigil(['deid', ...inputs, '--out', out, '--json', '--secret-file', secret], join(work, 'd-race-a')),
        runVigil(['deid', ...[...inputs].reverse(), '--out', out, '--json', '--secret-file', secret], join(work, 'd-race-b')),
      ]);
      const lines = [...jsonLines<DeidResult>(a.stdout), ...jsonLines<DeidResult>(b.stdout)];
      expect(lines).toHaveLength(8);
      const files = walk(out);
      expect(files).toHaveLength(2);
      for (const file of files) {
        const writers = lines.filter((l) => l.status === 'deidentified' && l.output === file);
        expect(writers, file).toHaveLength(1);
        const writer = writers[0];
        expect(readFileSync(file).equals(await aloneBytes(writer?.input ?? '', `race-${inputs.indexOf(writer?.input ?? '')}`))).toBe(true);
      }
      for (const l of lines) {
        expect(['deidentified', 'duplicate', 'conflict']).toContain(l.status);
        const alone = await aloneBytes(l.input, `race-${inputs.indexOf(l.input)}`);
        if (l.status === 'conflict') expect(readFileSync(l.existing ?? '').equals(alone)).toBe(false);
        else expect(readFileSync(l.output ?? '').equals(alone)).toBe(true);
      }
      expect(a.code === 3 || b.code === 3).toBe(true);
    });

    it.skipIf(!hasDcmmkdir)(
      `a DICOMDIR is refused with DEID_DICOMDIR_UNSUPPORTED, nothing carries its Patient IDs, and the documented rebuild works${hasDcmmkdir ? '' : ' (skipped: no dcmmkdir; apt-get install dcmtk)'}`,
      async () => {
        // A CD as media writers make it: folders named after each Patient ID, a DICOMDIR indexing them.
        const media = join(work, 'cd');
        const ids: string[] = [];
        for (const [i, sample] of ['ct_small_explicitLE.dcm', 'mr_small_explicitLE.dcm'].entries()) {
          const patientId =
            textOf((await parseForDeid(new Uint8Array(readFileSync(join(DICOM_SAMPLES, sample))), DEFAULT_INFLATE_LIMITS)).dataset, 0x00100020) ?? '';
          const folder =
            patientId
              .toUpperCase()
              .replace(/[^A-Z0-9_]/g, '')
              .slice(0, 8) || `P${i}`;
          ids.push(patientId, folder);
          place(media, `${folder}/IM${i + 1}`, sample);
        }
        await run('/usr/bin/dcmmkdir', ['+r', '+I', '-Nxc', '+id', media, '+D', join(media, 'DICOMDIR')], { cwd: media });
        expect(readFileSync(join(media, 'DICOMDIR')).toString('latin1')).toContain(ids[1]);

        const root = join(work, 'cd-out');
        mkdirSync(root);
        const result = await runVigil(['deid', media, '--out', join(root, 'deid'), '--json', '--secret-file', secret], join(work, 'd-cd'));
        expect(result.code).toBe(3);
        const lines = jsonLines<DeidResult>(result.stdout);
        const dicomdir = lines.find((l) => l.input.endsWith('DICOMDIR'));
        expect(dicomdir).toMatchObject({ status: 'error', output: null, error: { code: 'DEID_DICOMDIR_UNSUPPORTED' } });
        expect(lines.filter((l) => l !== dicomdir).map((l) => l.status)).toEqual(['deidentified', 'deidentified']);
        const released = walk(join(root, 'deid'));
        expect(released).toHaveLength(2);
        for (const file of released) {
          const text = await bytesOutsidePixelData(file);
          for (const id of ids) expect(text.includes(id), id).toBe(false);
        }
        expect(result.logs.includes(ids[1] ?? '?')).toBe(false);

        // docs/deidentification.md's recipe, run as written, makes a DICOMDIR that pydicom reads.
        const docs = readFileSync(join(REPO_ROOT, 'docs', 'deidentification.md'), 'utf8');
        const recipe = /```sh\n(# Rebuild a DICOMDIR[^]*?)```/.exec(docs)?.[1];
        expect(recipe).toBeDefined();
        await run('/bin/sh', ['-ec', recipe ?? 'false'], { cwd: root });
        const rebuilt = readFileSync(join(root, 'deid-media', 'DICOMDIR')).toString('latin1');
        for (const id of ids) expect(rebuilt.includes(id), id).toBe(false);
        if (!hasPydicom) return; // the rest needs /usr/bin/python3 with pydicom (apt-get install python3-pydicom)
        // Every record's Referenced File ID opens the released file it names (offsets and file IDs valid).
        const script =
          'import sys\nfrom pydicom import dcmread\nfrom pydicom.fileset import FileSet\nfor i in FileSet(dcmread(sys.argv[1])):\n    print(i.load().SOPInstanceUID)';
        const { stdout } = await run('/usr/bin/python3', ['-c', script, join(root, 'deid-media', 'DICOMDIR')]);
        expect(stdout.trim().split('\n').sort()).toEqual(
          released
            .map((f) =>
              f
                .split('/')
                .pop()
                ?.replace(/\.dcm$/, ''),
            )
            .sort(),
        );
      },
    );
  },
);
