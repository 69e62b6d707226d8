import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { writeFileDurably } from './write-file-durably.js';

let dir: string;
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('writeFileDurably', () => {
  it('writes the whole file owner-only, creating the folder, and leaves no temporary file', async () => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-durable-'));
    const target = join(dir, 'a', 'b', 'file.bin');
    await writeFileDurably(target, new Uint8Array([1, 2, 3]));
    await writeFileDurably(target, new Uint8Array([4, 5]));
    expect([...readFileSync(target)]).toEqual([4, 5]);
    expect(statSync(target).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'a')).mode & 0o777).toBe(0o700);
    expect(readdirSync(join(dir, 'a', 'b'))).toEqual(['file.bin']);
  });

  it('leaves no temporary file when the rename fails', async () => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-durable-'));
    const target = join(dir, 'occupied');
    await writeFileDurably(join(target, 'inside'), new Uint8Array([1])); // makes `occupied` a non-empty folder
    await expect(writeFileDurably(target, new Uint8Array([2]))).rejects.toThrow();
    expect(readdirSync(dir)).toEqual(['occupied']);
  });
});
