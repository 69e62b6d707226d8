import { mkdtemp, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { PACK_LIMITS } from '../../domain/release/evidence-pack.js';
import { readEvidencePackFile, unzipEvidencePack, zipEvidencePack } from './evidence-zip.js';

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

describe('readEvidencePackFile', () => {
  it('refuses a pack file over 65 MiB (64 MiB stored and 1 MiB of zip headers) with INPUT_TOO_LARGE before reading it; one at the bound is read', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vigil-pack-file-'));
    try {
      const file = join(dir, 'pack.zip');
      await writeFile(file, '');
      // A sparse file: its size is what is checked.
      await truncate(file, 65 * 1024 * 1024 + 1);
      await expect(readEvidencePackFile(file)).rejects.toMatchObject({ code: 'INPUT_TOO_LARGE', message: expect.stringContaining(String(65 * 1024 * 1024)) });
      await truncate(file, 65 * 1024 * 1024);
      expect((await readEvidencePackFile(file)).length).toBe(65 * 1024 * 1024);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
