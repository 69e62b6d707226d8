import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { PlatformError } from '../../domain/errors.js';
import type { InputFile, InputFiles } from '../../ports/input-files.js';
import { readRegularFile } from './read-bounded-file.js';

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
    } else if (explicit) {
      // A device, FIFO or socket named on the command line (`vigil predict /dev/zero`) is refused, not
      // read; found inside a folder, it is skipped like a hidden file.
      throw new PlatformError('INPUT_UNREADABLE', 'An input path is not a regular file (a device, pipe or socket): give a file or a folder', {
        position: into.length,
      });
    }
  }

  async read(file: InputFile): Promise<Uint8Array> {
    if (file.sizeBytes > this.maxInputBytes) {
      throw new PlatformError('INPUT_TOO_LARGE', `The file is larger than VIGIL_MAX_INPUT_BYTES`, { sizeBytes: file.sizeBytes, maxBytes: this.maxInputBytes });
    }
    // Read from the descriptor it is checked on: a file swapped for a device or a larger file since it was listed is refused, not read.
    return readRegularFile(file.path, 'input file', this.maxInputBytes);
  }
}
