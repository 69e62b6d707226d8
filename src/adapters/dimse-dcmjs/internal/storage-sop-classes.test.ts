import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { STORAGE_SOP_CLASSES } from './storage-sop-classes.js';

const SOPS = fileURLToPath(new URL('../../../../../shared/data/dicom-standard/sops.json', import.meta.url));

describe.skipIf(!existsSync(SOPS))('STORAGE_SOP_CLASSES (integrity against ../shared/data/dicom-standard/sops.json)', () => {
  it('equals the image and SR storage classes of the Standard', () => {
    const sops = JSON.parse(readFileSync(SOPS, 'utf8')) as { name: string; id: string }[];
    const expected = sops
      .filter(({ name }) => name.includes('Image Storage') || name.includes('SR Storage') || name.startsWith('Key Object Selection'))
      .map(({ id, name }) => [id, name]);
    expect([...STORAGE_SOP_CLASSES]).toEqual(expected);
  });
});
