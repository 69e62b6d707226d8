import { describe, expect, it } from 'vitest';
import { PlatformError } from '../../../domain/errors.js';
import { DEFAULT_INFLATE_LIMITS, INFLATE_GRACE_BYTES, inflatedByteLimit, locateDataset, readPart10Header, type InflateLimits } from './part10.js';
import { SYNTHETIC_IDENTIFIERS, buildPart10, deflatedBomb, el, encodeDataset, EXPLICIT_LE, imageDataset } from './test-builders.js';

const DEFLATED = '1.2.840.10008.1.2.1.99';
const MiB = 1024 ** 2;

async function refusal(bytes: Uint8Array, limits: InflateLimits): Promise<PlatformError> {
  const error = await locateDataset(bytes, limits).then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof PlatformError)) throw new Error('expected a PlatformError');
  return error;
}

/** A 16-bit image whose pixels deflate like a real acquisition (a few to one), not like a blank one. */
function noisyImage(rows: number, columns: number): Uint8Array {
  const pixels = new Uint8Array(rows * columns * 2);
  let x = 0x9e3779b9;
  for (let i = 0; i < rows * columns; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    const value = 1000 + ((i % columns) >> 2) + (x & 0x3f);
    pixels[2 * i] = value & 0xff;
    pixels[2 * i + 1] = value >> 8;
  }
  return encodeDataset(imageDataset({ rows, columns, bitsAllocated: 16, bitsStored: 12, pixelData: el(0x7fe00010, 'OW', pixels) }), EXPLICIT_LE);
}

describe('inflatedByteLimit', () => {
  it('is the ratio times the deflated size, at least the grace and at most the byte limit', () => {
    expect(inflatedByteLimit(1_000, DEFAULT_INFLATE_LIMITS)).toBe(INFLATE_GRACE_BYTES);
    expect(inflatedByteLimit(1_000_000, DEFAULT_INFLATE_LIMITS)).toBe(100_000_000);
    expect(inflatedByteLimit(1_000_000_000, DEFAULT_INFLATE_LIMITS)).toBe(DEFAULT_INFLATE_LIMITS.maxInflatedBytes);
    expect(inflatedByteLimit(1_000, { maxInflatedBytes: 4096, maxInflateRatio: 100 })).toBe(4096);
  });
});

describe('locateDataset, Deflated Explicit VR Little Endian', () => {
  it('inflates a real-looking instance under the default limits', async () => {
    // 17 MiB inflated: past the grace, so the ratio applies (and holds, at a few to one).
    const dataset = noisyImage(2048, 4352);
    expect(dataset.length).toBeGreaterThan(INFLATE_GRACE_BYTES);
    const file = buildPart10(dataset, { transferSyntaxUid: DEFLATED });
    expect(dataset.length / file.length).toBeLessThan(10);
    const located = await locateDataset(file, DEFAULT_INFLATE_LIMITS);
    expect(Buffer.from(located.dataset).equals(Buffer.from(dataset))).toBe(true);
    expect(located.mediaStorageSopInstanceUid).toBe(SYNTHETIC_IDENTIFIERS.sopInstanceUid);
  });

  it('lets a small blank image through whatever its ratio (the grace)', async () => {
    const blank = encodeDataset(
      imageDataset({ rows: 2048, columns: 2048, bitsAllocated: 16, pixelData: el(0x7fe00010, 'OW', new Uint8Array(8 * MiB)) }),
      EXPLICIT_LE,
    );
    const file = buildPart10(blank, { transferSyntaxUid: DEFLATED });
    expect(blank.length / file.length).toBeGreaterThan(500);
    expect((await locateDataset(file, DEFAULT_INFLATE_LIMITS)).dataset.length).toBe(blank.length);
  });

  it('refuses a dataset past the byte limit with DICOM_INFLATE_LIMIT_EXCEEDED, saying the limits and nothing else', async () => {
    const bomb = deflatedBomb(4 * MiB);
    const error = await refusal(bomb, { maxInflatedBytes: MiB, maxInflateRatio: 2000 });
    expect(error.code).toBe('DICOM_INFLATE_LIMIT_EXCEEDED');
    expect(error.details).toEqual({ limitBytes: MiB, deflatedBytes: readPart10Header(bomb).body.length, maxInflatedBytes: MiB, maxInflateRatio: 2000 });
    expect(error.cause).toBeUndefined();
    // Raised, the same file passes.
    expect((await locateDataset(bomb, { maxInflatedBytes: 8 * MiB, maxInflateRatio: 2000 })).dataset.length).toBeGreaterThan(4 * MiB);
  });

  it('refuses a dataset past the ratio once past the grace, and a ratio raised past DEFLATE’s ceiling lets it through', async () => {
    const bomb = deflatedBomb(32 * MiB);
    const error = await refusal(bomb, DEFAULT_INFLATE_LIMITS);
    expect(error.code).toBe('DICOM_INFLATE_LIMIT_EXCEEDED');
    expect(error.details['limitBytes']).toBe(INFLATE_GRACE_BYTES);
    expect((await locateDataset(bomb, { ...DEFAULT_INFLATE_LIMITS, maxInflateRatio: 1100 })).dataset.length).toBeGreaterThan(32 * MiB);
  });

  it('refuses a truncated or corrupt deflate stream with DICOM_TRUNCATED or DICOM_PARSE_FAILED', async () => {
    const file = buildPart10(noisyImage(64, 64), { transferSyntaxUid: DEFLATED });
    expect((await refusal(file.subarray(0, file.length - 100), DEFAULT_INFLATE_LIMITS)).code).toBe('DICOM_TRUNCATED');
    const header = readPart10Header(file);
    const corrupt = new Uint8Array(file);
    corrupt.set(new TextEncoder().encode('garbage'), file.length - header.body.length);
    expect((await refusal(corrupt, DEFAULT_INFLATE_LIMITS)).code).toBe('DICOM_PARSE_FAILED');
  });
});

describe('readPart10Header', () => {
  it('names a deflated instance from its meta group without inflating it', () => {
    const header = readPart10Header(deflatedBomb(2 ** 31));
    expect(header.transferSyntax.deflated).toBe(true);
    expect(header.mediaStorageSopClassUid).toBe('1.2.840.10008.5.1.4.1.1.7');
    expect(header.mediaStorageSopInstanceUid).toBe(SYNTHETIC_IDENTIFIERS.sopInstanceUid);
  });
});
