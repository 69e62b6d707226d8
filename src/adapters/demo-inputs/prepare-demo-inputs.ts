import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PNEUMONIAMNIST_DECLARATION, readMedmnistSplit } from '../dataset-medmnist/read-npz.js';
import { encodeGreyPng } from '../image-sharp/encode-png.js';
import { readRegularFile } from '../files-fs/read-bounded-file.js';
import type { DemoRun } from '../../ports/demo-inputs.js';

/** How many PneumoniaMNIST test images the demo turns into PNG files. */
const DEMO_IMAGES = 24;

/**
 * The demo's inputs, from the public sample data when it is there: the DICOM samples (every
 * transfer syntax; most are not chest radiographs and the one that is shows an adult, so the gate refuses
 * them all and says why), and the
 * first PneumoniaMNIST test images written as PNG files, as a camera or device would send them.
 */
export async function prepareDemoInputs(sampleDataDir: string, dataDir: string): Promise<{ runs: DemoRun[]; notes: string[] }> {
  const dicomDir = join(sampleDataDir, 'dicom-samples');
  const npz = join(sampleDataDir, 'medmnist', 'pneumoniamnist.npz');
  const runs: DemoRun[] = [];
  const notes: string[] = [];
  if (!existsSync(dicomDir) && !existsSync(npz)) {
    notes.push(
      `No sample data at ${sampleDataDir} (set VIGIL_SAMPLE_DATA to point at it).`,
      `Judge your own images with: npx vigil predict <DICOM, PNG or JPEG files or folders>`,
    );
    return { runs, notes };
  }
  if (existsSync(dicomDir)) {
    runs.push({
      title: `DICOM samples from ${dicomDir}: CT, MR, US, NM, SC and CR in every transfer syntax. The model is for children's chest radiographs, so the gate refuses every one of them and says why (the one chest film is of a 64-year-old).`,
      paths: [dicomDir],
    });
  }
  if (existsSync(npz)) {
    const split = readMedmnistSplit(await readRegularFile(npz, '.npz file', 2 * 1024 ** 3 - 1), 'test');
    const out = join(dataDir, 'demo', 'pneumoniamnist-test');
    await mkdir(out, { recursive: true });
    const count = Math.min(DEMO_IMAGES, split.images.length);
    for (let i = 0; i < count; i++) {
      const file = join(out, `test-${String(i).padStart(4, '0')}-label${split.labels[i]}.png`);
      if (!existsSync(file)) await writeFile(file, await encodeGreyPng(split.images[i] as Uint8Array, split.width, split.height));
    }
    runs.push({
      title: `The first ${count} PneumoniaMNIST test images, written as PNG to ${out} (label in the name: 1 = pneumonia), declared as a device integration would: CR chest PA, a child of 1-5 years (the dataset's population; its images carry no age of their own).`,
      paths: [out],
      declared: PNEUMONIAMNIST_DECLARATION,
    });
  }
  return { runs, notes };
}
