import { zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { PACK_LIMITS } from '../../domain/release/evidence-pack.js';
import { unzipEvidencePack, zipEvidencePack } from './evidence-zip.js';

describe('unzipEvidencePack', () => {
  it('refuses a zip of more members than a pack holds, naming the member count (not the size)', () => {
    const entries: Record<string, Uint8Array> = {};
    for (let i = 0; i < 10_000; i++) entries[`f${i}`] = new Uint8Array(0);
    expect(() => unzipEvidencePack(zipSync(entries))).toThrow(
      expect.objectContaining({
        code: 'RELEASE_EVIDENCE_INVALID',
        message: `The evidence pack holds more than ${PACK_LIMITS.maxFiles} files, the most a pack holds (no pack Vigil writes is larger)`,
      }),
    );
  });

  it('refuses a zip that unpacks to more bytes than a pack holds, naming the size (not the count)', () => {
    const big = zipSync({ 'a.bin': new Uint8Array(PACK_LIMITS.maxBytes + 1) }, { level: 1 });
    expect(() => unzipEvidencePack(big)).toThrow(
      expect.objectContaining({
        code: 'RELEASE_EVIDENCE_INVALID',
        message: `The evidence pack unpacks to more than ${PACK_LIMITS.maxBytes} bytes (64 MiB), the most a pack holds (no pack Vigil writes is larger)`,
      }),
    );
  });

  it('reads back what it zipped', () => {
    const files = new Map([['manifest.json', new TextEncoder().encode('{}')]]);
    expect(unzipEvidencePack(zipEvidencePack(files))).toEqual(files);
  });
});
