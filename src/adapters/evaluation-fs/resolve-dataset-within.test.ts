import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveDatasetWithin } from './resolve-dataset-within.js';

const dir = realpathSync(mkdtempSync(join(tmpdir(), 'vigil-datasets-')));
const folder = join(dir, 'datasets');
mkdirSync(join(folder, 'medmnist'), { recursive: true });
writeFileSync(join(folder, 'medmnist', 'pneumoniamnist.npz'), 'npz');
writeFileSync(join(folder, 'val.csv'), 'path,label\n');
writeFileSync(join(dir, 'outside.csv'), 'path,label\n');
symlinkSync(join(dir, 'outside.csv'), join(folder, 'link.csv'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('resolveDatasetWithin', () => {
  it('opens a spec whose path lies in the folder, relative or absolute', async () => {
    expect(await resolveDatasetWithin('medmnist:medmnist/pneumoniamnist.npz:val', folder)).toBe(`medmnist:${folder}/medmnist/pneumoniamnist.npz:val`);
    expect(await resolveDatasetWithin(`medmnist:${folder}/medmnist/pneumoniamnist.npz:test:part=0/2`, folder)).toBe(
      `medmnist:${folder}/medmnist/pneumoniamnist.npz:test:part=0/2`,
    );
    expect(await resolveDatasetWithin('val.csv', folder)).toBe(join(folder, 'val.csv'));
  });

  it.each([
    ['an absolute path elsewhere', '/etc/passwd.csv'],
    ['a path that climbs out', '../outside.csv'],
    ['a medmnist path that climbs out', 'medmnist:../../etc/shadow:val'],
    ['an absolute medmnist path elsewhere', 'medmnist:/dev/zero:val'],
    ['a link inside that leads out', 'link.csv'],
    ['the folder itself', 'medmnist:.:val'],
  ])('refuses %s with RELEASE_DATASET_OUTSIDE', async (_what, spec) => {
    await expect(resolveDatasetWithin(spec, folder)).rejects.toMatchObject({ code: 'RELEASE_DATASET_OUTSIDE' });
  });

  it('refuses a missing file inside, without saying more', async () => {
    await expect(resolveDatasetWithin('none.csv', folder)).rejects.toMatchObject({ code: 'INPUT_NOT_FOUND' });
  });
});
