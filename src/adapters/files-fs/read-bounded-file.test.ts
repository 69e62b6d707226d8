import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readBoundedFile, readRegularFile } from './read-bounded-file.js';

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

describe('readRegularFile', () => {
  const linux = process.platform === 'linux';

  it('reads a regular file of at most the bound, through a link to it', async () => {
    const path = join(dir, 'model.bin');
    writeFileSync(path, 'abc');
    symlinkSync(path, join(dir, 'model-link.bin'));
    expect(Buffer.from(await readRegularFile(join(dir, 'model-link.bin'), 'model file', 3)).toString()).toBe('abc');
  });

  it.skipIf(!linux)('refuses a device at once, before reading: /dev/zero, directly or through a link', async () => {
    symlinkSync('/dev/zero', join(dir, 'zero-link.onnx'));
    const started = Date.now();
    const before = process.memoryUsage().rss;
    for (const path of ['/dev/zero', join(dir, 'zero-link.onnx')]) {
      await expect(readRegularFile(path, 'model file', 2 * 1024 ** 3)).rejects.toMatchObject({
        code: 'INPUT_UNREADABLE',
        message: 'The model file is not a regular file (a device, pipe or socket): give a file',
        details: { kind: 'character device' },
      });
    }
    expect(Date.now() - started).toBeLessThan(2000);
    expect(process.memoryUsage().rss - before).toBeLessThan(64 * 1024 ** 2);
  });

  it.skipIf(!linux)('refuses a FIFO with no writer without waiting for one', async () => {
    const fifo = join(dir, 'fifo.npz');
    execFileSync('mkfifo', [fifo]);
    await expect(readRegularFile(fifo, '.npz file', 1024)).rejects.toMatchObject({ code: 'INPUT_UNREADABLE', details: { kind: 'fifo' } });
  });

  it('refuses an oversized (sparse) file by its size, reading none of it', async () => {
    const path = join(dir, 'sparse.onnx');
    writeFileSync(path, '');
    truncateSync(path, 3 * 1024 ** 3);
    const before = process.memoryUsage().rss;
    await expect(readRegularFile(path, 'model file', 2 * 1024 ** 3)).rejects.toMatchObject({
      code: 'INPUT_TOO_LARGE',
      message: `The model file is larger than ${2 * 1024 ** 3} bytes, the most it may hold`,
      details: { sizeBytes: 3 * 1024 ** 3 },
    });
    expect(process.memoryUsage().rss - before).toBeLessThan(64 * 1024 ** 2);
  });

  it('refuses a directory, a missing file, and (noFollow) a link', async () => {
    await expect(readRegularFile(dir, 'model file', 10)).rejects.toMatchObject({
      code: 'INPUT_UNREADABLE',
      message: 'The model file is a directory: give a file',
    });
    await expect(readRegularFile(join(dir, 'none'), 'model file', 10)).rejects.toMatchObject({ code: 'INPUT_NOT_FOUND' });
    const target = join(dir, 'target.bin');
    writeFileSync(target, 'x');
    symlinkSync(target, join(dir, 'nofollow-link.bin'));
    await expect(readRegularFile(join(dir, 'nofollow-link.bin'), 'bundle file', 10, { noFollow: true })).rejects.toMatchObject({
      code: 'INPUT_UNREADABLE',
      message: 'The bundle file is a link: give the file itself',
    });
  });
});
