/**
 * A file system without hard links (exFAT or FAT on a USB stick, some network shares): link(2) fails with
 * EPERM there. No such file system can be mounted on a test machine, so link alone is made to fail as it
 * would; every other call is the real one.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as FsPromises from 'node:fs/promises';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { writeFileDurably } from './write-file-durably.js';

vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof FsPromises>();
  const noLinks = (): Promise<void> => Promise.reject(Object.assign(new Error('EPERM: operation not permitted, link'), { code: 'EPERM' }));
  return { ...real, default: { ...real, link: noLinks }, link: noLinks };
});

let dir: string;
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('writeFileDurably without hard links', () => {
  it("with withoutLinks 'copy-exclusive', keeps an existing file and writes a new one whole", async () => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-durable-nolinks-'));
    const target = join(dir, 'a', 'file.bin');
    expect(await writeFileDurably(target, Uint8Array.of(1, 2), { replace: false, withoutLinks: 'copy-exclusive' })).toBe('written');
    expect(await writeFileDurably(target, Uint8Array.of(3), { replace: false, withoutLinks: 'copy-exclusive' })).toBe('exists');
    expect([...readFileSync(target)]).toEqual([1, 2]);
    expect(readdirSync(join(dir, 'a'))).toEqual(['file.bin']);
  });

  it('by default (rename) the last writer wins, as documented for stores that may replace', async () => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-durable-nolinks-'));
    const target = join(dir, 'file.bin');
    writeFileSync(target, 'old');
    expect(await writeFileDurably(target, Uint8Array.of(7), { replace: false })).toBe('written');
    expect([...readFileSync(target)]).toEqual([7]);
  });
});
