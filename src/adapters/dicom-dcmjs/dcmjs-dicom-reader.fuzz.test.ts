/**
 * Property: whatever the bytes, readInstance and decodeFrame either succeed with a consistent frame or reject
 * with a PlatformError whose code is DICOM_*, in bounded time, printing nothing. Inputs are mutations of
 * files built in code and, when present, of the small sample files: byte flips, truncations, lengths
 * overwritten with huge values, inserted and duplicated chunks, spliced deep nesting, pure garbage.
 * Fixed seed and run count, so a failure replays.
 */
import fc from 'fast-check';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spyOnAllOutput } from '../../../test/helpers/output-spies.js';
import { PlatformError } from '../../domain/errors.js';
import { DcmjsDicomReader } from './dcmjs-dicom-reader.js';
import { Context, NativeCodecs } from './internal/libraries.js';
import {
  buildPart10,
  concat,
  el,
  fragmentsValue,
  imageDataset,
  nestedSequences,
  sampleBytes,
  splitInto,
  u32,
  type ElementSpec,
} from './internal/test-builders.js';

const SEED = 20261124;
const RUNS = 200;
/** Per input: the slowest legitimate case here (30 JPEG frames, a 16 MB deflate) takes well under a second. */
const MAX_MS_PER_INPUT = 5000;

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const sampleDir = resolve(repoRoot, process.env['VIGIL_SAMPLE_DATA'] ?? '../shared/data', 'dicom-samples');
const SMALL_SAMPLES = [
  'ct_small_explicitLE.dcm',
  'mr_small_explicitLE.dcm',
  'mr_small_implicitLE.dcm',
  'mr_small_bigendian.dcm',
  'mr_small_rle.dcm',
  'mr_small_jpegls.dcm',
  'mr_small_j2k_lossless.dcm',
  'nm_jpeg_extended_12bit.dcm',
  'sc_rgb_jpeg_baseline.dcm',
  'deflated.dcm',
  'ct_enhanced_2frame_jpegls_fragmented.dcm',
  'us_multiframe30_jpeg_baseline.dcm',
];

async function syntheticCorpus(): Promise<Uint8Array[]> {
  if (!NativeCodecs.isInitialized()) await NativeCodecs.initializeAsync();
  const values = Array.from({ length: 16 * 12 }, (_, i) => (i * 37) % 4096);
  const frame = sampleBytes(values, 16);
  const context = new Context({
    width: 12,
    height: 16,
    bitsAllocated: 16,
    bitsStored: 16,
    samplesPerPixel: 1,
    pixelRepresentation: 0,
    planarConfiguration: 0,
    photometricInterpretation: 'MONOCHROME2',
    decodedBuffer: frame,
  });
  const jpegLs = NativeCodecs.encodeJpegLs(context, { lossy: false }).getEncodedBuffer()?.slice() ?? new Uint8Array();
  const rle = NativeCodecs.encodeRle(context).getEncodedBuffer()?.slice() ?? new Uint8Array();
  const fg: ElementSpec[] = [
    el(0x52009229, 'SQ', [[el(0x00289132, 'SQ', [[el(0x00281050, 'DS', '40\\400'), el(0x00281051, 'DS', '80\\1000')]], { undefinedLength: true })]], {
      undefinedLength: true,
    }),
    el(0x52009230, 'SQ', [
      [el(0x00289145, 'SQ', [[el(0x00281052, 'DS', '-1024'), el(0x00281053, 'DS', '1')]])],
      [el(0x00289145, 'SQ', [[el(0x00281052, 'DS', '0'), el(0x00281053, 'DS', '2')]])],
    ]),
  ];
  const native = (extra: ElementSpec[] = [], frames?: number): ElementSpec[] =>
    imageDataset({
      rows: 16,
      columns: 12,
      bitsAllocated: 16,
      bitsStored: 12,
      ...(frames ? { frames } : {}),
      pixelData: el(0x7fe00010, 'OW', frames ? concat([frame, frame]) : frame),
      extra,
    });
  const encapsulated = (fragments: Uint8Array[], frames?: number): ElementSpec[] =>
    imageDataset({
      rows: 16,
      columns: 12,
      bitsAllocated: 16,
      ...(frames ? { frames } : {}),
      pixelData: el(0x7fe00010, 'OB', fragmentsValue(fragments), { undefinedLength: true }),
    });
  return [
    buildPart10(native(), { transferSyntaxUid: '1.2.840.10008.1.2.1' }),
    buildPart10(native(), { transferSyntaxUid: '1.2.840.10008.1.2' }),
    buildPart10(native(fg, 2), { transferSyntaxUid: '1.2.840.10008.1.2.1' }),
    buildPart10(native(fg, 2), { transferSyntaxUid: '1.2.840.10008.1.2.1.99' }),
    buildPart10(encapsulated([...splitInto(jpegLs, 3), ...splitInto(jpegLs, 2)], 2), { transferSyntaxUid: '1.2.840.10008.1.2.4.80' }),
    buildPart10(encapsulated([rle]), { transferSyntaxUid: '1.2.840.10008.1.2.5' }),
  ];
}

type Mutation =
  | { readonly kind: 'flip'; readonly at: readonly (readonly [number, number])[] }
  | { readonly kind: 'truncate'; readonly at: number }
  | { readonly kind: 'hugeLength'; readonly at: number; readonly value: number }
  | { readonly kind: 'insert'; readonly at: number; readonly bytes: Uint8Array }
  | { readonly kind: 'duplicate'; readonly from: number; readonly length: number; readonly at: number }
  | { readonly kind: 'nest'; readonly at: number; readonly depth: number; readonly undefinedLength: boolean }
  | { readonly kind: 'garbage'; readonly bytes: Uint8Array; readonly signature: boolean };

const position = fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true });

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('flip' as const),
      at: fc.array(fc.tuple(position, fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 16 }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('truncate' as const), at: position }) },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('hugeLength' as const),
      at: position,
      value: fc.constantFrom(0xffffffff, 0xfffffffe, 0x7ffffff0, 0x00ffffff, 0x10000),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('insert' as const), at: position, bytes: fc.uint8Array({ minLength: 1, maxLength: 64 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('duplicate' as const), from: position, length: fc.integer({ min: 1, max: 4096 }), at: position }) },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('nest' as const), at: position, depth: fc.integer({ min: 1, max: 3000 }), undefinedLength: fc.boolean() }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('garbage' as const), bytes: fc.uint8Array({ maxLength: 4096 }), signature: fc.boolean() }) },
);

function mutate(base: Uint8Array, m: Mutation): Uint8Array {
  const index = (fraction: number): number => Math.floor(fraction * base.length);
  switch (m.kind) {
    case 'flip': {
      const out = base.slice();
      for (const [at, value] of m.at) out[index(at)] = value;
      return out;
    }
    case 'truncate':
      return base.slice(0, index(m.at));
    case 'hugeLength': {
      const out = base.slice();
      const at = Math.min(index(m.at) & ~1, Math.max(0, out.length - 4));
      out.set(u32(m.value).subarray(0, Math.max(0, Math.min(4, out.length - at))), at);
      return out;
    }
    case 'insert':
      return concat([base.subarray(0, index(m.at)), m.bytes, base.subarray(index(m.at))]);
    case 'duplicate':
      return concat([base.subarray(0, index(m.at)), base.subarray(index(m.from), index(m.from) + m.length), base.subarray(index(m.at))]);
    case 'nest':
      return concat([base.subarray(0, index(m.at) & ~1), nestedSequences(m.depth, m.undefinedLength), base.subarray(index(m.at) & ~1)]);
    case 'garbage':
      return m.signature ? concat([new Uint8Array(128), new TextEncoder().encode('DICM'), m.bytes]) : m.bytes;
  }
}

describe('DcmjsDicomReader under mutated input', () => {
  const reader = new DcmjsDicomReader();
  const corpus: Uint8Array[] = [];
  let printing: ReturnType<typeof spyOnAllOutput> | undefined;

  beforeAll(async () => {
    corpus.push(...(await syntheticCorpus()));
    for (const name of SMALL_SAMPLES) {
      const path = resolve(sampleDir, name);
      if (existsSync(path)) corpus.push(readFileSync(path));
    }
    printing = spyOnAllOutput();
  });

  afterAll(() => {
    printing?.restore();
  });

  it(`succeeds consistently or fails with a DICOM_* PlatformError, quickly and silently (seed ${SEED}, ${RUNS} runs)`, async () => {
    const outcomes = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(fc.nat(), mutation, async (pick, m) => {
        const base = corpus[pick % corpus.length] ?? new Uint8Array();
        const bytes = mutate(base, m);
        const started = performance.now();
        let outcome = 'ok';
        try {
          const instance = await reader.readInstance(bytes);
          const last = instance.frameCount - 1;
          for (const index of new Set([0, Math.floor(last / 2), last])) {
            const frame = await instance.decodeFrame(index);
            expect(frame.pixels.length).toBe(frame.rows * frame.columns * frame.samplesPerPixel);
            expect(['MONOCHROME1', 'MONOCHROME2', 'RGB']).toContain(frame.attributes.photometricInterpretation);
          }
        } catch (error) {
          if (!(error instanceof PlatformError) || !error.code.startsWith('DICOM_')) throw error;
          outcome = error.code;
        }
        outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
        expect(performance.now() - started).toBeLessThan(MAX_MS_PER_INPUT);
      }),
      { seed: SEED, numRuns: RUNS, endOnFailure: true },
    );
    const printed = printing?.count();
    expect(printed, 'nothing may be printed').toBe(0);
    // Both sides of the property are exercised.
    expect(outcomes.get('ok') ?? 0).toBeGreaterThan(0);
    expect([...outcomes.keys()].filter((key) => key !== 'ok').length).toBeGreaterThan(2);
  });
});
