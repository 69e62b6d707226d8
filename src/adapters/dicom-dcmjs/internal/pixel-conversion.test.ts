import { describe, expect, it } from 'vitest';
import { applyPalette, expandYbr422, planarToInterleaved, readSamples, unpackBits, ybrFullToRgb } from './pixel-conversion.js';
import { sampleBytes } from './test-builders.js';

describe('readSamples', () => {
  it('swaps big-endian words and sign-extends from Bits Stored', () => {
    const samples = readSamples(sampleBytes([0x0fff, 0x0800, 0x07ff], 16, false), 3, { bitsAllocated: 16, bitsStored: 12, signed: true }, false);
    expect(samples).toBeInstanceOf(Int16Array);
    expect(Array.from(samples)).toEqual([-1, -2048, 2047]);
  });

  it('masks unsigned 32-bit values and copies (never aliases) the input', () => {
    const bytes = sampleBytes([0xffffffff, 0x00012345], 32);
    const samples = readSamples(bytes, 2, { bitsAllocated: 32, bitsStored: 16, signed: false }, true);
    expect(Array.from(samples)).toEqual([0xffff, 0x2345]);
    expect(samples.buffer).not.toBe(bytes.buffer);
  });

  it('reads fewer samples than bytes when asked', () => {
    expect(Array.from(readSamples(Uint8Array.from([1, 2, 3, 4]), 2, { bitsAllocated: 8, bitsStored: 8, signed: false }, true))).toEqual([1, 2]);
  });
});

describe('colour', () => {
  it('interleaves planes and expands 4:2:2 pairs', () => {
    expect(Array.from(planarToInterleaved(Uint8Array.from([1, 2, 3, 4, 5, 6]), 2))).toEqual([1, 3, 5, 2, 4, 6]);
    expect(Array.from(expandYbr422(Uint8Array.from([10, 20, 30, 40]), 2))).toEqual([10, 30, 40, 20, 30, 40]);
  });

  it('converts YBR_FULL to RGB, neutral chroma staying grey, at 8 and 16 bits', () => {
    const eight = Uint8Array.from([77, 128, 128, 0, 128, 128]);
    ybrFullToRgb(eight, 8);
    expect(Array.from(eight)).toEqual([77, 77, 77, 0, 0, 0]);
    const sixteen = Uint16Array.from([40000, 32768, 32768, 65535, 0, 65535]);
    ybrFullToRgb(sixteen, 16);
    expect(Array.from(sixteen.slice(0, 3))).toEqual([40000, 40000, 40000]);
    expect(sixteen[0]).toBeLessThanOrEqual(65535);
  });

  it('clamps palette indices to the table', () => {
    const table = Uint16Array.from([5, 6, 7]);
    const rgb = applyPalette(Int16Array.from([-5, 101, 102, 500]), { firstMapped: 100, bits: 8, red: table, green: table, blue: table });
    expect(rgb).toBeInstanceOf(Uint8Array);
    expect(Array.from(rgb)).toEqual([5, 5, 5, 6, 6, 6, 7, 7, 7, 7, 7, 7]);
  });
});

describe('unpackBits', () => {
  it('reads bits from the least significant end, from any bit offset', () => {
    expect(Array.from(unpackBits(Uint8Array.from([0b10000001, 0b00000001]), 7, 3))).toEqual([1, 1, 0]);
  });
});
