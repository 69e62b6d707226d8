import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runVigil, type VigilRun } from '../helpers/run-vigil.js';
import { DEMO_MODEL_DIR } from '../helpers/sample-data.js';

/**
 * Every path a command reads whole is bounded before anything is read (files-fs/read-bounded-file.ts):
 * a device such as /dev/zero — named, or reached through a link — is refused at once instead of
 * filling memory, and an oversized file (a sparse one here, so the test costs no disk) by its size.
 * Each answer is coded (exit 11), arrives in well under a second, and leaves the heap where it was.
 */
const linux = process.platform === 'linux';
const dir = mkdtempSync(join(tmpdir(), 'vigil-unbounded-'));
const dataDir = join(dir, 'data');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const THREE_GIB = 3 * 1024 ** 3;
function sparseFile(name: string, bytes = THREE_GIB): string {
  const path = join(dir, name);
  writeFileSync(path, '');
  truncateSync(path, bytes);
  return path;
}

const answers = join(DEMO_MODEL_DIR, '..', 'pneumonia-demo.init-answers.json');
const CHEST = ['--modality', 'CR', '--body-part', 'CHEST', '--view', 'PA', '--patient-age-years', '1-5'];

/** Runs the command, asserting it answered quickly and without growing memory by more than 64 MiB. */
async function bounded(argv: readonly string[], env: Record<string, string> = {}): Promise<VigilRun> {
  const before = process.memoryUsage().rss;
  const started = Date.now();
  const run = await runVigil(argv, dataDir, env);
  expect(Date.now() - started).toBeLessThan(10_000);
  expect(process.memoryUsage().rss - before).toBeLessThan(64 * 1024 ** 2);
  return run;
}

describe.skipIf(!linux)('/dev/zero given where a file is read', () => {
  it('vigil model init --onnx /dev/zero: INPUT_UNREADABLE, not a hang', async () => {
    const run = await bounded(['model', 'init', '--onnx', '/dev/zero', '--validation', 'x.csv', '--out', join(dir, 'never'), '--answers', answers, ...CHEST]);
    expect([run.code, run.stderr]).toEqual([
      11,
      'vigil: INPUT_UNREADABLE: The model file (--onnx) is not a regular file (a device, pipe or socket): give a file\n',
    ]);
  });

  it('vigil model init --validation medmnist:/dev/zero:val, and vigil evaluate --dataset medmnist:/dev/zero:val', async () => {
    const init = await bounded([
      'model',
      'init',
      '--onnx',
      join(DEMO_MODEL_DIR, 'model.onnx'),
      '--validation',
      'medmnist:/dev/zero:val',
      '--out',
      join(dir, 'never'),
      '--answers',
      answers,
      ...CHEST,
    ]);
    expect([init.code, init.stderr]).toEqual([11, 'vigil: INPUT_UNREADABLE: The .npz file is not a regular file (a device, pipe or socket): give a file\n']);
    const evaluate = await bounded(['evaluate', '--model', DEMO_MODEL_DIR, '--dataset', 'medmnist:/dev/zero:val', '--out', join(dir, 'eval-never')]);
    expect([evaluate.code, evaluate.stderr]).toEqual([
      11,
      'vigil: INPUT_UNREADABLE: The .npz file is not a regular file (a device, pipe or socket): give a file\n',
    ]);
  });

  it('vigil model register DIR whose model.onnx is a link to /dev/zero', async () => {
    const bundle = join(dir, 'linked-bundle');
    mkdirSync(bundle);
    copyFileSync(join(DEMO_MODEL_DIR, 'vigil-model.json'), join(bundle, 'vigil-model.json'));
    symlinkSync('/dev/zero', join(bundle, 'model.onnx'));
    const run = await bounded(['model', 'register', bundle]);
    expect([run.code, run.stderr]).toEqual([
      11,
      'vigil: INPUT_UNREADABLE: The model file named by model.file is not a regular file (a device, pipe or socket): give a file\n',
    ]);
  });

  it('vigil predict /dev/zero, and a dataset manifest listing /dev/zero', async () => {
    const predict = await bounded(['predict', '/dev/zero', '--model', DEMO_MODEL_DIR]);
    expect([predict.code, predict.stderr]).toEqual([
      11,
      'vigil: INPUT_UNREADABLE: An input path is not a regular file (a device, pipe or socket): give a file or a folder\n',
    ]);
    const manifest = join(dir, 'zero.csv');
    writeFileSync(manifest, 'path,label\n/dev/zero,1\n');
    const evaluate = await bounded(['evaluate', '--model', DEMO_MODEL_DIR, '--dataset', manifest, '--out', join(dir, 'eval-manifest'), ...CHEST]);
    expect(evaluate.stderr).toContain('INPUT_UNREADABLE: The image listed on line 2 of the manifest is not a regular file');
  });
});

describe('an oversized (sparse) file where a file is read', () => {
  it('a model file past VIGIL_MAX_MODEL_BYTES (--onnx, and a bundle model.file): INPUT_TOO_LARGE before it is read', async () => {
    const onnx = sparseFile('huge.onnx');
    const init = await bounded(['model', 'init', '--onnx', onnx, '--validation', 'x.csv', '--out', join(dir, 'never'), '--answers', answers, ...CHEST]);
    expect([init.code, init.stderr]).toEqual([
      11,
      `vigil: INPUT_TOO_LARGE: The model file (--onnx) is larger than ${2 * 1024 ** 3} bytes, the most it may hold\n`,
    ]);
    const bundle = join(dir, 'huge-bundle');
    mkdirSync(bundle);
    copyFileSync(join(DEMO_MODEL_DIR, 'vigil-model.json'), join(bundle, 'vigil-model.json'));
    writeFileSync(join(bundle, 'model.onnx'), '');
    truncateSync(join(bundle, 'model.onnx'), 2048);
    const register = await bounded(['model', 'register', bundle], { VIGIL_MAX_MODEL_BYTES: '1024' });
    expect([register.code, register.stderr]).toEqual([
      11,
      'vigil: INPUT_TOO_LARGE: The model file named by model.file is larger than 1024 bytes, the most it may hold\n',
    ]);
  });

  it('an .npz past VIGIL_MAX_INPUT_BYTES: INPUT_TOO_LARGE before it is read', async () => {
    const npz = sparseFile('huge.npz');
    const run = await bounded(['evaluate', '--model', DEMO_MODEL_DIR, '--dataset', `medmnist:${npz}:val`, '--out', join(dir, 'eval-huge')]);
    expect([run.code, run.stderr]).toEqual([11, `vigil: INPUT_TOO_LARGE: The .npz file is larger than ${2 * 1024 ** 3 - 1} bytes, the most it may hold\n`]);
  });

  it('an input image past VIGIL_MAX_INPUT_BYTES (vigil predict): INPUT_TOO_LARGE', async () => {
    const image = sparseFile('huge.dcm', 4096);
    const run = await bounded(['predict', image, '--model', DEMO_MODEL_DIR, '--json'], { VIGIL_MAX_INPUT_BYTES: '1024' });
    expect(run.stdout + run.stderr).toContain('INPUT_TOO_LARGE');
  });
});

describe('an --out that cannot be a folder is said before any work', () => {
  it('vigil model init --out FILE and vigil evaluate --out FILE: OUTPUT_PATH_INVALID at once (exit 2)', async () => {
    const file = join(dir, 'not-a-folder.txt');
    writeFileSync(file, 'x');
    const init = await bounded([
      'model',
      'init',
      '--onnx',
      join(DEMO_MODEL_DIR, 'model.onnx'),
      '--validation',
      'x.csv',
      '--out',
      file,
      '--answers',
      answers,
      ...CHEST,
    ]);
    expect([init.code, init.stderr]).toEqual([2, 'vigil: OUTPUT_PATH_INVALID: The --out folder is a file: give a folder\n']);
    const evaluate = await bounded(['evaluate', '--model', DEMO_MODEL_DIR, '--dataset', 'medmnist:/nowhere.npz:val', '--out', file]);
    expect([evaluate.code, evaluate.stderr]).toEqual([2, 'vigil: OUTPUT_PATH_INVALID: The --out folder is a file: give a folder\n']);
  });
});
