/**
 * The reader on the shared sample files: every transfer syntax parses, every frame decodes, and the pixels
 * equal an independent decoder's (test/fixtures/dicom-golden.json, made by scripts/make-dicom-golden.py).
 * Skipped, with the reason in its name, when the samples are not on this machine.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { endianness } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ImageAttributes, ImageFrame, StoredPixels } from '../../domain/image/image-frame.js';
import type { DicomInstance } from '../../ports/image-readers.js';
import { DcmjsDicomReader } from './dcmjs-dicom-reader.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const sampleDir = resolve(repoRoot, process.env['VIGIL_SAMPLE_DATA'] ?? '../shared/data', 'dicom-samples');
const hasSamples = existsSync(sampleDir);

interface GoldenFrame {
  readonly sha256: string;
  readonly mean: number;
  readonly subsample?: { readonly stride: number; readonly values: readonly number[] };
}

interface GoldenSample {
  readonly fileSha256: string;
  readonly transferSyntaxUid: string;
  readonly oracle: string;
  readonly dtype: string;
  readonly rows: number;
  readonly columns: number;
  readonly samplesPerPixel: number;
  readonly frames: readonly GoldenFrame[];
  readonly comparison:
    { readonly kind: 'exact' } | { readonly kind: 'tolerance'; readonly maxAbsDiff: number; readonly maxMeanDiff: number; readonly reason: string };
}

const golden = JSON.parse(readFileSync(resolve(repoRoot, 'test/fixtures/dicom-golden.json'), 'utf8')) as {
  readonly samples: Readonly<Record<string, GoldenSample>>;
};
const sampleNames = Object.keys(golden.samples).sort();

const DTYPE_OF: Readonly<Record<string, string>> = {
  Uint8Array: 'uint8',
  Int8Array: 'int8',
  Uint16Array: 'uint16',
  Int16Array: 'int16',
  Uint32Array: 'uint32',
  Int32Array: 'int32',
};

function sha256Of(pixels: StoredPixels): string {
  return createHash('sha256')
    .update(new Uint8Array(pixels.buffer, pixels.byteOffset, pixels.byteLength))
    .digest('hex');
}

function meanOf(pixels: StoredPixels): number {
  let sum = 0;
  for (const value of pixels) sum += value;
  return sum / pixels.length;
}

function readSample(name: string): Uint8Array {
  return readFileSync(resolve(sampleDir, name));
}

describe.skipIf(!hasSamples)(`DcmjsDicomReader on the sample files (skipped when ${sampleDir} is missing; set VIGIL_SAMPLE_DATA)`, () => {
  const reader = new DcmjsDicomReader();
  const instances = new Map<string, DicomInstance>();
  const frames = new Map<string, ImageFrame[]>();

  beforeAll(async () => {
    for (const name of sampleNames) {
      const instance = await reader.readInstance(readSample(name));
      instances.set(name, instance);
      const decoded: ImageFrame[] = [];
      for (let i = 0; i < instance.frameCount; i++) decoded.push(await instance.decodeFrame(i));
      frames.set(name, decoded);
    }
  });

  it('has a golden entry for every sample file and the same files', () => {
    const files = readdirSync(sampleDir)
      .filter((name) => name.endsWith('.dcm'))
      .sort();
    expect(files).toEqual(sampleNames);
    expect(endianness()).toBe('LE'); // the golden hashes are of little-endian bytes
  });

  it.each(sampleNames)('%s: parses, decodes every frame, and matches its independent oracle', (name) => {
    const entry = golden.samples[name];
    if (entry === undefined) throw new Error('no golden entry');
    const hash = createHash('sha256').update(readSample(name)).digest('hex');
    expect(hash, 'the sample changed: run scripts/make-dicom-golden.py').toBe(entry.fileSha256);

    const instance = instances.get(name);
    const decoded = frames.get(name) ?? [];
    expect(instance?.frameCount).toBe(entry.frames.length);
    expect(decoded).toHaveLength(entry.frames.length);
    decoded.forEach((frame, index) => {
      const expected = entry.frames[index];
      if (expected === undefined) throw new Error('no golden frame');
      expect(frame.frameIndex).toBe(index);
      expect([frame.rows, frame.columns, frame.samplesPerPixel]).toEqual([entry.rows, entry.columns, entry.samplesPerPixel]);
      expect(frame.pixels.length).toBe(entry.rows * entry.columns * entry.samplesPerPixel);
      expect(DTYPE_OF[frame.pixels.constructor.name]).toBe(entry.dtype);
      if (entry.comparison.kind === 'exact') {
        expect(sha256Of(frame.pixels), `frame ${index} against ${entry.oracle}`).toBe(expected.sha256);
        return;
      }
      // No exact oracle (see the entry's reason): a fixed subsample within maxAbsDiff, the mean within maxMeanDiff.
      const { stride, values } = expected.subsample ?? { stride: 1, values: [] };
      expect(values.length).toBeGreaterThan(1000);
      let maxAbsDiff = 0;
      values.forEach((value, k) => {
        maxAbsDiff = Math.max(maxAbsDiff, Math.abs((frame.pixels[k * stride] ?? Number.NaN) - value));
      });
      expect(maxAbsDiff).toBeLessThanOrEqual(entry.comparison.maxAbsDiff);
      expect(Math.abs(meanOf(frame.pixels) - expected.mean)).toBeLessThanOrEqual(entry.comparison.maxMeanDiff);
    });
  });

  it('hands over only MONOCHROME1, MONOCHROME2 or RGB, with frame attributes matching the frame', () => {
    for (const name of sampleNames) {
      const instance = instances.get(name);
      for (const frame of frames.get(name) ?? []) {
        expect(['MONOCHROME1', 'MONOCHROME2', 'RGB']).toContain(frame.attributes.photometricInterpretation);
        expect(frame.samplesPerPixel).toBe(frame.attributes.photometricInterpretation === 'RGB' ? 3 : 1);
        expect(frame.attributes.numberOfFrames).toBe(instance?.frameCount);
        expect(Object.isFrozen(frame.attributes)).toBe(true);
      }
    }
  });

  it('reads the CR chest as MONOCHROME1, lossy JPEG 2000, body part upper-cased, with its window', () => {
    const attributes = instances.get('cr_chest_pa_j2k_lossy.dcm')?.attributes;
    expect(attributes).toMatchObject({
      source: 'dicom',
      modality: 'CR',
      bodyPartExamined: 'CHEST',
      photometricInterpretation: 'MONOCHROME1',
      originalPhotometric: 'MONOCHROME1',
      bitsAllocated: 16,
      bitsStored: 15,
      pixelRepresentation: 0,
      lossyCompressed: true,
      numberOfFrames: 1,
      transferSyntaxUid: '1.2.840.10008.1.2.4.91',
    });
    expect(attributes?.windows).toEqual([{ center: 15000, width: 30000 }]);
    expect(instances.get('cr_leg_j2k_lossless.dcm')?.attributes.lossyCompressed).toBe(false);
  });

  it('reads the US cine as 30 RGB frames converted from YBR_FULL_422', () => {
    const instance = instances.get('us_multiframe30_jpeg_baseline.dcm');
    expect(instance?.frameCount).toBe(30);
    expect(instance?.attributes).toMatchObject({
      modality: 'US',
      photometricInterpretation: 'RGB',
      originalPhotometric: 'YBR_FULL_422',
      numberOfFrames: 30,
      lossyCompressed: true,
    });
    const last = frames.get('us_multiframe30_jpeg_baseline.dcm')?.[29];
    expect(last?.pixels).toBeInstanceOf(Uint8Array);
    expect(last?.samplesPerPixel).toBe(3);
  });

  it('resolves the Enhanced CT rescale and window from the functional groups, for every frame', () => {
    const decoded = frames.get('ct_enhanced_2frame_jpegls_fragmented.dcm') ?? [];
    expect(decoded).toHaveLength(2);
    for (const frame of decoded) {
      expect(frame.attributes).toMatchObject({ rescaleSlope: 1, rescaleIntercept: -1024, voiLutFunction: 'LINEAR', burnedInAnnotation: 'NO' });
      expect(frame.attributes.windows).toEqual([{ center: 49, width: 102 }]);
    }
  });

  it('reads big endian, implicit and explicit little endian copies of one MR to the same values', () => {
    const reference = instances.get('mr_small_explicitLE.dcm');
    const referencePixels = frames.get('mr_small_explicitLE.dcm')?.[0]?.pixels;
    expect(referencePixels).toBeInstanceOf(Int16Array);
    const withoutSyntax = (attributes: ImageAttributes | undefined): Partial<ImageAttributes> => ({
      ...attributes,
      transferSyntaxUid: '',
      lossyCompressed: false,
    });
    for (const name of ['mr_small_bigendian.dcm', 'mr_small_implicitLE.dcm', 'mr_small_rle.dcm', 'mr_small_jpegls.dcm', 'mr_small_j2k_lossless.dcm']) {
      expect(withoutSyntax(instances.get(name)?.attributes), name).toEqual(withoutSyntax(reference?.attributes));
      expect(instances.get(name)?.identifiers, name).toEqual(reference?.identifiers);
      expect(frames.get(name)?.[0]?.pixels, name).toEqual(referencePixels);
    }
    expect(reference?.attributes.windows).toEqual([{ center: 600, width: 1600 }]);
  });

  it('passes identifiers through untouched', () => {
    const identifiers = instances.get('mr_small_explicitLE.dcm')?.identifiers;
    expect(identifiers?.patientId).toBe('4MR1');
    expect(identifiers?.studyInstanceUid).toMatch(/^1\.3\.6\.1\.4\.1\.5962\./);
    expect(identifiers?.sopInstanceUid).toMatch(/^[\d.]+$/);
    expect(identifiers?.seriesInstanceUid).toMatch(/^[\d.]+$/);
  });

  it('reports burned-in annotation and signed CT as the files declare them', () => {
    expect(instances.get('us_phi_burnedin_yes.dcm')?.attributes.burnedInAnnotation).toBe('YES');
    expect(instances.get('ct_small_explicitLE.dcm')?.attributes).toMatchObject({
      pixelRepresentation: 1,
      rescaleIntercept: -1024,
      rescaleSlope: 1,
      windows: [],
    });
    expect(frames.get('ct_small_explicitLE.dcm')?.[0]?.pixels).toBeInstanceOf(Int16Array);
    expect(instances.get('deflated.dcm')?.attributes.transferSyntaxUid).toBe('1.2.840.10008.1.2.1.99');
  });
});
