import { mkdir, open, realpath, stat } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { PlatformError } from '../../domain/errors.js';
import type { DeidOutputFolder, DeidWrite } from '../../ports/dicom-deidentifier.js';
import { writeFileDurably } from './internal/write-file-durably.js';
import { outputPathError } from './output-path-error.js';

/** Names Vigil makes: pseudonymous UIDs, 'quarantine', '.dcm'/'.reason.json'. Anything else is refused. */
const SAFE_SEGMENT = /^[0-9A-Za-z][0-9A-Za-z._-]{0,127}$/;

/**
 * The `vigil deid --out DIR` folder. Writes only under DIR (every path is checked after resolving), never
 * over one of the inputs (compared by real path), durably and atomically (internal/write-file-durably.ts), owner-only.
 * Never over any existing file either: the finished file is hard-linked into place, and link(2) fails when
 * the name is taken, so of two writers of one name (in one run, or two runs into one folder at once) exactly
 * one writes; the other is told whether the file there holds the same bytes. A file system without hard
 * links gets an exclusive create instead (O_EXCL), never a rename over the name.
 */
export class FsDeidOutputFolder implements DeidOutputFolder {
  readonly #root: string;
  readonly #inputs: Promise<Set<string>>;

  constructor(root: string, inputPaths: readonly string[]) {
    this.#root = resolve(root);
    this.#inputs = Promise.all(inputPaths.map((p) => realpath(p).catch(() => resolve(p)))).then((list) => new Set(list));
  }

  async write(relativePath: string, bytes: Uint8Array): Promise<DeidWrite> {
    const segments = relativePath.split('/');
    if (segments.some((s) => !SAFE_SEGMENT.test(s) || s === '..' || s === '.')) {
      throw new PlatformError('DEID_OUTPUT_WRITE_FAILED', 'An output name is not a safe relative path', {});
    }
    const target = join(this.#root, ...segments);
    const rel = relative(this.#root, target);
    if (rel.startsWith('..') || isAbsolute(rel) || !target.startsWith(this.#root + sep)) {
      throw new PlatformError('DEID_OUTPUT_WRITE_FAILED', 'An output path would leave the output folder', {});
    }
    try {
      await mkdir(dirname(target), { recursive: true, mode: 0o700 });
      const realTarget = join(await realpath(dirname(target)), segments[segments.length - 1] ?? '');
      // An existing file at the target that is an input, or lies under an input folder, is never replaced.
      const exists = await stat(realTarget).then(
        () => true,
        () => false,
      );
      if (exists && [...(await this.#inputs)].some((input) => realTarget === input || realTarget.startsWith(input + sep))) {
        throw new PlatformError('DEID_OUTPUT_WRITE_FAILED', 'An output would overwrite an input file', {});
      }
      const written = await writeFileDurably(target, bytes, { replace: false, withoutLinks: 'copy-exclusive' });
      if (written === 'written') return { path: target, state: 'written' };
      return { path: target, state: (await holdsBytes(target, bytes)) ? 'identical' : 'different' };
    } catch (cause) {
      if (cause instanceof PlatformError) throw cause;
      // Said of the --out folder when it is at fault (a file given as the folder, no permission), else with the errno.
      throw await outputPathError(cause, this.#root, 'folder', '--out folder (or an output file in it)', 'DEID_OUTPUT_WRITE_FAILED');
    }
  }
}

/** Whether the file at `path` holds exactly `bytes`: compared in chunks, so memory stays at one chunk. */
async function holdsBytes(path: string, bytes: Uint8Array): Promise<boolean> {
  const file = await open(path, 'r');
  try {
    if ((await file.stat()).size !== bytes.length) return false;
    const chunk = new Uint8Array(Math.min(bytes.length, 1 << 20));
    for (let offset = 0; offset < bytes.length;) {
      const { bytesRead } = await file.read(chunk, 0, Math.min(chunk.length, bytes.length - offset), offset);
      if (bytesRead === 0) return false;
      if (Buffer.compare(chunk.subarray(0, bytesRead), bytes.subarray(offset, offset + bytesRead)) !== 0) return false;
      offset += bytesRead;
    }
    return true;
  } finally {
    await file.close();
  }
}
