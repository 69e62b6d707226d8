import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readBoundedFile } from './read-bounded-file.js';

const dir = mkdtempSync(join(tmpdir(), 'vigil-bounded-file-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('readBoundedFile', () => {
  it('reads a file of at most the bound', async () => {
    const path = join(dir, 'ten.txt');
    writeFileSync(path, '0123456789');
    expect(Buffer.from(await readBoundedFile(path, 'answers file', 10)).toString()).toBe('0123456789');
  });

  it('refuses, coded and naming the file by what it is: larger than the bound, missing, a directory', async () => {
    const path = join(dir, 'eleven.txt');
    writeFileSync(path, '01234567890');
    await expect(readBoundedFile(path, 'answers file', 10)).rejects.toMatchObject({
      code: 'INPUT_TOO_LARGE',
      message: 'The answers file is larger than 10 bytes, the most it may hold',
    });
    await expect(readBoundedFile(join(dir, 'none'), 'answers file', 10)).rejects.toMatchObject({
      code: 'INPUT_NOT_FOUND',
      message: 'The answers file does not exist',
    });
    await expect(readBoundedFile(dir, 'evidence pack file', 10)).rejects.toMatchObject({
      code: 'INPUT_UNREADABLE',
      message: 'The evidence pack file is a directory: give a file',
    });
  });

  it.skipIf(process.getuid?.() === 0)('refuses a file it may not read (not as root, who may read any)', async () => {
    const path = join(dir, 'secret.txt');
    writeFileSync(path, 'x');
    chmodSync(path, 0o000);
    await expect(readBoundedFile(path, 'public key file', 10)).rejects.toMatchObject({
      code: 'INPUT_UNREADABLE',
      message: 'The public key file cannot be read (permission denied)',
    });
  });

  it('bounds what it reads from a pipe, whose size is unknown', async () => {
    expect(Buffer.from(await readBoundedFile('/dev/null', 'password file', 10)).length).toBe(0);
    await expect(readBoundedFile('/dev/zero', 'password file', 10)).rejects.toMatchObject({ code: 'INPUT_TOO_LARGE' });
  });
});
