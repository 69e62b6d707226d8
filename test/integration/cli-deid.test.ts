/**
 * `vigil deid` end to end through the composition root: one line per input, outputs only under --out,
 * quarantine reason files, deterministic pseudonyms across runs, usage errors; and the planted-PHI test:
 * the fake names, IDs, dates and institutions in the samples appear nowhere in the output bytes outside
 * Pixel Data, nor in any log line, error or result field.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseForDeid, writeDataset } from '../../src/adapters/dicom-dcmjs/internal/deid-codec.js';
import { DEFAULT_INFLATE_LIMITS } from '../../src/adapters/dicom-dcmjs/internal/part10.js';
import { DEID_TAG, textOf } from '../../src/domain/deidentification/deid-dataset.js';
import type { DeidResult } from '../../src/workflows/deidentify-files.js';
import { jsonLines, runVigil } from '../helpers/run-vigil.js';
import { DICOM_SAMPLES, hasDicomSamples } from '../helpers/sample-data.js';

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
  it('writes one result per input, outputs only under --out, a reason file per quarantined input; exit 0', async () => {
    const out = join(work, 'out1');
    const run = await runVigil(['deid', ...inputs, '--out', out, '--json', '--secret-file', join(work, 'secret'), ...INGEST_OPTIONS], join(work, 'data1'));
    expect(run.code, run.stderr).toBe(0);
    const lines = jsonLines<DeidResult>(run.stdout);
    expect(lines.map((l) => l.input)).toEqual(inputs);
    for (const l of lines) {
      expect(['deidentified', 'quarantined']).toContain(l.status);
      expect(Object.keys(l.actions).sort()).toEqual(['emptied', 'kept', 'removed', 'replaced', 'shifted']);
      if (l.status === 'quarantined') {
        expect(l.output).toBeNull();
        expect(l.reasons.length).toBeGreaterThan(0);
      } else expect(relative(out, l.output ?? '/')).toMatch(/^2\.25\.\d+\/2\.25\.\d+\.dcm$/);
    }
    const files = walk(out).map((f) => relative(out, f));
    const quarantined = lines.filter((l) => l.status === 'quarantined').length;
    expect(files.filter((f) => f.startsWith('quarantine/') && f.endsWith('.reason.json')).length).toBeGreaterThan(0);
    expect(files.filter((f) => f.startsWith('quarantine/')).every((f) => f.endsWith('.reason.json'))).toBe(true);
    expect(files.every((f) => /^(quarantine\/2\.25\.\d+\.reason\.json|2\.25\.\d+\/2\.25\.\d+\.dcm)$/.test(f))).toBe(true);
    expect(quarantined).toBeGreaterThan(0);
    // Same instance in several syntaxes (mr_small_*) lands on one pseudonymous name: count distinct outputs.
    const released = new Set(lines.filter((l) => l.status === 'deidentified').map((l) => l.output));
    expect(files.filter((f) => f.endsWith('.dcm')).length).toBe(released.size);

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
    expect(run.code, run.stderr).toBe(0);
    const lines = jsonLines<DeidResult>(run.stdout);
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
