import { describe, expect, it } from 'vitest';
import { checkCodestream } from './codestream-header.js';
import { concat, u32 } from './test-builders.js';

const frame = { rows: 16, columns: 32, samplesPerPixel: 1, bitsAllocated: 16 } as const;

function jpegHeader(marker: number, height: number, width: number, components: number): Uint8Array {
  const app0 = [0xff, 0xe0, 0x00, 0x04, 0x00, 0x00];
  return Uint8Array.from([
    0xff,
    0xd8,
    ...app0,
    0xff,
    0xff,
    0xff,
    marker,
    0x00,
    0x0b,
    16,
    height >> 8,
    height & 0xff,
    width >> 8,
    width & 0xff,
    components,
    1,
    0x11,
    0,
  ]);
}

function sizHeader(width: number, height: number, tile: number, components: number): Uint8Array {
  const be16 = (v: number): number[] => [v >> 8, v & 0xff];
  const be32 = (v: number): Uint8Array => u32(v, false);
  return concat([
    Uint8Array.from([0xff, 0x4f, 0xff, 0x51, ...be16(41), 0, 0]),
    be32(width),
    be32(height),
    be32(0),
    be32(0),
    be32(tile),
    be32(tile),
    be32(0),
    be32(0),
    Uint8Array.from(be16(components)),
    new Uint8Array(3 * components),
  ]);
}

describe('checkCodestream', () => {
  it('accepts headers that match, skipping JPEG segments and fill bytes', () => {
    expect(() => checkCodestream('jpeg', jpegHeader(0xc3, 16, 32, 1), frame)).not.toThrow();
    expect(() => checkCodestream('jpeg-ls', jpegHeader(0xf7, 16, 32, 1), frame)).not.toThrow();
    expect(() => checkCodestream('jpeg2000', sizHeader(32, 16, 32, 1), frame)).not.toThrow();
  });

  it('refuses a codestream whose size or components differ from the attributes', () => {
    expect(() => checkCodestream('jpeg', jpegHeader(0xc1, 60000, 60000, 1), frame)).toThrow(expect.objectContaining({ code: 'DICOM_PIXEL_DECODE_FAILED' }));
    expect(() => checkCodestream('jpeg', jpegHeader(0xc0, 16, 32, 3), frame)).toThrow(expect.objectContaining({ code: 'DICOM_PIXEL_DECODE_FAILED' }));
    expect(() => checkCodestream('htj2k', sizHeader(33, 16, 64, 1), frame)).toThrow(expect.objectContaining({ code: 'DICOM_PIXEL_DECODE_FAILED' }));
    expect(() => checkCodestream('jpeg', Uint8Array.from([0xff, 0xd8, 0xff, 0xda, 0, 2]), frame)).toThrow(
      expect.objectContaining({ code: 'DICOM_PIXEL_DECODE_FAILED' }),
    );
  });

  it('refuses a JPEG 2000 tile grid above the limit', () => {
    expect(() => checkCodestream('jpeg2000', sizHeader(32, 16, 1, 1), { ...frame })).not.toThrow(); // 512 tiles
    expect(() => checkCodestream('jpeg2000', sizHeader(128, 64, 1, 1), { ...frame, rows: 64, columns: 128 })).toThrow(
      expect.objectContaining({ code: 'DICOM_LIMIT_EXCEEDED' }),
    );
  });

  it('checks the RLE segment table against the attributes', () => {
    const header = (segments: number, offsets: number[]): Uint8Array =>
      concat([u32(segments), ...offsets.map((o) => u32(o)), new Uint8Array(4 * (15 - offsets.length)), new Uint8Array(32)]);
    expect(() => checkCodestream('rle', header(2, [64, 80]), frame)).not.toThrow();
    expect(() => checkCodestream('rle', header(1, [64]), frame)).toThrow(expect.objectContaining({ code: 'DICOM_PIXEL_DECODE_FAILED' }));
    expect(() => checkCodestream('rle', header(2, [60, 80]), frame)).toThrow(expect.objectContaining({ code: 'DICOM_PIXEL_DECODE_FAILED' }));
  });
});
