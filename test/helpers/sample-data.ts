import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));

/** The public sample data (../shared/data beside the repo, or VIGIL_SAMPLE_DATA). */
export const SAMPLE_DATA = resolve(REPO_ROOT, process.env.VIGIL_SAMPLE_DATA ?? '../shared/data');
export const DICOM_SAMPLES = resolve(SAMPLE_DATA, 'dicom-samples');
export const PNEUMONIA_NPZ = resolve(SAMPLE_DATA, 'medmnist', 'pneumoniamnist.npz');
export const hasDicomSamples = existsSync(DICOM_SAMPLES);
export const hasPneumoniaMnist = existsSync(PNEUMONIA_NPZ);
export const DEMO_MODEL_DIR = resolve(REPO_ROOT, 'models', 'pneumonia-demo');
