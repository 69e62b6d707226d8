import { copyFile, mkdir, readdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { PlatformError } from '../../domain/errors.js';
import type { EvaluationOutput } from '../../ports/evaluation-data.js';

export class FsEvaluationOutput implements EvaluationOutput {
  async writeFiles(directory: string, files: Readonly<Record<string, string>>): Promise<void> {
    try {
      await mkdir(directory, { recursive: true });
      for (const [name, text] of Object.entries(files)) await writeFile(join(directory, name), text);
    } catch (cause) {
      throw new PlatformError('STORE_WRITE_FAILED', 'The report could not be written to the --out folder', {}, { cause });
    }
  }

  async writeDerivedBundle(sourceDirectory: string, directory: string, modelFile: string, manifestJson: string): Promise<void> {
    if (resolve(sourceDirectory) === resolve(directory)) {
      throw new PlatformError('EVAL_OUTPUT_EXISTS', 'The --out folder is the source bundle: a derived bundle never overwrites its parent', {});
    }
    const existing = await readdir(directory).catch(() => undefined);
    if (existing !== undefined && existing.length > 0) throw new PlatformError('EVAL_OUTPUT_EXISTS', 'The --out folder exists and is not empty', {});
    try {
      await mkdir(directory, { recursive: true });
      // The model file is copied byte for byte: only the manifest changes (its hash still verifies).
      await copyFile(join(sourceDirectory, modelFile), join(directory, modelFile));
      await writeFile(join(directory, 'vigil-model.json'), manifestJson);
    } catch (cause) {
      throw new PlatformError('STORE_WRITE_FAILED', 'The derived bundle could not be written', {}, { cause });
    }
  }
}
