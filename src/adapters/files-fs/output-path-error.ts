import { lstat } from 'node:fs/promises';
import { PlatformError } from '../../domain/errors.js';

/**
 * Why a file or folder a user named for output (`--out`) could not be written, coded: a path fault —
 * a directory where a file is meant, a file where a folder is meant, a parent folder that does not
 * exist, no permission, a read-only file system — is OUTPUT_PATH_INVALID saying which; anything else
 * (a full disk, an I/O error) `fallback`'s code with the reason's errno. `what` names the output
 * ("evidence pack file (--out)"); the path itself is not repeated.
 *
 * @example catch (cause) { throw await outputPathError(cause, path, 'file', 'evidence pack file (--out)', 'STORE_WRITE_FAILED') }
 */
export async function outputPathError(
  cause: unknown,
  path: string,
  meant: 'file' | 'folder',
  what: string,
  fallback: 'STORE_WRITE_FAILED' | 'DEID_OUTPUT_WRITE_FAILED',
): Promise<PlatformError> {
  if (cause instanceof PlatformError) return cause;
  const errno = (cause as NodeJS.ErrnoException).code ?? 'unknown';
  const invalid = (why: string): PlatformError => new PlatformError('OUTPUT_PATH_INVALID', `The ${what} ${why}`, { errno }, { cause });
  const kind = await lstat(path).then(
    (info) => (info.isDirectory() ? 'folder' : 'file'),
    () => undefined,
  );
  if (meant === 'file' && (errno === 'EISDIR' || (errno === 'EEXIST' && kind === 'folder')))
    return invalid('is a directory: give the path of a new file (inside it, or elsewhere)');
  if (meant === 'folder' && (errno === 'EEXIST' || errno === 'ENOTDIR') && kind === 'file') return invalid('is a file: give a folder');
  if (errno === 'ENOENT') return invalid('cannot be created: its parent folder does not exist (create it first)');
  if (errno === 'ENOTDIR') return invalid('cannot be created: a part of its path is a file, not a folder');
  if (errno === 'EACCES' || errno === 'EPERM') return invalid('cannot be written (permission denied)');
  if (errno === 'EROFS') return invalid('cannot be written (a read-only file system)');
  return new PlatformError(fallback, `The ${what} could not be written (${errno})`, { errno }, { cause });
}
