import { mkdir, realpath, stat } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { PlatformError } from '../../domain/errors.js';
import type { DeidOutputFolder } from '../../ports/dicom-deidentifier.js';
import { writeFileDurably } from './internal/write-file-durably.js';

/** Names Vigil makes: pseudonymous UIDs, 'quarantine', '.dcm'/'.reason.json'. Anything else is refused. */
const SAFE_SEGMENT = /^[0-9A-Za-z][0-9A-Za-z._-]{0,127}$/;

/**
 * The `vigil deid --out DIR` folder. Writes only under DIR (every path is checked after resolving), never
 * over one of the inputs (compared by real path), durably and atomically (internal/write-file-durably.ts), owner-only.
 */
export class FsDeidOutputFolder implements DeidOutputFolder {
  readonly #root: string;
  readonly #inputs: Promise<Set<string>>;

  constructor(root: string, inputPaths: readonly string[]) {
    this.#root = resolve(root);
    this.#inputs = Promise.all(inputPaths.map((p) => realpath(p).catch(() => resolve(p)))).then((list) => new Set(list));
  }

  async write(relativePath: string, bytes: Uint8Array): Promise<string> {
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
      await writeFileDurably(target, bytes);
      return target;
    } catch (cause) {
      if (cause instanceof PlatformError) throw cause;
      throw new PlatformError(
        'DEID_OUTPUT_WRITE_FAILED',
        'An output file could not be written',
        { errno: (cause as NodeJS.ErrnoException).code ?? 'unknown' },
        { cause },
      );
    }
  }
}
