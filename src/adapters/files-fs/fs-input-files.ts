import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { PlatformError } from '../../domain/errors.js';
import type { InputFile, InputFiles } from '../../ports/input-files.js';

export class FsInputFiles implements InputFiles {
  constructor(private readonly maxInputBytes: number) {}

  async list(paths: readonly string[]): Promise<InputFile[]> {
    const files: InputFile[] = [];
    for (const path of paths) await this.collect(path, files, true);
    return files;
  }

  private async collect(path: string, into: InputFile[], explicit: boolean): Promise<void> {
    const info = await stat(path).catch(() => undefined);
    if (info === undefined) {
      if (explicit) throw new PlatformError('INPUT_NOT_FOUND', 'An input path does not exist', { position: into.length });
      return;
    }
    if (info.isDirectory()) {
      const names = (await readdir(path)).filter((n) => !n.startsWith('.')).sort();
      for (const name of names) await this.collect(join(path, name), into, false);
    } else if (info.isFile()) {
      into.push({ path, sizeBytes: info.size });
    }
  }

  async read(file: InputFile): Promise<Uint8Array> {
    if (file.sizeBytes > this.maxInputBytes) {
      throw new PlatformError('INPUT_TOO_LARGE', `The file is larger than VIGIL_MAX_INPUT_BYTES`, { sizeBytes: file.sizeBytes, maxBytes: this.maxInputBytes });
    }
    try {
      return await readFile(file.path);
    } catch (cause) {
      throw new PlatformError('INPUT_UNREADABLE', 'The file could not be read', { errno: (cause as NodeJS.ErrnoException).code ?? 'unknown' }, { cause });
    }
  }
}
