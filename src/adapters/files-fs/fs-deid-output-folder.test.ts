import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FsDeidOutputFolder } from './fs-deid-output-folder.js';

const work = mkdtempSync(join(tmpdir(), 'vigil-deid-out-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('FsDeidOutputFolder', () => {
  it('writes under the folder, atomically, and returns the path', async () => {
    const folder = new FsDeidOutputFolder(join(work, 'a'), []);
    const path = await folder.write('2.25.1/2.25.2.dcm', Uint8Array.of(1, 2));
    expect(path).toBe(join(work, 'a', '2.25.1', '2.25.2.dcm'));
    expect([...readFileSync(path)]).toEqual([1, 2]);
  });

  it.each(['../x.dcm', '2.25.1/../../x.dcm', '/etc/passwd', 'a//b', '.hidden'])('refuses the unsafe name %s', async (name) => {
    await expect(new FsDeidOutputFolder(join(work, 'b'), []).write(name, Uint8Array.of(1))).rejects.toMatchObject({ code: 'DEID_OUTPUT_WRITE_FAILED' });
  });

  it('never replaces an input file, even when --out is the input folder', async () => {
    const dir = join(work, 'c');
    mkdirSync(join(dir, '2.25.1'), { recursive: true });
    const input = join(dir, '2.25.1', '2.25.2.dcm');
    writeFileSync(input, 'original');
    await expect(new FsDeidOutputFolder(dir, [dir]).write('2.25.1/2.25.2.dcm', Uint8Array.of(1))).rejects.toMatchObject({ code: 'DEID_OUTPUT_WRITE_FAILED' });
    await expect(new FsDeidOutputFolder(dir, [input]).write('2.25.1/2.25.2.dcm', Uint8Array.of(1))).rejects.toMatchObject({ code: 'DEID_OUTPUT_WRITE_FAILED' });
    expect(readFileSync(input, 'utf8')).toBe('original');
  });
});
