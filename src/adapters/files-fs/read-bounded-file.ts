import { open, type FileHandle } from 'node:fs/promises';
import { PlatformError } from '../../domain/errors.js';

/**
 * A file a user named (`--answers FILE`, `--public-key PEM`, `release verify PACK.zip`…), read whole
 * but never more than `maxBytes`: one answer for every command that takes a file path. Missing:
 * INPUT_NOT_FOUND; a directory, a path not permitted, or any other read failure: INPUT_UNREADABLE
 * saying which; larger than the bound: INPUT_TOO_LARGE naming it, before the contents are read (a
 * regular file by its size; a pipe, such as `<(…)`, by reading one byte past the bound). `what` names
 * the file in the message ("answers file"); the path itself is not repeated (it may hold anything).
 *
 * @example await readBoundedFile(path, 'answers file', 64 * 1024)
 */
export async function readBoundedFile(path: string, what: string, maxBytes: number): Promise<Uint8Array> {
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (cause) {
    throw openFailed(cause, what);
  }
  try {
    const info = await handle.stat();
    if (info.isDirectory()) throw new PlatformError('INPUT_UNREADABLE', `The ${what} is a directory: give a file`, { errno: 'EISDIR' });
    if (info.isFile() && info.size > maxBytes) throw tooLarge(what, maxBytes, info.size);
    if (info.isFile()) return new Uint8Array(await handle.readFile());
    // Not a regular file (a pipe, a character device): its size is unknown, so read up to one byte past the bound.
    const buffer = new Uint8Array(Math.min(maxBytes, 64 * 1024 * 1024) + 1);
    let filled = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, filled, buffer.length - filled, null);
      if (bytesRead === 0) break;
      filled += bytesRead;
      if (filled > maxBytes) throw tooLarge(what, maxBytes);
      if (filled === buffer.length) throw tooLarge(what, maxBytes);
    }
    return buffer.slice(0, filled);
  } catch (cause) {
    if (cause instanceof PlatformError) throw cause;
    throw readFailed(cause, what);
  } finally {
    await handle.close();
  }
}

function errnoOf(cause: unknown): string {
  return (cause as NodeJS.ErrnoException).code ?? 'unknown';
}

function openFailed(cause: unknown, what: string): PlatformError {
  const errno = errnoOf(cause);
  if (errno === 'ENOENT' || errno === 'ENOTDIR') return new PlatformError('INPUT_NOT_FOUND', `The ${what} does not exist`, { errno }, { cause });
  return readFailed(cause, what);
}

function readFailed(cause: unknown, what: string): PlatformError {
  const errno = errnoOf(cause);
  const why =
    errno === 'EISDIR'
      ? 'is a directory: give a file'
      : errno === 'EACCES' || errno === 'EPERM'
        ? 'cannot be read (permission denied)'
        : `cannot be read (${errno})`;
  return new PlatformError('INPUT_UNREADABLE', `The ${what} ${why}`, { errno }, { cause });
}

function tooLarge(what: string, maxBytes: number, sizeBytes?: number): PlatformError {
  return new PlatformError('INPUT_TOO_LARGE', `The ${what} is larger than ${maxBytes} bytes, the most it may hold`, {
    maxBytes,
    ...(sizeBytes === undefined ? {} : { sizeBytes }),
  });
}
