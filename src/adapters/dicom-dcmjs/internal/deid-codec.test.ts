import { describe, expect, it } from 'vitest';
import { parseForDeid, writeDataset } from './deid-codec.js';
import { DEFAULT_INFLATE_LIMITS } from './part10.js';
import { buildPart10, el, encodeDataset, imageDataset, syntaxOf } from './test-builders.js';

describe('deid-codec text values', () => {
  // Regression (Node 24): TextDecoder('latin1') is windows-1252, which rewrote bytes 0x80–0x9F, so a UTF-8
  // name such as 山田 (E5 B1 B1 E7 94 B0) came out of de-identification corrupted.
  it('carries every byte value of a text element through parse and write unchanged', async () => {
    const everyByte = Uint8Array.from({ length: 256 }, (_, i) => (i === 0 ? 0x41 : i));
    const dataset = imageDataset({ rows: 1, columns: 1, bitsAllocated: 8, pixelData: el(0x7fe00010, 'OB', new Uint8Array(2)) })
      .filter((e) => e.tag !== 0x00081030)
      .concat([el(0x00081030, 'LO', everyByte)])
      .sort((a, b) => a.tag - b.tag);
    const syntax = syntaxOf('1.2.840.10008.1.2.1');
    const parsed = await parseForDeid(buildPart10(dataset, { transferSyntaxUid: '1.2.840.10008.1.2.1' }), DEFAULT_INFLATE_LIMITS);
    expect(Buffer.from(writeDataset(parsed.dataset, syntax)).equals(Buffer.from(encodeDataset(dataset, syntax)))).toBe(true);
  });
});
