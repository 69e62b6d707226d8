import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FsDeidOutputFolder } from './fs-deid-output-folder.js';

const work = mkdtempSync(join(tmpdir(), 'vigil-deid-out-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('FsDeidOutputFolder', () => {
  it('writes under the folder, atomically, and returns the path', async () => {
    const folder = new FsDeidOutputFolder(join(work, 'a'), []);
    const written = await folder.write('2.25.1/2.25.2.dcm', Uint8Array.of(1, 2));
    expect(written).toEqual({ path: join(work, 'a', '2.25.1', '2.25.2.dcm'), state: 'written' });
    expect([...readFileSync(written.path)]).toEqual([1, 2]);
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

  it('never replaces an existing file: says whether it holds the same bytes, and keeps it as it is', async () => {
    const folder = new FsDeidOutputFolder(join(work, 'd'), []);
    const first = await folder.write('2.25.1/2.25.2.dcm', Uint8Array.of(1, 2, 3));
    expect(first.state).toBe('written');
    expect(await folder.write('2.25.1/2.25.2.dcm', Uint8Array.of(1, 2, 3))).toEqual({ path: first.path, state: 'identical' });
    expect(await folder.write('2.25.1/2.25.2.dcm', Uint8Array.of(1, 2, 4))).toEqual({ path: first.path, state: 'different' });
    expect(await folder.write('2.25.1/2.25.2.dcm', Uint8Array.of(1, 2))).toEqual({ path: first.path, state: 'different' });
    // A file made by someone else (another run, another tool) is never replaced either.
    writeFileSync(join(work, 'd', '2.25.1', '2.25.3.dcm'), 'theirs');
    expect((await folder.write('2.25.1/2.25.3.dcm', Uint8Array.of(9))).state).toBe('different');
    expect(readFileSync(join(work, 'd', '2.25.1', '2.25.3.dcm'), 'utf8')).toBe('theirs');
    expect([...readFileSync(first.path)]).toEqual([1, 2, 3]);
    expect(readdirSync(join(work, 'd', '2.25.1')).sort()).toEqual(['2.25.2.dcm', '2.25.3.dcm']);
  });

  it('of many writers of one name at once (two runs into one folder), exactly one writes, and its bytes stay', async () => {
    const dir = join(work, 'e');
    // Two folder objects, as two `vigil deid` processes would have; 1 MiB payloads so that writes overlap.
    const [one, other] = [new FsDeidOutputFolder(dir, []), new FsDeidOutputFolder(dir, [])];
    const payload = (i: number): Uint8Array => new Uint8Array(1 << 20).fill(i + 1);
    const results = await Promise.all(Array.from({ length: 16 }, (_, i) => (i % 2 === 0 ? one : other).write('2.25.1/2.25.2.dcm', payload(i))));
    const winners = results.flatMap((r, i) => (r.state === 'written' ? [i] : []));
    expect(winners).toHaveLength(1);
    expect(results.filter((r) => r.state === 'different')).toHaveLength(15);
    expect(readFileSync(join(dir, '2.25.1', '2.25.2.dcm')).equals(Buffer.from(payload(winners[0] ?? -1)))).toBe(true);
    // No temporary file outlives the race.
    expect(readdirSync(join(dir, '2.25.1'))).toEqual(['2.25.2.dcm']);
  });
});
