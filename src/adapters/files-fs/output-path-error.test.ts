import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FsEvaluationOutput } from '../evaluation-fs/fs-evaluation-output.js';
import { FsDeidOutputFolder } from './fs-deid-output-folder.js';

const dir = mkdtempSync(join(tmpdir(), 'vigil-output-path-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const aFile = join(dir, 'a-file.txt');
writeFileSync(aFile, 'x');

describe('an --out folder that cannot be one: OUTPUT_PATH_INVALID saying why (outputPathError)', () => {
  const output = new FsEvaluationOutput();

  it('vigil evaluate --out FILE (the report), model init --out FILE (the bundle), calibrate --out FILE (a derived bundle)', async () => {
    const expected = (what: string) => ({ code: 'OUTPUT_PATH_INVALID', message: `The --out folder of ${what} is a file: give a folder` });
    await expect(output.writeFiles(aFile, { 'report.json': '{}' })).rejects.toMatchObject(expected('the report'));
    await expect(output.writeLines(aFile, 'predictions.jsonl', ['{}'])).rejects.toMatchObject(expected('predictions.jsonl'));
    await expect(output.writeNewBundle(aFile, 'model.onnx', new Uint8Array(1), '{}')).rejects.toMatchObject(expected('the bundle'));
  });

  it('checks an --out folder before any work: a file, a path through a file, a non-empty folder where an empty one is needed', async () => {
    await expect(output.checkOutputFolder(aFile, { empty: false })).rejects.toMatchObject({
      code: 'OUTPUT_PATH_INVALID',
      message: 'The --out folder is a file: give a folder',
    });
    await expect(output.checkOutputFolder(join(aFile, 'a', 'b'), { empty: false })).rejects.toMatchObject({
      code: 'OUTPUT_PATH_INVALID',
      message: 'The --out folder cannot be created: a part of its path is a file, not a folder',
    });
    await expect(output.checkOutputFolder(dir, { empty: true })).rejects.toMatchObject({ code: 'EVAL_OUTPUT_EXISTS' });
    await expect(output.checkOutputFolder(dir, { empty: false })).resolves.toBeUndefined();
    await expect(output.checkOutputFolder(join(dir, 'new', 'deeper'), { empty: true })).resolves.toBeUndefined();
  });

  it('a path through a file', async () => {
    await expect(output.writeFiles(join(aFile, 'sub'), { 'report.json': '{}' })).rejects.toMatchObject({
      code: 'OUTPUT_PATH_INVALID',
      message: 'The --out folder of the report cannot be created: a part of its path is a file, not a folder',
    });
  });

  it('vigil deid --out FILE', async () => {
    const folder = new FsDeidOutputFolder(aFile, []);
    await expect(folder.write('x.dcm', new Uint8Array(1))).rejects.toMatchObject({
      code: 'OUTPUT_PATH_INVALID',
      message: 'The --out folder (or an output file in it) is a file: give a folder',
    });
  });

  it.skipIf(process.getuid?.() === 0)('a folder it may not write into', async () => {
    const locked = join(dir, 'locked');
    mkdirSync(locked, { mode: 0o500 });
    await expect(output.writeFiles(join(locked, 'out'), { 'report.json': '{}' })).rejects.toMatchObject({
      code: 'OUTPUT_PATH_INVALID',
      message: 'The --out folder of the report cannot be written (permission denied)',
    });
  });
});
