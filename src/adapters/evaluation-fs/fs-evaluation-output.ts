import { createHash } from 'node:crypto';
import { copyFile, mkdir, open, readdir, stat, writeFile } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { PlatformError } from '../../domain/errors.js';
import type { EvaluationOutput } from '../../ports/evaluation-data.js';
import { outputPathError } from '../files-fs/output-path-error.js';

export class FsEvaluationOutput implements EvaluationOutput {
  async checkOutputFolder(directory: string, options: { readonly empty: boolean }): Promise<void> {
    // The nearest part of the path that exists must be a folder: `--out FILE` or `--out FILE/sub` is said before minutes of scoring, not after.
    let existing = resolve(directory);
    for (;;) {
      let info: Stats | undefined;
      try {
        info = await stat(existing);
      } catch (cause) {
        if ((cause as NodeJS.ErrnoException).code !== 'ENOENT') throw await outputPathError(cause, directory, 'folder', '--out folder', 'STORE_WRITE_FAILED');
      }
      if (info !== undefined) {
        if (!info.isDirectory()) {
          const why = existing === resolve(directory) ? 'is a file: give a folder' : 'cannot be created: a part of its path is a file, not a folder';
          throw new PlatformError('OUTPUT_PATH_INVALID', `The --out folder ${why}`, { errno: 'ENOTDIR' });
        }
        break;
      }
      const parent = dirname(existing);
      if (parent === existing) break;
      existing = parent;
    }
    if (options.empty && existing === resolve(directory) && (await readdir(directory)).length > 0) {
      throw new PlatformError('EVAL_OUTPUT_EXISTS', 'The --out folder exists and is not empty', {});
    }
  }

  async writeFiles(directory: string, files: Readonly<Record<string, string>>): Promise<void> {
    try {
      await mkdir(directory, { recursive: true });
      for (const [name, text] of Object.entries(files)) await writeFile(join(directory, name), text);
    } catch (cause) {
      throw await outputPathError(cause, directory, 'folder', '--out folder of the report', 'STORE_WRITE_FAILED');
    }
  }

  async writeLines(directory: string, name: string, lines: Iterable<string>): Promise<{ readonly sha256: string; readonly bytes: number }> {
    const hash = createHash('sha256');
    let bytes = 0;
    try {
      await mkdir(directory, { recursive: true });
      const file = await open(join(directory, name), 'w');
      try {
        // Lines are gathered into chunks of about 1 MiB: one write per chunk, memory bounded by the chunk.
        let chunk: string[] = [];
        let size = 0;
        const flush = async (): Promise<void> => {
          const buffer = Buffer.from(chunk.join(''), 'utf8');
          hash.update(buffer);
          bytes += buffer.length;
          await file.write(buffer);
          chunk = [];
          size = 0;
        };
        for (const line of lines) {
          chunk.push(line, '\n');
          size += line.length + 1;
          if (size >= 1 << 20) await flush();
        }
        await flush();
        await file.sync();
      } finally {
        await file.close();
      }
    } catch (cause) {
      throw await outputPathError(cause, directory, 'folder', `--out folder of ${name}`, 'STORE_WRITE_FAILED');
    }
    return { sha256: hash.digest('hex'), bytes };
  }

  async writeNewBundle(directory: string, modelFile: string, modelBytes: Uint8Array, manifestJson: string): Promise<void> {
    const existing = await readdir(directory).catch(() => undefined);
    if (existing !== undefined && existing.length > 0) throw new PlatformError('EVAL_OUTPUT_EXISTS', 'The --out folder exists and is not empty', {});
    try {
      await mkdir(directory, { recursive: true });
      await writeFile(join(directory, modelFile), modelBytes);
      await writeFile(join(directory, 'vigil-model.json'), manifestJson);
    } catch (cause) {
      throw await outputPathError(cause, directory, 'folder', '--out folder of the bundle', 'STORE_WRITE_FAILED');
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
      throw await outputPathError(cause, directory, 'folder', '--out folder of the derived bundle', 'STORE_WRITE_FAILED');
    }
  }
}
