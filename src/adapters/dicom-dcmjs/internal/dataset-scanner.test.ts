import { describe, expect, it } from 'vitest';
import { PIXEL_DATA_TAG, scanDataset, type ScanOptions } from './dataset-scanner.js';
import { EXPLICIT_LE, IMPLICIT_LE, concat, el, encodeDataset, fragmentsValue, nestedSequences, tagBytes, u32 } from './test-builders.js';

const options = (overrides: Partial<ScanOptions> = {}): ScanOptions => ({
  syntax: EXPLICIT_LE,
  keepSequences: new Set([0x52009230]),
  dictionaryVr: (tag) => (tag === 0x52009230 || tag === 0x00081115 ? 'SQ' : undefined),
  maxSequenceDepth: 8,
  maxFragments: 16,
  stopAfterTag: PIXEL_DATA_TAG,
  ...overrides,
});

describe('scanDataset', () => {
  it('records top-level elements, kept sequence items, and fragments with their item offsets', () => {
    const bytes = encodeDataset(
      [
        el(0x00280010, 'US', [4]),
        el(0x52009230, 'SQ', [[el(0x00281053, 'DS', '2')], [el(0x00281053, 'DS', '3')]], { undefinedLength: true }),
        el(0x7fe00010, 'OB', fragmentsValue([new Uint8Array(4), new Uint8Array(6)], [0]), { undefinedLength: true }),
        el(0x7fe10010, 'OB', new Uint8Array(2)),
      ],
      EXPLICIT_LE,
    );
    const top = scanDataset(bytes, options());
    expect([...top.keys()]).toEqual([0x00280010, 0x52009230, PIXEL_DATA_TAG]); // stops after Pixel Data
    const items = top.get(0x52009230)?.items ?? [];
    expect(items).toHaveLength(2);
    expect(items[1]?.get(0x00281053)?.valueLength).toBe(2);
    const fragments = top.get(PIXEL_DATA_TAG)?.fragments ?? [];
    expect(fragments.map((f) => f.length)).toEqual([4, 4, 6]);
    expect((fragments[2]?.itemOffset ?? 0) - (fragments[1]?.itemOffset ?? 0)).toBe(12);
  });

  it('finds sequences in implicit VR through the dictionary', () => {
    const bytes = encodeDataset([el(0x52009230, 'SQ', [[el(0x00281053, 'DS', '2')]])], IMPLICIT_LE);
    expect(scanDataset(bytes, options({ syntax: IMPLICIT_LE })).get(0x52009230)?.items).toHaveLength(1);
  });

  it('distinguishes truncation from a length that breaks its container', () => {
    const truncated = concat([
      encodeDataset([el(0x00280010, 'US', [4])], EXPLICIT_LE),
      tagBytes(0x00091010),
      new TextEncoder().encode('OB'),
      new Uint8Array(2),
      u32(1000),
    ]);
    expect(() => scanDataset(truncated, options())).toThrow(expect.objectContaining({ code: 'DICOM_TRUNCATED' }));
    const overflowing = encodeDataset(
      [el(0x00081115, 'SQ', [[el(0x00080100, 'SH', 'X', { length: 40 })]]), el(0x00280010, 'US', [4]), el(0x00280011, 'OB', new Uint8Array(64))],
      EXPLICIT_LE,
    );
    expect(() => scanDataset(overflowing, options())).toThrow(expect.objectContaining({ code: 'DICOM_PARSE_FAILED' }));
  });

  it('bounds nesting and fragment count', () => {
    expect(() => scanDataset(nestedSequences(9, true), options())).toThrow(expect.objectContaining({ code: 'DICOM_LIMIT_EXCEEDED' }));
    expect(scanDataset(nestedSequences(8, false), options()).size).toBe(1);
    const many = encodeDataset(
      [el(0x7fe00010, 'OB', fragmentsValue(Array.from({ length: 16 }, () => new Uint8Array(2))), { undefinedLength: true })],
      EXPLICIT_LE,
    );
    expect(() => scanDataset(many, options())).toThrow(expect.objectContaining({ code: 'DICOM_LIMIT_EXCEEDED' }));
  });

  it('reads an undefined-length UN value as an implicit little endian sequence (PS3.5 6.2.2)', () => {
    const items = encodeDataset([el(0x00081115, 'SQ', [[el(0x00080100, 'SH', 'AB')]], { undefinedLength: true })], IMPLICIT_LE).subarray(8);
    const bytes = concat([
      tagBytes(0x00091010),
      new TextEncoder().encode('UN'),
      new Uint8Array(2),
      u32(0xffffffff),
      items,
      encodeDataset([el(0x00280010, 'US', [4])], EXPLICIT_LE),
    ]);
    expect([...scanDataset(bytes, options()).keys()]).toEqual([0x00091010, 0x00280010]);
  });
});
