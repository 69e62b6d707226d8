/**
 * De-identification of every file in ../shared/data/dicom-samples: each comes out de-identified and valid or
 * is quarantined with a reason; outputs parse again (Vigil's reader, pydicom), introduce no new dciodvfy
 * errors, keep a correct meta group, and decode to the same pixels, unless a pixel rule applied, in which
 * case only the rectangles changed. Skipped, with the reason in the name, when a sample or tool is missing.
 */
import { createHmac } from 'node:crypto';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { PixelRule } from '../../domain/deidentification/assess-pixels.js';
import { DEID_TAG, textOf } from '../../domain/deidentification/deid-dataset.js';
import type { ProfileOption } from '../../domain/deidentification/profile-attribute.js';
import type { DeidFileOutcome } from '../../ports/dicom-deidentifier.js';
import { DcmjsDicomReader } from './dcmjs-dicom-reader.js';
import { ElementDeidentifier } from './element-deidentifier.js';
import { parseForDeid } from './internal/deid-codec.js';
import { DEFAULT_INFLATE_LIMITS } from './internal/part10.js';

const sampleDir = resolve(process.env['VIGIL_SAMPLE_DATA'] ?? resolve(import.meta.dirname, '../../../../shared/data'), 'dicom-samples');
const samples = existsSync(sampleDir) ? readdirSync(sampleDir).filter((n) => n.endsWith('.dcm')) : [];
const hasDciodvfy = spawnSync('dciodvfy', ['-help'], { encoding: 'utf8' }).error === undefined;
const hasPydicom = spawnSync('/usr/bin/python3', ['-c', 'import pydicom'], { encoding: 'utf8' }).status === 0;

const digest = (purpose: string, value: string): Uint8Array => createHmac('sha256', 'samples-test-secret').update(`${purpose}\0${value}`).digest();
const OPTIONS = new Set<ProfileOption>(['retain-device-identity', 'retain-longitudinal-modified-dates']);
const deidentifier = new ElementDeidentifier();
const reader = new DcmjsDicomReader();
const scratch = mkdtempSync(join(tmpdir(), 'vigil-deid-samples-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

async function run(bytes: Uint8Array, options: ReadonlySet<ProfileOption> = OPTIONS, pixelRules: readonly PixelRule[] = []): Promise<DeidFileOutcome> {
  return deidentifier.deidentify(bytes, { profile: { name: 'basic', options }, digest, pixelRules });
}

/** dciodvfy's "Error" lines, without the file-specific prefix. */
function dciodvfyErrors(file: string): Set<string> {
  const out = spawnSync('dciodvfy', [file], { encoding: 'utf8' });
  return new Set(
    `${out.stdout}\n${out.stderr}`
      .split('\n')
      .filter((l) => l.startsWith('Error'))
      .map((l) => l.trim()),
  );
}

describe.skipIf(samples.length === 0)(`every DICOM sample${samples.length === 0 ? ' (skipped: no ../shared/data/dicom-samples)' : ''}`, () => {
  it('derives the patient age at ingest (headers only) before the profile removes what it comes from', async () => {
    const ages: Record<string, number | undefined> = {};
    for (const name of samples) {
      const outcome = await deidentifier.deidentify(new Uint8Array(readFileSync(join(sampleDir, name))), {
        profile: { name: 'basic', options: OPTIONS },
        digest,
        pixelRules: [],
        headersOnly: true,
      });
      if (outcome.status !== 'deidentified') throw new Error(`${name} was not de-identified at ingest`);
      ages[name] = outcome.patientAgeYears;
      const parsed = await parseForDeid(outcome.bytes, DEFAULT_INFLATE_LIMITS);
      expect(textOf(parsed.dataset, 0x00101010), `${name}: Patient's Age removed`).toBeUndefined();
      expect(textOf(parsed.dataset, 0x00100030) ?? '', `${name}: Patient's Birth Date emptied`).toBe('');
    }
    // Patient's Age when the header has one (sc_fake_phi_simpson's unpadded 75Y contradicts its planted
    // birth date, and wins), else birth date and Study Date, else unknown.
    expect(ages).toEqual({
      'cr_chest_pa_j2k_lossy.dcm': 64, // born 1940-03-05, studied 2004-08-26
      'cr_leg_j2k_lossless.dcm': 25, // born 1979-04-08, studied 2004-08-26
      'ct_enhanced_2frame_jpegls_fragmented.dcm': 52,
      'ct_small_explicitLE.dcm': 0, // 000Y
      'deflated.dcm': undefined,
      'mr_brain_jpeg_lossless_p14.dcm': 33,
      'mr_small_bigendian.dcm': undefined,
      'mr_small_explicitLE.dcm': undefined,
      'mr_small_implicitLE.dcm': undefined,
      'mr_small_j2k_lossless.dcm': undefined,
      'mr_small_jpegls.dcm': undefined,
      'mr_small_rle.dcm': undefined,
      'nm_jpeg_extended_12bit.dcm': undefined,
      'sc_fake_phi_simpson.dcm': 75,
      'sc_rgb_htj2k.dcm': undefined,
      'sc_rgb_jpeg_baseline.dcm': 24,
      'us_multiframe30_jpeg_baseline.dcm': undefined,
      'us_phi_burnedin_yes.dcm': 65,
      'us_rgb_burnedin_text.dcm': undefined,
      'us_rgb_phi_burnedin.dcm': 35,
    });
  });

  it.each(samples)('%s is de-identified and valid, or quarantined with a reason', async (name) => {
    const input = new Uint8Array(readFileSync(join(sampleDir, name)));
    const outcome = await run(input);
    if (outcome.status === 'quarantined') {
      expect(outcome.reasons.length).toBeGreaterThan(0);
      expect(outcome.sopInstanceUid).toMatch(/^2\.25\.\d+$/);
      return;
    }
    const out = outcome.bytes;
    // Preamble zeroed, DICM, meta group length right, Media Storage SOP Instance UID = SOP Instance UID.
    expect(out.subarray(0, 128).every((b) => b === 0)).toBe(true);
    expect(new TextDecoder().decode(out.subarray(128, 132))).toBe('DICM');
    const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
    const groupLength = view.getUint32(140, true);
    expect(view.getUint16(144 + groupLength, true)).not.toBe(0x0002);
    const parsed = await parseForDeid(out, DEFAULT_INFLATE_LIMITS);
    expect(textOf(parsed.meta, 0x00020003)).toBe(textOf(parsed.dataset, DEID_TAG.SOPInstanceUID));
    expect(parsed.meta.some((e) => e.tag === 0x00020016 || e.tag === 0x00020017 || e.tag === 0x00020018)).toBe(false);
    expect(textOf(parsed.dataset, DEID_TAG.PatientIdentityRemoved)).toBe('YES');
    expect(textOf(parsed.dataset, DEID_TAG.LongitudinalTemporalInformationModified)).toBe('MODIFIED');
    const codes = parsed.dataset.find((e) => e.tag === DEID_TAG.DeidentificationMethodCodeSequence);
    const values = codes?.value.kind === 'sequence' ? codes.value.items.map((item) => textOf(item, DEID_TAG.CodeValue)) : [];
    expect(values).toEqual(['113100', '113107', '113109']);
    expect(outcome.transferSyntaxUid).toBe((await parseForDeid(input, DEFAULT_INFLATE_LIMITS)).transferSyntaxUid);

    // Same pixels, every frame, through Vigil's reader.
    const before = await reader.readInstance(input);
    const after = await reader.readInstance(out);
    expect(after.frameCount).toBe(before.frameCount);
    for (let i = 0; i < before.frameCount; i++) {
      const [a, b] = [await before.decodeFrame(i), await after.decodeFrame(i)];
      expect(
        Buffer.from(b.pixels.buffer, b.pixels.byteOffset, b.pixels.byteLength).equals(Buffer.from(a.pixels.buffer, a.pixels.byteOffset, a.pixels.byteLength)),
      ).toBe(true);
    }
    writeFileSync(join(scratch, name), out);
  });

  it.skipIf(!hasDciodvfy)(
    `introduces no new dciodvfy errors${hasDciodvfy ? '' : ' (skipped: dciodvfy not installed; apt-get install dicom3tools)'}`,
    async () => {
      for (const name of samples) {
        const outcome = await run(new Uint8Array(readFileSync(join(sampleDir, name))));
        if (outcome.status !== 'deidentified') continue;
        const file = join(scratch, `dv-${name}`);
        writeFileSync(file, outcome.bytes);
        const before = dciodvfyErrors(join(sampleDir, name));
        const added = [...dciodvfyErrors(file)].filter((e) => !before.has(e));
        expect(added, name).toEqual([]);
      }
    },
  );

  it.skipIf(!hasPydicom)(`parses again with pydicom${hasPydicom ? '' : ' (skipped: python3-pydicom not installed)'}`, async () => {
    const files: string[] = [];
    for (const name of samples) {
      const outcome = await run(new Uint8Array(readFileSync(join(sampleDir, name))));
      if (outcome.status !== 'deidentified') continue;
      const file = join(scratch, `py-${name}`);
      writeFileSync(file, outcome.bytes);
      files.push(file);
    }
    const script = [
      'import sys, pydicom',
      'for f in sys.argv[1:]:',
      '    d = pydicom.dcmread(f)',
      '    assert d.file_meta.MediaStorageSOPInstanceUID == d.SOPInstanceUID, f',
      '    assert d.PatientIdentityRemoved == "YES", f',
      '    len(d.PixelData)',
      '    for e in d.iterall(): e.value',
      'print("ok", len(sys.argv) - 1)',
    ].join('\n');
    expect(execFileSync('/usr/bin/python3', ['-c', script, ...files], { encoding: 'utf8' }).trim()).toBe(`ok ${files.length}`);
  });

  it.each(samples)('%s: cleaning one pixel decodes, blanks it and re-encodes losslessly (every syntax)', async (name) => {
    const input = new Uint8Array(readFileSync(join(sampleDir, name)));
    const before = await reader.readInstance(input);
    const first = await before.decodeFrame(0);
    const sopClassUid = textOf((await parseForDeid(input, DEFAULT_INFLATE_LIMITS)).dataset, DEID_TAG.SOPClassUID) ?? '';
    const rule: PixelRule = {
      name: 'one pixel',
      match: { sopClassUid, rows: first.rows, columns: first.columns },
      rectangles: [{ x: 0, y: 0, width: 1, height: 1 }],
    };
    const outcome = await run(input, new Set([...OPTIONS, 'clean-pixel-data']), [rule]);
    expect(outcome.status).toBe('deidentified');
    if (outcome.status !== 'deidentified') return;
    expect(outcome.pixelsCleaned).toBe(true);
    const after = await reader.readInstance(outcome.bytes);
    expect(after.frameCount).toBe(before.frameCount);
    for (let i = 0; i < before.frameCount; i++) {
      const [a, b] = [await before.decodeFrame(i), await after.decodeFrame(i)];
      const expected = Array.from(a.pixels);
      for (let s = 0; s < a.samplesPerPixel; s++) expected[s] = 0;
      expect(b.pixels.length).toBe(a.pixels.length);
      const differences = Array.from(b.pixels).reduce((n: number, v, k) => (v === expected[k] ? n : n + 1), 0);
      expect(differences, `frame ${i}`).toBe(0);
    }
  });

  it('with a matching Clean Pixel Data rule, blanks only the rectangles, writes Explicit VR LE, sets Burned In Annotation NO', async () => {
    const name = 'us_phi_burnedin_yes.dcm';
    if (!samples.includes(name)) return;
    const input = new Uint8Array(readFileSync(join(sampleDir, name)));
    const rule: PixelRule = {
      name: 'test EPIQ banner',
      match: { modality: 'US', manufacturerModelName: 'EPIQ 5G', rows: 768, columns: 1024 },
      rectangles: [{ x: 0, y: 0, width: 1024, height: 60 }],
    };
    expect((await run(input, new Set([...OPTIONS]), [rule])).status).toBe('quarantined'); // option not chosen
    const outcome = await run(input, new Set([...OPTIONS, 'clean-pixel-data']), [rule]);
    expect(outcome.status).toBe('deidentified');
    if (outcome.status !== 'deidentified') return;
    expect(outcome.pixelsCleaned).toBe(true);
    expect(outcome.transferSyntaxUid).toBe('1.2.840.10008.1.2.1');
    const parsed = await parseForDeid(outcome.bytes, DEFAULT_INFLATE_LIMITS);
    expect(textOf(parsed.dataset, DEID_TAG.BurnedInAnnotation)).toBe('NO');
    const before = await (await reader.readInstance(input)).decodeFrame(0);
    const after = await (await reader.readInstance(outcome.bytes)).decodeFrame(0);
    const samplesPerRow = before.columns * before.samplesPerPixel;
    for (let y = 0; y < before.rows; y += 7) {
      for (let x = 0; x < samplesPerRow; x += 5) {
        const i = y * samplesPerRow + x;
        expect(after.pixels[i], `${x},${y}`).toBe(y < 60 ? 0 : before.pixels[i]);
      }
    }
    const codes = parsed.dataset.find((e) => e.tag === DEID_TAG.DeidentificationMethodCodeSequence);
    expect(codes?.value.kind === 'sequence' ? codes.value.items.map((item) => textOf(item, DEID_TAG.CodeValue)) : []).toContain('113101');
  });
});

describe.skipIf(!samples.includes('ct_small_explicitLE.dcm') || !samples.includes('cr_chest_pa_j2k_lossy.dcm'))(
  `acquisition metadata past the door${samples.length === 0 ? ' (skipped: no ../shared/data/dicom-samples)' : ''}`,
  () => {
    // Software Versions (0018,1020), KVP (0018,0060), Pixel Spacing (0028,0030) and Imager Pixel Spacing
    // (0018,1164) are not in PS3.15 Table E.1-1: the Basic Profile keeps them, with or without options.
    it.each([
      ['the ingest options', OPTIONS],
      ['the Basic Profile alone', new Set<ProfileOption>()],
    ])('keeps software version, kVp and pixel spacing under %s, and the reader reads them', async (_label, options) => {
      const read = async (name: string) => {
        const outcome = await deidentifier.deidentify(new Uint8Array(readFileSync(join(sampleDir, name))), {
          profile: { name: 'basic', options },
          digest,
          pixelRules: [],
          headersOnly: true,
        });
        if (outcome.status !== 'deidentified') throw new Error(`${name} was not de-identified at ingest`);
        return (await reader.readInstance(outcome.bytes)).attributes;
      };
      const ct = await read('ct_small_explicitLE.dcm');
      expect([ct.softwareVersions, ct.kvp, ct.pixelSpacingMm]).toEqual([['05'], 120, [0.661468, 0.661468]]);
      // The CR states Pixel Spacing as 0.000\0.000 and no Imager Pixel Spacing: its spacing is not stated.
      const cr = await read('cr_chest_pa_j2k_lossy.dcm');
      expect([cr.softwareVersions, cr.kvp, cr.pixelSpacingMm]).toEqual([['Version 3.3.1'], 150, undefined]);
    });
  },
);
