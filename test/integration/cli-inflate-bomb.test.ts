/**
 * `vigil predict` and `vigil deid` on a decompression bomb (a Deflated Explicit VR Little Endian file whose
 * 64 MiB of zeros deflate to about 65 KB), with VIGIL_MAX_INPUT_BYTES at 8 MiB to keep the test small: the
 * file gets its own coded error line and the others go on (exit 3). Before, both commands inflated it
 * whole, whatever its size, synchronously, and predict judged it.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SYNTHETIC_IDENTIFIERS, buildPart10, deflatedBomb, el, imageDataset, sampleBytes } from '../../src/adapters/dicom-dcmjs/internal/test-builders.js';
import { readPart10 } from '../../src/adapters/dimse-dcmjs/internal/test-raw-scu.js';
import type { DeidResult } from '../../src/workflows/deidentify-files.js';
import type { PredictResult } from '../../src/workflows/predict-images.js';
import { jsonLines, runVigil } from '../helpers/run-vigil.js';

const DEFLATED = '1.2.840.10008.1.2.1.99';
const LIMITS = { VIGIL_MAX_INPUT_BYTES: String(8 * 1024 ** 2) };

let work: string;
let inputs: string;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'vigil-cli-bomb-'));
  inputs = join(work, 'in');
  mkdirSync(inputs);
  writeFileSync(join(inputs, 'a-bomb.dcm'), deflatedBomb(64 * 1024 ** 2));
  const pixels = Array.from({ length: 64 * 64 }, (_, i) => (i * 37) % 4096);
  const genuine = imageDataset({
    rows: 64,
    columns: 64,
    bitsAllocated: 16,
    bitsStored: 12,
    modality: 'CR',
    pixelData: el(0x7fe00010, 'OW', sampleBytes(pixels, 16)),
    extra: [el(0x00180015, 'CS', 'CHEST'), el(0x00280301, 'CS', 'NO')],
  })
    // A CR image, not the builder's Secondary Capture (which `vigil deid` quarantines for burned-in text).
    .map((e) => (e.tag === 0x00080016 ? el(0x00080016, 'UI', '1.2.840.10008.5.1.4.1.1.1') : e))
    .map((e) => (e.tag === 0x00080018 ? el(0x00080018, 'UI', `${SYNTHETIC_IDENTIFIERS.sopInstanceUid}.9`) : e));
  writeFileSync(join(inputs, 'b-genuine.dcm'), buildPart10(genuine, { transferSyntaxUid: DEFLATED }));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('a decompression bomb on the command line', () => {
  it('vigil predict: DICOM_INFLATE_LIMIT_EXCEEDED for the bomb, the genuine Deflated file judged, exit 3', async () => {
    const run = await runVigil(['predict', inputs, '--json'], join(work, 'data-predict'), LIMITS);
    expect(run.code).toBe(3);
    const lines = jsonLines<PredictResult>(run.stdout);
    expect(lines.map((l) => [l.input.file.split('/').at(-1), l.status === 'error' ? l.error?.code : 'judged'])).toEqual([
      ['a-bomb.dcm', 'DICOM_INFLATE_LIMIT_EXCEEDED'],
      ['b-genuine.dcm', 'judged'],
    ]);
    expect(lines[0]?.auditId, 'the refusal is audited').toMatch(/^a-\d+$/);
  });

  it('vigil deid: DICOM_INFLATE_LIMIT_EXCEEDED for the bomb and nothing written of it, the genuine file still Deflated, exit 3', async () => {
    const out = join(work, 'deid-out');
    const run = await runVigil(['deid', inputs, '--out', out, '--json', '--secret-file', join(work, 'secret')], join(work, 'data-deid'), LIMITS);
    expect(run.code).toBe(3);
    const lines = jsonLines<DeidResult>(run.stdout);
    expect(lines.map((l) => [l.input.split('/').at(-1), l.status, l.error?.code ?? null])).toEqual([
      ['a-bomb.dcm', 'error', 'DICOM_INFLATE_LIMIT_EXCEEDED'],
      ['b-genuine.dcm', 'deidentified', null],
    ]);
    const written = readdirSync(out, { recursive: true, encoding: 'utf8' }).filter((name) => name.endsWith('.dcm'));
    expect(written).toHaveLength(1);
    expect(readPart10(readFileSync(join(out, written[0] as string))).transferSyntaxUid, 'vigil deid keeps the transfer syntax').toBe(DEFLATED);
  });
});
