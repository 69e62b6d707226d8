/** Where the bench finds the repository, the sample data and its scratch space. */
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BENCH_DIR = join(REPO_ROOT, 'bench');
export const RESULTS_DIR = join(BENCH_DIR, 'results');
export const MODELS_DIR = join(BENCH_DIR, 'models');
export const RESNET_DIR = join(MODELS_DIR, 'resnet18');
export const DEMO_MODEL_DIR = join(REPO_ROOT, 'models', 'pneumonia-demo');

/** The public sample data, never copied into the repository (`VIGIL_SAMPLE_DATA` overrides). */
export const SAMPLE_DATA_DIR = resolve(REPO_ROOT, process.env.VIGIL_SAMPLE_DATA || join('..', 'shared', 'data'));
export const DICOM_SAMPLES_DIR = join(SAMPLE_DATA_DIR, 'dicom-samples');
export const PNEUMONIA_NPZ = join(SAMPLE_DATA_DIR, 'medmnist', 'pneumoniamnist.npz');

/** Imports a compiled module of the project (the bench measures dist/, as `npm run bench` builds it). */
export function importDist(relativePath) {
  return import(new URL(`../../dist/${relativePath}`, import.meta.url).href);
}

/**
 * A fresh scratch folder. It lives on the same disk as the system temp folder (not tmpfs), so that the
 * audit log's fsyncs cost what they cost on a real data disk. `VIGIL_BENCH_TMP` chooses another parent.
 */
export function makeScratchDir(prefix) {
  return mkdtempSync(join(process.env.VIGIL_BENCH_TMP || tmpdir(), `vigil-bench-${prefix}-`));
}

/**
 * A folder for the decoded output the native tools must write somewhere: tmpfs when there is one, so that
 * writing their output costs them as little as possible (Vigil keeps decoded pixels in memory).
 */
export function makeOutputDir(prefix) {
  try {
    accessSync('/dev/shm', constants.W_OK);
    return mkdtempSync(join('/dev/shm', `vigil-bench-${prefix}-`));
  } catch {
    return makeScratchDir(prefix);
  }
}

export function removeDir(dir) {
  rmSync(dir, { recursive: true, force: true });
}
