/**
 * The reader on files built in code (internal/test-builders.ts): the cases the samples do not cover
 * (palette colour, native YBR, planar RGB, 1-bit, per-frame functional groups, frames split over fragments
 * with and without offset tables) and hostile input, which must end in a coded error, quickly, quietly and
 * without quoting anything from the file.
 */
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { spyOnAllOutput } from '../../../test/helpers/output-spies.js';
import { deflateRawSync } from 'node:zlib';
import { PlatformError, type ErrorCode } from '../../domain/errors.js';
import type { DicomInstance } from '../../ports/image-readers.js';
import { DcmjsDicomReader } from './dcmjs-dicom-reader.js';
import { Context, NativeCodecs } from './internal/libraries.js';
import {
  EXPLICIT_LE,
  IMPLICIT_LE,
  SYNTHETIC_IDENTIFIERS,
  basicOffsetsOf,
  buildPart10,
  concat,
  el,
  encodeDataset,
  fragmentsValue,
  imageDataset,
  metaGroup,
  nestedSequences,
  sampleBytes,
  splitInto,
  tagBytes,
  u32,
  type ElementSpec,
  type ImageSpec,
} from './internal/test-builders.js';

const EXPLICIT = '1.2.840.10008.1.2.1';
const IMPLICIT = '1.2.840.10008.1.2';
const BIG_ENDIAN = '1.2.840.10008.1.2.2';
const DEFLATED = '1.2.840.10008.1.2.1.99';
const RLE = '1.2.840.10008.1.2.5';
const JPEG_LS = '1.2.840.10008.1.2.4.80';
const J2K = '1.2.840.10008.1.2.4.90';
const ENCAPSULATED_UNCOMPRESSED = '1.2.840.10008.1.2.1.98';

const reader = new DcmjsDicomReader();

function nativeImage(spec: Omit<ImageSpec, 'pixelData'> & { readonly values: ArrayLike<number>; readonly littleEndian?: boolean }): ElementSpec[] {
  const bits = spec.bitsAllocated === 8 ? 8 : spec.bitsAllocated === 32 ? 32 : 16;
  return imageDataset({ ...spec, pixelData: el(0x7fe00010, bits === 8 ? 'OB' : 'OW', sampleBytes(spec.values, bits, spec.littleEndian ?? true)) });
}

async function read(bytes: Uint8Array, instanceReader = reader): Promise<DicomInstance> {
  return instanceReader.readInstance(bytes);
}

async function pixelsOf(bytes: Uint8Array, frame = 0): Promise<number[]> {
  const instance = await read(bytes);
  return Array.from((await instance.decodeFrame(frame)).pixels);
}

/** Everything an error exposes that could be logged. */
function exposedText(error: PlatformError): string {
  return `${error.message} ${JSON.stringify(error.details)} ${error.name} ${error.code}`;
}

const LEAKS = [...Object.values(SYNTHETIC_IDENTIFIERS), '/work', 'SYNTHETIC'];

async function expectDicomError(promise: Promise<unknown>, code: ErrorCode): Promise<PlatformError> {
  const outcome = await promise.then(
    () => new Error('expected a rejection'),
    (error: unknown) => error,
  );
  expect(outcome).toBeInstanceOf(PlatformError);
  const error = outcome as PlatformError;
  expect(error.code, error.message).toBe(code);
  const text = exposedText(error);
  for (const leak of LEAKS) expect(text).not.toContain(leak);
  expect(text).not.toMatch(/\d+\.\d+\.\d+\.\d+/); // no UID
  return error;
}

type Encoder = 'jpeg-ls' | 'j2k' | 'rle';

/** Encodes with dcmjs-codecs' encoders; the reader may have discarded the WASM instance after a failure. */
async function encodeFrame(
  encoder: Encoder,
  pixels: Uint8Array,
  rows: number,
  columns: number,
  samplesPerPixel: 1 | 3,
  bitsAllocated: 8 | 16,
): Promise<Uint8Array> {
  if (!NativeCodecs.isInitialized()) await NativeCodecs.initializeAsync();
  const context = new Context({
    width: columns,
    height: rows,
    bitsAllocated,
    bitsStored: bitsAllocated,
    samplesPerPixel,
    pixelRepresentation: 0,
    planarConfiguration: 0,
    photometricInterpretation: samplesPerPixel === 3 ? 'RGB' : 'MONOCHROME2',
    decodedBuffer: pixels,
  });
  const encoded =
    encoder === 'jpeg-ls'
      ? NativeCodecs.encodeJpegLs(context, { lossy: false })
      : encoder === 'j2k'
        ? NativeCodecs.encodeJpeg2000(context, { lossy: false })
        : NativeCodecs.encodeRle(context);
  const bytes = encoded.getEncodedBuffer();
  if (bytes === undefined) throw new Error('encoder returned nothing');
  return bytes.slice();
}

/** Three 16-bit 24×32 frames with different content. */
function threeFrames(): Uint16Array[] {
  return [0, 1, 2].map((f) => Uint16Array.from({ length: 24 * 32 }, (_, i) => (i * (7 + f * 13) + f * 1000) % 4096));
}

function asBytes(values: Uint16Array | Uint8Array): Uint8Array {
  return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
}

function encapsulatedFile(
  transferSyntaxUid: string,
  fragments: readonly Uint8Array[],
  spec: Omit<ImageSpec, 'pixelData'>,
  options: { basicOffsets?: readonly number[]; extra?: readonly ElementSpec[] } = {},
): Uint8Array {
  const pixelData = el(0x7fe00010, 'OB', fragmentsValue(fragments, options.basicOffsets ?? []), { undefinedLength: true });
  return buildPart10(imageDataset({ ...spec, pixelData, extra: [...(spec.extra ?? []), ...(options.extra ?? [])] }), { transferSyntaxUid });
}

describe('native pixel data', () => {
  it('sign-extends signed values whose high bits hold garbage, into an Int16Array', async () => {
    // 12-bit two's complement -2048, -1, 0, 2047 with junk in the 4 unused bits.
    const bytes = buildPart10(
      nativeImage({ rows: 1, columns: 4, bitsAllocated: 16, bitsStored: 12, pixelRepresentation: 1, values: [0x3800, 0xafff, 0xf000, 0x57ff] }),
      { transferSyntaxUid: EXPLICIT },
    );
    const frame = await (await read(bytes)).decodeFrame(0);
    expect(frame.pixels).toBeInstanceOf(Int16Array);
    expect(Array.from(frame.pixels)).toEqual([-2048, -1, 0, 2047]);
  });

  it('clears unused high bits of unsigned values', async () => {
    const bytes = buildPart10(nativeImage({ rows: 1, columns: 3, bitsAllocated: 16, bitsStored: 10, values: [0xfc01, 0x03ff, 0x8000] }), {
      transferSyntaxUid: EXPLICIT,
    });
    expect(await pixelsOf(bytes)).toEqual([1, 1023, 0]);
  });

  it('uses the natural typed array for 8 and 32 bits, signed and unsigned', async () => {
    const signed8 = await read(
      buildPart10(nativeImage({ rows: 1, columns: 2, bitsAllocated: 8, pixelRepresentation: 1, values: [0xff, 0x7f] }), { transferSyntaxUid: EXPLICIT }),
    );
    const frame8 = await signed8.decodeFrame(0);
    expect(frame8.pixels).toBeInstanceOf(Int8Array);
    expect(Array.from(frame8.pixels)).toEqual([-1, 127]);
    const unsigned32 = await read(
      buildPart10(nativeImage({ rows: 1, columns: 2, bitsAllocated: 32, values: [0xffffffff, 7] }), { transferSyntaxUid: EXPLICIT }),
    );
    const frame32 = await unsigned32.decodeFrame(0);
    expect(frame32.pixels).toBeInstanceOf(Uint32Array);
    expect(Array.from(frame32.pixels)).toEqual([0xffffffff, 7]);
  });

  it('reads big endian, implicit and explicit little endian to the same values', async () => {
    const values = [0, 1, 256, 4095, 65535, 513];
    const spec = { rows: 2, columns: 3, bitsAllocated: 16, values } as const;
    const little = await pixelsOf(buildPart10(nativeImage(spec), { transferSyntaxUid: EXPLICIT }));
    const big = await pixelsOf(buildPart10(nativeImage({ ...spec, littleEndian: false }), { transferSyntaxUid: BIG_ENDIAN }));
    const implicit = await pixelsOf(buildPart10(nativeImage(spec), { transferSyntaxUid: IMPLICIT }));
    const deflated = await pixelsOf(buildPart10(nativeImage(spec), { transferSyntaxUid: DEFLATED }));
    expect(little).toEqual(values);
    expect(big).toEqual(values);
    expect(implicit).toEqual(values);
    expect(deflated).toEqual(values);
  });

  it('decodes each frame of a native multi-frame image on demand', async () => {
    const values = [1, 2, 3, 4, 10, 20, 30, 40, 100, 200, 300, 400];
    const instance = await read(buildPart10(nativeImage({ rows: 2, columns: 2, bitsAllocated: 16, frames: 3, values }), { transferSyntaxUid: EXPLICIT }));
    expect(instance.frameCount).toBe(3);
    expect(Array.from((await instance.decodeFrame(2)).pixels)).toEqual([100, 200, 300, 400]);
    expect(Array.from((await instance.decodeFrame(0)).pixels)).toEqual([1, 2, 3, 4]);
  });

  it('unpacks 1-bit frames packed across byte boundaries (PS3.5 D.1.1)', async () => {
    // Two 3×3 frames: 18 bits, least significant bit first.
    const bits = [1, 0, 0, 1, 1, 0, 0, 0, 1, /* frame 2 */ 0, 1, 1, 1, 0, 0, 1, 0, 1];
    const packed = new Uint8Array(4);
    bits.forEach((bit, i) => {
      packed[i >> 3] = (packed[i >> 3] ?? 0) | (bit << (i & 7));
    });
    const dataset = imageDataset({ rows: 3, columns: 3, bitsAllocated: 1, frames: 2, pixelData: el(0x7fe00010, 'OB', packed) });
    const instance = await read(buildPart10(dataset, { transferSyntaxUid: EXPLICIT }));
    expect(Array.from((await instance.decodeFrame(0)).pixels)).toEqual(bits.slice(0, 9));
    expect(Array.from((await instance.decodeFrame(1)).pixels)).toEqual(bits.slice(9));
    expect(instance.attributes).toMatchObject({ bitsAllocated: 8, bitsStored: 1 });
  });
});

describe('colour', () => {
  it('interleaves planar RGB (Planar Configuration 1)', async () => {
    const planes = [10, 11, 12, 20, 21, 22, 30, 31, 32]; // R R R G G G B B B for 3 pixels
    const bytes = buildPart10(nativeImage({ rows: 1, columns: 3, bitsAllocated: 8, samplesPerPixel: 3, planarConfiguration: 1, values: planes }), {
      transferSyntaxUid: EXPLICIT,
    });
    expect(await pixelsOf(bytes)).toEqual([10, 20, 30, 11, 21, 31, 12, 22, 32]);
  });

  it('converts native YBR_FULL to RGB with the PS3.3 C.7.6.3.1.2 equations', async () => {
    const rgb = [
      [255, 0, 0],
      [0, 255, 0],
      [0, 0, 255],
      [128, 128, 128],
      [12, 200, 99],
      [255, 255, 255],
    ];
    const ybr = rgb.flatMap(([r = 0, g = 0, b = 0]) =>
      [0.299 * r + 0.587 * g + 0.114 * b, -0.1687 * r - 0.3313 * g + 0.5 * b + 128, 0.5 * r - 0.4187 * g - 0.0813 * b + 128].map((v) =>
        Math.min(255, Math.max(0, Math.round(v))),
      ),
    );
    const bytes = buildPart10(nativeImage({ rows: 2, columns: 3, bitsAllocated: 8, samplesPerPixel: 3, photometric: 'YBR_FULL', values: ybr }), {
      transferSyntaxUid: EXPLICIT,
    });
    const instance = await read(bytes);
    expect(instance.attributes).toMatchObject({ photometricInterpretation: 'RGB', originalPhotometric: 'YBR_FULL' });
    const decoded = Array.from((await instance.decodeFrame(0)).pixels);
    decoded.forEach((value, i) => expect(Math.abs(value - (rgb.flat()[i] ?? 0))).toBeLessThanOrEqual(2));
  });

  it('expands native YBR_FULL_422 (Y1 Y2 Cb Cr per pixel pair) and converts it', async () => {
    const bytes = buildPart10(
      nativeImage({ rows: 1, columns: 4, bitsAllocated: 8, samplesPerPixel: 3, photometric: 'YBR_FULL_422', values: [128, 64, 128, 128, 76, 76, 85, 255] }),
      { transferSyntaxUid: EXPLICIT },
    );
    const decoded = await pixelsOf(bytes);
    expect(decoded.slice(0, 6)).toEqual([128, 128, 128, 64, 64, 64]); // neutral chroma: grey
    // Y 76, Cb 85, Cr 255 (pure red, its Cr clipped at 255): R = 76 + 1.402 × 127 = 254.05.
    expect(decoded.slice(6, 9)).toEqual([254, 0, 0]);
  });

  it('maps PALETTE COLOR through 16-bit lookup tables, clamping indices outside them', async () => {
    const lut = (scale: number): Uint8Array =>
      sampleBytes(
        [0, 1, 2, 3].map((i) => i * scale),
        16,
      );
    const extra = [
      el(0x00281101, 'US', [4, 10, 16]),
      el(0x00281102, 'US', [4, 10, 16]),
      el(0x00281103, 'US', [4, 10, 16]),
      el(0x00281201, 'OW', lut(1000)),
      el(0x00281202, 'OW', lut(2000)),
      el(0x00281203, 'OW', lut(3000)),
    ];
    const bytes = buildPart10(nativeImage({ rows: 1, columns: 3, bitsAllocated: 8, photometric: 'PALETTE COLOR', values: [9, 12, 200], extra }), {
      transferSyntaxUid: EXPLICIT,
    });
    const instance = await read(bytes);
    expect(instance.attributes).toMatchObject({ photometricInterpretation: 'RGB', originalPhotometric: 'PALETTE COLOR', bitsAllocated: 16, bitsStored: 16 });
    const frame = await instance.decodeFrame(0);
    expect(frame.pixels).toBeInstanceOf(Uint16Array);
    expect(frame.samplesPerPixel).toBe(3);
    expect(Array.from(frame.pixels)).toEqual([0, 0, 0, 2000, 4000, 6000, 3000, 6000, 9000]);
  });

  it('maps PALETTE COLOR through packed 8-bit tables, also in big endian', async () => {
    for (const [transferSyntaxUid, littleEndian] of [
      [EXPLICIT, true],
      [BIG_ENDIAN, false],
    ] as const) {
      // Four 8-bit entries packed two per OW word, in the word order of the transfer syntax.
      const packed = (entries: number[]): Uint8Array =>
        littleEndian ? Uint8Array.from(entries) : Uint8Array.from([entries[1] ?? 0, entries[0] ?? 0, entries[3] ?? 0, entries[2] ?? 0]);
      const extra = [
        el(0x00281101, 'US', [4, 0, 8]),
        el(0x00281102, 'US', [4, 0, 8]),
        el(0x00281103, 'US', [4, 0, 8]),
        el(0x00281201, 'OW', packed([0, 85, 170, 255])),
        el(0x00281202, 'OW', packed([255, 170, 85, 0])),
        el(0x00281203, 'OW', packed([1, 2, 3, 4])),
      ];
      const bytes = buildPart10(nativeImage({ rows: 1, columns: 2, bitsAllocated: 8, photometric: 'PALETTE COLOR', values: [1, 3], extra }), {
        transferSyntaxUid,
      });
      const frame = await (await read(bytes)).decodeFrame(0);
      expect(frame.pixels, transferSyntaxUid).toBeInstanceOf(Uint8Array);
      expect(Array.from(frame.pixels), transferSyntaxUid).toEqual([85, 170, 2, 255, 0, 4]);
    }
  });
});

describe('per-frame attributes', () => {
  const perFrame = (slope: string, intercept: string): ElementSpec[] => [
    el(0x00289145, 'SQ', [[el(0x00281052, 'DS', intercept), el(0x00281053, 'DS', slope), el(0x00281054, 'LO', 'HU')]]),
  ];
  const enhanced = (undefinedLength: boolean): ElementSpec[] => [
    el(
      0x52009229,
      'SQ',
      [[el(0x00289132, 'SQ', [[el(0x00281050, 'DS', '40\\400'), el(0x00281051, 'DS', '80\\0'), el(0x00281056, 'CS', 'SIGMOID')]], { undefinedLength })]],
      { undefinedLength },
    ),
    el(0x52009230, 'SQ', [perFrame('1', '-1024'), perFrame('2', '-10.5'), perFrame('0.5', '7')], { undefinedLength }),
  ];

  it.each([
    ['explicit VR, defined lengths', EXPLICIT, false],
    ['explicit VR, undefined lengths', EXPLICIT, true],
    ['implicit VR, defined lengths', IMPLICIT, false],
    ['big endian, undefined lengths', BIG_ENDIAN, true],
  ] as const)('resolves rescale per frame and the shared window (%s)', async (_label, transferSyntaxUid, undefinedLength) => {
    const values = Array.from({ length: 12 }, (_, i) => i);
    const bytes = buildPart10(
      nativeImage({
        rows: 2,
        columns: 2,
        bitsAllocated: 16,
        frames: 3,
        values,
        littleEndian: transferSyntaxUid !== BIG_ENDIAN,
        extra: enhanced(undefinedLength),
      }),
      { transferSyntaxUid },
    );
    const instance = await read(bytes);
    const frames = await Promise.all([0, 1, 2].map((i) => instance.decodeFrame(i)));
    expect(frames.map((f) => [f.attributes.rescaleSlope, f.attributes.rescaleIntercept])).toEqual([
      [1, -1024],
      [2, -10.5],
      [0.5, 7],
    ]);
    for (const frame of frames) {
      // The second window has width 0 and is dropped.
      expect(frame.attributes.windows).toEqual([{ center: 40, width: 80 }]);
      expect(frame.attributes.voiLutFunction).toBe('SIGMOID');
    }
    expect(instance.attributes).toEqual(frames[0]?.attributes);
    expect(Array.from(frames[2]?.pixels ?? [])).toEqual([8, 9, 10, 11]);
  });

  it('reads multi-valued top-level windows, ignoring a VOI LUT Function it does not know', async () => {
    const extra = [el(0x00281050, 'DS', '40\\-600'), el(0x00281051, 'DS', '400\\1500'), el(0x00281056, 'CS', 'BOGUS')];
    const instance = await read(buildPart10(nativeImage({ rows: 1, columns: 1, bitsAllocated: 16, values: [0], extra }), { transferSyntaxUid: EXPLICIT }));
    expect(instance.attributes.windows).toEqual([
      { center: 40, width: 400 },
      { center: -600, width: 1500 },
    ]);
    expect(instance.attributes.voiLutFunction).toBe('LINEAR');
  });

  it('treats an empty Rescale Slope as absent and a garbage one as invalid', async () => {
    const blank = await read(
      buildPart10(nativeImage({ rows: 1, columns: 1, bitsAllocated: 16, values: [0], extra: [el(0x00281053, 'DS', '')] }), { transferSyntaxUid: EXPLICIT }),
    );
    expect(blank.attributes.rescaleSlope).toBe(1);
    const garbage = buildPart10(nativeImage({ rows: 1, columns: 1, bitsAllocated: 16, values: [0], extra: [el(0x00281053, 'DS', '1a2')] }), {
      transferSyntaxUid: EXPLICIT,
    });
    await expectDicomError(read(garbage), 'DICOM_IMAGE_ATTRIBUTES_INVALID');
  });
});

describe('encapsulated frames', () => {
  const spec = { rows: 24, columns: 32, bitsAllocated: 16, frames: 3 } as const;
  let codestreams: Uint8Array[] = [];
  let originals: Uint16Array[] = [];

  beforeAll(async () => {
    originals = threeFrames();
    codestreams = await Promise.all(originals.map((frame) => encodeFrame('jpeg-ls', asBytes(frame), 24, 32, 1, 16)));
  });

  async function expectFrames(bytes: Uint8Array): Promise<void> {
    const instance = await read(bytes);
    expect(instance.frameCount).toBe(3);
    for (const index of [2, 0, 1]) expect(Array.from((await instance.decodeFrame(index)).pixels)).toEqual(Array.from(originals[index] ?? []));
  }

  it('splits frames spanning several fragments by the Basic Offset Table', async () => {
    const frames = codestreams.map((codestream) => splitInto(codestream, 3));
    await expectFrames(encapsulatedFile(JPEG_LS, frames.flat(), spec, { basicOffsets: basicOffsetsOf(frames) }));
  });

  it('splits them by codestream markers when the Basic Offset Table is empty', async () => {
    await expectFrames(
      encapsulatedFile(
        JPEG_LS,
        codestreams.flatMap((codestream) => splitInto(codestream, 3)),
        spec,
      ),
    );
  });

  it('splits them by the Extended Offset Table', async () => {
    const frames = codestreams.map((codestream) => splitInto(codestream, 2));
    const offsets = new Uint8Array(24);
    basicOffsetsOf(frames).forEach((offset, i) => new DataView(offsets.buffer).setBigUint64(i * 8, BigInt(offset), true));
    await expectFrames(encapsulatedFile(JPEG_LS, frames.flat(), spec, { extra: [el(0x7fe00001, 'OV', offsets)] }));
  });

  it('falls back to markers when the Basic Offset Table points nowhere', async () => {
    const frames = codestreams.map((codestream) => splitInto(codestream, 3));
    await expectFrames(encapsulatedFile(JPEG_LS, frames.flat(), spec, { basicOffsets: [0, 5, 9] }));
  });

  it('takes one fragment per frame when the counts match', async () => {
    await expectFrames(encapsulatedFile(JPEG_LS, codestreams, spec));
  });

  it('splits JPEG 2000 frames by SOC/SIZ after EOC', async () => {
    const encoded = await Promise.all(originals.map((frame) => encodeFrame('j2k', asBytes(frame), 24, 32, 1, 16)));
    await expectFrames(
      encapsulatedFile(
        J2K,
        encoded.flatMap((codestream) => splitInto(codestream, 4)),
        spec,
      ),
    );
  });

  it('refuses fewer fragments than frames, and more that no marker explains', async () => {
    await expectDicomError(read(encapsulatedFile(JPEG_LS, codestreams.slice(0, 2), spec)), 'DICOM_PIXEL_LENGTH_MISMATCH');
    const glued = concat(codestreams);
    await expectDicomError(read(encapsulatedFile(JPEG_LS, splitInto(glued, 5), { ...spec, frames: 2 })), 'DICOM_PIXEL_LENGTH_MISMATCH');
  });

  it('decodes RLE colour and the encapsulated uncompressed syntax', async () => {
    const rgb = Uint8Array.from({ length: 8 * 6 * 3 }, (_, i) => (i * 29) % 256);
    const rle = await encodeFrame('rle', rgb, 8, 6, 3, 8);
    const rleInstance = await read(encapsulatedFile(RLE, [rle], { rows: 8, columns: 6, bitsAllocated: 8, samplesPerPixel: 3 }));
    expect(Array.from((await rleInstance.decodeFrame(0)).pixels)).toEqual(Array.from(rgb));

    const raw = sampleBytes([5, 6, 7, 8], 16);
    const uncompressed = await read(
      encapsulatedFile(ENCAPSULATED_UNCOMPRESSED, [raw.slice(0, 4), raw.slice(4)], { rows: 1, columns: 2, bitsAllocated: 16, frames: 2 }),
    );
    expect(Array.from((await uncompressed.decodeFrame(1)).pixels)).toEqual([7, 8]);
  });
});

describe('Part 10 and bare datasets', () => {
  const image = nativeImage({ rows: 1, columns: 2, bitsAllocated: 16, values: [3, 4] });

  it('reads a bare implicit dataset, a bare one with a meta group, and ignores junk in the preamble', async () => {
    const bare = encodeDataset(image, IMPLICIT_LE);
    expect(reader.isDicom(bare)).toBe(true);
    expect(await pixelsOf(bare)).toEqual([3, 4]);
    const withMeta = concat([metaGroup(EXPLICIT), encodeDataset(image, EXPLICIT_LE)]);
    expect(reader.isDicom(withMeta)).toBe(true);
    expect(await pixelsOf(withMeta)).toEqual([3, 4]);
    const junk = Uint8Array.from({ length: 128 }, (_, i) => (i * 151 + 7) % 256);
    expect(await pixelsOf(buildPart10(image, { transferSyntaxUid: EXPLICIT, preamble: junk }))).toEqual([3, 4]);
  });

  it('reads a dataset labelled explicit but written implicit, as pydicom and DCMTK do', async () => {
    expect(await pixelsOf(buildPart10(image, { transferSyntaxUid: EXPLICIT, syntax: IMPLICIT_LE }))).toEqual([3, 4]);
  });

  it('tells DICOM from other bytes', () => {
    expect(reader.isDicom(buildPart10(image, { transferSyntaxUid: EXPLICIT }))).toBe(true);
    expect(reader.isDicom(new Uint8Array(0))).toBe(false);
    expect(reader.isDicom(Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0]))).toBe(false);
    expect(reader.isDicom(new TextEncoder().encode('{"json": true, "padding": "................................"}'))).toBe(false);
    expect(reader.isDicom(new Uint8Array(200))).toBe(false);
  });

  it('passes the identifiers through', async () => {
    const instance = await read(buildPart10(image, { transferSyntaxUid: EXPLICIT }));
    expect(instance.identifiers).toEqual({
      studyInstanceUid: SYNTHETIC_IDENTIFIERS.studyInstanceUid,
      seriesInstanceUid: SYNTHETIC_IDENTIFIERS.seriesInstanceUid,
      sopInstanceUid: SYNTHETIC_IDENTIFIERS.sopInstanceUid,
      patientId: SYNTHETIC_IDENTIFIERS.patientId,
    });
  });
});

describe('hostile input', () => {
  const small = (extra: readonly ElementSpec[] = [], overrides: Partial<ImageSpec> = {}): ElementSpec[] =>
    nativeImage({ rows: 2, columns: 2, bitsAllocated: 16, values: [1, 2, 3, 4], extra, ...overrides });
  let output: ReturnType<typeof spyOnAllOutput> | undefined;

  beforeEach(() => {
    output = spyOnAllOutput();
  });

  afterEach(() => {
    const calls = output?.count();
    output?.restore();
    expect(calls, 'nothing may be printed').toBe(0);
  });

  it.each([
    ['empty', new Uint8Array(0), 'DICOM_PARSE_FAILED'],
    ['garbage', Uint8Array.from({ length: 5000 }, (_, i) => (i * 7919) % 251), 'DICOM_PARSE_FAILED'],
    ['signature only', concat([new Uint8Array(128), new TextEncoder().encode('DICM')]), 'DICOM_PARSE_FAILED'],
  ] as const)('rejects %s', async (_label, bytes, code) => {
    await expectDicomError(read(bytes), code);
  });

  it('rejects truncation anywhere as DICOM_TRUNCATED or a parse failure, never anything else', async () => {
    const whole = buildPart10(small([el(0x00081115, 'SQ', [[el(0x00081150, 'UI', '1.2.3')]], { undefinedLength: true })]), { transferSyntaxUid: EXPLICIT });
    for (let length = 1; length < whole.length; length += 3) {
      const error = await read(whole.subarray(0, length)).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error, `cut at ${length}`).toBeInstanceOf(PlatformError);
      expect(['DICOM_TRUNCATED', 'DICOM_PARSE_FAILED', 'DICOM_PIXEL_LENGTH_MISMATCH', 'DICOM_NO_PIXEL_DATA']).toContain((error as PlatformError).code);
    }
    await expectDicomError(read(whole.subarray(0, whole.length - 2)), 'DICOM_TRUNCATED');
  });

  /** `small()` with raw bytes spliced in before the Pixel Data (the reader stops after it). */
  const withRawBefore = (raw: Uint8Array, at = 0x00091010): Uint8Array =>
    buildPart10([...small().filter((e) => e.tag < at), { raw }, ...small().filter((e) => e.tag > at)], { transferSyntaxUid: EXPLICIT });

  it('does not allocate what a length claims', async () => {
    const hugeElement = withRawBefore(concat([tagBytes(0x00091010), new TextEncoder().encode('OB'), new Uint8Array(2), u32(0xfffffff0)]));
    await expectDicomError(read(hugeElement), 'DICOM_TRUNCATED');
    const hugePixels = buildPart10(
      imageDataset({ rows: 2, columns: 2, bitsAllocated: 16, pixelData: el(0x7fe00010, 'OW', new Uint8Array(8), { length: 0xfffffff0 }) }),
      { transferSyntaxUid: EXPLICIT },
    );
    await expectDicomError(read(hugePixels), 'DICOM_TRUNCATED');
    const hugeMeta = concat([
      new Uint8Array(128),
      new TextEncoder().encode('DICM'),
      tagBytes(0x00020001),
      new TextEncoder().encode('OB'),
      new Uint8Array(2),
      u32(0x7ffffff0),
    ]);
    await expectDicomError(read(hugeMeta), 'DICOM_TRUNCATED');
  });

  it('refuses an image larger than the limit before touching its pixels', async () => {
    const bomb = buildPart10(small([], { rows: 65535, columns: 65535, frames: 1000 }), { transferSyntaxUid: EXPLICIT });
    await expectDicomError(read(bomb), 'DICOM_LIMIT_EXCEEDED');
    const encapsulatedBomb = encapsulatedFile(J2K, [new Uint8Array([0xff, 0x4f, 0xff, 0x51])], { rows: 65535, columns: 65535, bitsAllocated: 16 });
    await expectDicomError(read(encapsulatedBomb), 'DICOM_LIMIT_EXCEEDED');
    const tight = new DcmjsDicomReader({ maxDecodedBytes: 4 });
    await expectDicomError(read(buildPart10(small(), { transferSyntaxUid: EXPLICIT }), tight), 'DICOM_LIMIT_EXCEEDED');
  });

  it('refuses native pixel data shorter than the attributes need', async () => {
    await expectDicomError(read(buildPart10(small([], { frames: 3 }), { transferSyntaxUid: EXPLICIT })), 'DICOM_PIXEL_LENGTH_MISMATCH');
  });

  it('refuses a deflate bomb and a corrupt deflate stream', async () => {
    const dataset = encodeDataset(small([el(0x00091010, 'OB', new Uint8Array(16 * 1024 * 1024))]), EXPLICIT_LE);
    const bomb = concat([new Uint8Array(128), new TextEncoder().encode('DICM'), metaGroup(DEFLATED), deflateRawSync(dataset)]);
    expect(bomb.length).toBeLessThan(100_000);
    // 16 MiB of zeros: past the 16 MiB grace at about 1,000:1, so refused even under the default limits.
    await expectDicomError(read(bomb), 'DICOM_INFLATE_LIMIT_EXCEEDED');
    const tight = new DcmjsDicomReader({ inflate: { maxInflatedBytes: 1024 * 1024, maxInflateRatio: 2000 } });
    await expectDicomError(read(bomb, tight), 'DICOM_INFLATE_LIMIT_EXCEEDED');
    const generous = new DcmjsDicomReader({ inflate: { maxInflatedBytes: 64 * 1024 * 1024, maxInflateRatio: 2000 } });
    expect((await read(bomb, generous)).frameCount).toBe(1);
    const corrupt = concat([
      new Uint8Array(128),
      new TextEncoder().encode('DICM'),
      metaGroup(DEFLATED),
      Uint8Array.from({ length: 300 }, (_, i) => (i * 37) % 256),
    ]);
    const error = await read(corrupt).then(
      () => undefined,
      (e: unknown) => e as PlatformError,
    );
    expect(['DICOM_PARSE_FAILED', 'DICOM_TRUNCATED']).toContain(error?.code);
  });

  it('refuses deep nesting quickly, whether lengths are defined or not', async () => {
    for (const [depth, undefinedLength] of [
      [100_000, true],
      [5_000, false],
    ] as const) {
      const started = performance.now();
      const bytes = buildPart10(
        concat([
          encodeDataset(
            small().filter((e) => e.tag < 0x00081115),
            EXPLICIT_LE,
          ),
          nestedSequences(depth, undefinedLength),
          encodeDataset(
            small().filter((e) => e.tag > 0x00081115),
            EXPLICIT_LE,
          ),
        ]),
        { transferSyntaxUid: EXPLICIT },
      );
      await expectDicomError(read(bytes), 'DICOM_LIMIT_EXCEEDED');
      expect(performance.now() - started).toBeLessThan(2000);
    }
    const shallow = buildPart10(
      concat([
        encodeDataset(
          small().filter((e) => e.tag < 0x00081115),
          EXPLICIT_LE,
        ),
        nestedSequences(20, true),
        encodeDataset(
          small().filter((e) => e.tag > 0x00081115),
          EXPLICIT_LE,
        ),
      ]),
      { transferSyntaxUid: EXPLICIT },
    );
    expect(await pixelsOf(shallow)).toEqual([1, 2, 3, 4]);
  });

  it('refuses broken sequences and fragments', async () => {
    const unterminated = concat([
      buildPart10(
        small().filter((e) => e.tag < 0x00081115),
        { transferSyntaxUid: EXPLICIT },
      ),
      tagBytes(0x00081115),
      new TextEncoder().encode('SQ'),
      new Uint8Array(2),
      u32(0xffffffff),
      tagBytes(0xfffee000),
      u32(0xffffffff),
      encodeDataset([el(0x00081150, 'UI', '1.2')], EXPLICIT_LE),
    ]);
    await expectDicomError(read(unterminated), 'DICOM_TRUNCATED');
    const notAnItem = buildPart10(small([el(0x00081115, 'SQ', encodeDataset([el(0x00081150, 'UI', '1.2')], EXPLICIT_LE))]), { transferSyntaxUid: EXPLICIT });
    await expectDicomError(read(notAnItem), 'DICOM_PARSE_FAILED');
    const undefinedFragment = concat([tagBytes(0xfffee000), u32(0), tagBytes(0xfffee000), u32(0xffffffff), new Uint8Array(16)]);
    await expectDicomError(
      read(
        buildPart10(imageDataset({ rows: 2, columns: 2, bitsAllocated: 8, pixelData: el(0x7fe00010, 'OB', undefinedFragment, { undefinedLength: true }) }), {
          transferSyntaxUid: JPEG_LS,
        }),
      ),
      'DICOM_PARSE_FAILED',
    );
  });

  it('refuses wrong VRs where they matter, and accepts them where the value still reads', async () => {
    const badVr = withRawBefore(concat([tagBytes(0x00091010), new TextEncoder().encode('ZZ'), new Uint8Array([2, 0]), new Uint8Array(2)]));
    await expectDicomError(read(badVr), 'DICOM_PARSE_FAILED');
    const rowsAsText = small().map((e) => (e.tag === 0x00280010 ? el(0x00280010, 'LO', 'abc') : e));
    await expectDicomError(read(buildPart10(rowsAsText, { transferSyntaxUid: EXPLICIT })), 'DICOM_IMAGE_ATTRIBUTES_INVALID');
    const rowsAsDs = small().map((e) => (e.tag === 0x00280010 ? el(0x00280010, 'DS', '2') : e));
    expect(await pixelsOf(buildPart10(rowsAsDs, { transferSyntaxUid: EXPLICIT }))).toEqual([1, 2, 3, 4]);
  });

  it.each([
    ['zero rows', { rows: 0 }],
    ['12 bits allocated', { bitsAllocated: 12 }],
    ['an unsupported photometric interpretation', { photometric: 'HSV' }],
    ['RGB with one sample', { photometric: 'RGB' }],
    ['bits stored above bits allocated', { bitsStored: 17 }],
  ] as const)('refuses %s as invalid attributes', async (_label, overrides) => {
    await expectDicomError(read(buildPart10(small([], overrides), { transferSyntaxUid: EXPLICIT })), 'DICOM_IMAGE_ATTRIBUTES_INVALID');
  });

  it('names unsupported transfer syntaxes and missing pixels by code only', async () => {
    await expectDicomError(
      read(buildPart10(small(), { transferSyntaxUid: '1.2.840.10008.1.2.4.100', syntax: EXPLICIT_LE })),
      'DICOM_TRANSFER_SYNTAX_UNSUPPORTED',
    );
    await expectDicomError(read(buildPart10(imageDataset({ rows: 2, columns: 2, bitsAllocated: 16 }), { transferSyntaxUid: EXPLICIT })), 'DICOM_NO_PIXEL_DATA');
  });

  it('fails a corrupt frame with DICOM_PIXEL_DECODE_FAILED, and the next good frame still decodes', async () => {
    const [first] = threeFrames();
    const good = await encodeFrame('jpeg-ls', asBytes(first ?? new Uint16Array()), 24, 32, 1, 16);
    const spec = { rows: 24, columns: 32, bitsAllocated: 16 } as const;
    const corrupt = good.slice();
    corrupt.fill(0x55, 40, 400);
    const mismatched = await encodeFrame('jpeg-ls', new Uint8Array(16 * 16 * 2), 16, 16, 1, 16);
    // 80 × 64 in 1 × 1 tiles: 5120 tiles, above the reader's 4096.
    const tinyTiles = await encodeFrame('j2k', new Uint8Array(80 * 64 * 2), 64, 80, 1, 16);
    new DataView(tinyTiles.buffer, tinyTiles.byteOffset).setUint32(24, 1); // XTsiz
    new DataView(tinyTiles.buffer, tinyTiles.byteOffset).setUint32(28, 1); // YTsiz
    const cases: [string, Uint8Array, string, ImageSpec, ErrorCode][] = [
      ['corrupt entropy data', corrupt, JPEG_LS, spec, 'DICOM_PIXEL_DECODE_FAILED'],
      ['garbage', Uint8Array.from({ length: 600 }, (_, i) => (i * 13) % 256), J2K, spec, 'DICOM_PIXEL_DECODE_FAILED'],
      ['codestream size unlike the attributes', mismatched, JPEG_LS, spec, 'DICOM_PIXEL_DECODE_FAILED'],
      ['a tile grid too fine', tinyTiles, J2K, { rows: 64, columns: 80, bitsAllocated: 16 }, 'DICOM_LIMIT_EXCEEDED'],
      ['an RLE header unlike the attributes', concat([u32(2), u32(64), new Uint8Array(200)]), RLE, spec, 'DICOM_PIXEL_DECODE_FAILED'],
    ];
    for (const [label, codestream, transferSyntaxUid, imageSpec, code] of cases) {
      const instance = await read(encapsulatedFile(transferSyntaxUid, [codestream], imageSpec));
      const error = await expectDicomError(instance.decodeFrame(0), code);
      expect(error.details, label).toMatchObject({ frameIndex: 0 });
      const recovered = await read(encapsulatedFile(JPEG_LS, [good], spec));
      expect(Array.from((await recovered.decodeFrame(0)).pixels)).toEqual(Array.from(first ?? []));
    }
  });

  it('keeps concurrent good decodes working while neighbours fail and the codecs reload', async () => {
    const [first] = threeFrames();
    const spec = { rows: 24, columns: 32, bitsAllocated: 16 } as const;
    const good = await read(encapsulatedFile(JPEG_LS, [await encodeFrame('jpeg-ls', asBytes(first ?? new Uint16Array()), 24, 32, 1, 16)], spec));
    const bad = await read(
      encapsulatedFile(JPEG_LS, [(await encodeFrame('jpeg-ls', asBytes(first ?? new Uint16Array()), 24, 32, 1, 16)).fill(0x55, 40, 400)], spec),
    );
    const results = await Promise.allSettled(Array.from({ length: 24 }, (_, i) => (i % 3 === 0 ? bad : good).decodeFrame(0)));
    results.forEach((result, i) => {
      if (i % 3 === 0) expect(result.status === 'rejected' && (result.reason as PlatformError).code).toBe('DICOM_PIXEL_DECODE_FAILED');
      else expect(result.status === 'fulfilled' && Array.from(result.value.pixels)).toEqual(Array.from(first ?? []));
    });
  });

  it('refuses frame indices the instance does not have', async () => {
    const instance = await read(buildPart10(small(), { transferSyntaxUid: EXPLICIT }));
    for (const index of [-1, 1, 0.5, Number.NaN, Number.POSITIVE_INFINITY]) await expectDicomError(instance.decodeFrame(index), 'DICOM_NO_PIXEL_DATA');
  });

  it('keeps a library error as cause only, never in the message', async () => {
    const [first] = threeFrames();
    const corrupt = (await encodeFrame('jpeg-ls', asBytes(first ?? new Uint16Array()), 24, 32, 1, 16)).fill(0x55, 40, 400);
    const instance = await read(encapsulatedFile(JPEG_LS, [corrupt], { rows: 24, columns: 32, bitsAllocated: 16 }));
    const error = await expectDicomError(instance.decodeFrame(0), 'DICOM_PIXEL_DECODE_FAILED');
    expect(error.message).toBe('The frame could not be decoded');
    expect(error.cause).toBeInstanceOf(Error);
    expect(error.cause).not.toBeInstanceOf(PlatformError);
    const deflate = concat([
      new Uint8Array(128),
      new TextEncoder().encode('DICM'),
      metaGroup(DEFLATED),
      Uint8Array.from({ length: 300 }, (_, i) => (i * 37) % 256),
    ]);
    const inflateError = await read(deflate).then(
      () => undefined,
      (e: unknown) => e as PlatformError,
    );
    expect(inflateError?.cause).toBeInstanceOf(Error);
    expect(inflateError?.message).not.toContain((inflateError?.cause as Error).message);
  });
});

describe('acquisition attributes (for the acquisition monitors)', () => {
  const image = (extra: ElementSpec[]): ElementSpec[] => nativeImage({ rows: 2, columns: 2, bitsAllocated: 8, values: [0, 1, 2, 3], modality: 'DX', extra });

  it.each([
    ['explicit VR little endian', EXPLICIT],
    ['implicit VR little endian', IMPLICIT],
    ['explicit VR big endian', BIG_ENDIAN],
  ] as const)('reads Software Versions (every value), KVP and Pixel Spacing (%s)', async (_label, transferSyntaxUid) => {
    const bytes = buildPart10(image([el(0x00180060, 'DS', '84.5 '), el(0x00181020, 'LO', 'VX 3.1\\PLC 2 '), el(0x00280030, 'DS', '0.143\\0.150')]), {
      transferSyntaxUid,
    });
    const { attributes } = await read(bytes);
    expect(attributes.softwareVersions).toEqual(['VX 3.1', 'PLC 2']);
    expect(attributes.kvp).toBe(84.5);
    expect(attributes.pixelSpacingMm).toEqual([0.143, 0.15]);
  });

  it('takes Imager Pixel Spacing when Pixel Spacing is absent or a zero placeholder, Pixel Spacing when both are stated', async () => {
    const imagerOnly = await read(buildPart10(image([el(0x00181164, 'DS', '0.1\\0.1')]), { transferSyntaxUid: EXPLICIT }));
    expect(imagerOnly.attributes.pixelSpacingMm).toEqual([0.1, 0.1]);
    const placeholder = await read(
      buildPart10(image([el(0x00181164, 'DS', '0.1\\0.1'), el(0x00280030, 'DS', '0.000\\0.000')]), { transferSyntaxUid: EXPLICIT }),
    );
    expect(placeholder.attributes.pixelSpacingMm).toEqual([0.1, 0.1]);
    const both = await read(buildPart10(image([el(0x00181164, 'DS', '0.1\\0.1'), el(0x00280030, 'DS', '0.12\\0.12')]), { transferSyntaxUid: EXPLICIT }));
    expect(both.attributes.pixelSpacingMm).toEqual([0.12, 0.12]);
  });

  it('states nothing it cannot read as a value: absent, empty, zero, one spacing value, or text where a number belongs', async () => {
    const none = await read(buildPart10(image([]), { transferSyntaxUid: EXPLICIT }));
    const bad = await read(
      buildPart10(image([el(0x00180060, 'DS', '0'), el(0x00181020, 'LO', '  '), el(0x00280030, 'DS', '0.2'), el(0x00181164, 'DS', 'abc\\0.1')]), {
        transferSyntaxUid: EXPLICIT,
      }),
    );
    for (const { attributes } of [none, bad]) {
      expect(attributes).not.toHaveProperty('softwareVersions');
      expect(attributes).not.toHaveProperty('kvp');
      expect(attributes).not.toHaveProperty('pixelSpacingMm');
    }
  });
});
