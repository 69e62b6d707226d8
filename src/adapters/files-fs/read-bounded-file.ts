import { constants } from 'node:fs';
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
    if (info.isFile()) return await readSize(handle, info.size);
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

/** A regular file opened for reading, its size taken from the opened descriptor (fstat), never from a separate stat of the path. */
export interface RegularFile {
  readonly handle: FileHandle;
  readonly sizeBytes: number;
}

/**
 * Opens a file a user named that must be a regular file of at most `maxBytes` — a model, a dataset, an
 * image: the kinds too large to read through a pipe. The checks are made on the opened descriptor
 * (fstat), so a link swapped after a check cannot slip a device in: a directory, a device (`/dev/zero`),
 * a FIFO or a socket is INPUT_UNREADABLE saying so, a larger file INPUT_TOO_LARGE, both before a byte
 * is read. Opened non-blocking, so a FIFO with no writer is refused instead of hanging the open.
 * `noFollow`: a link is refused too (a bundle's files). The caller closes the handle.
 *
 * @example const { handle, sizeBytes } = await openRegularFile(path, 'model file', maxModelBytes)
 */
export async function openRegularFile(path: string, what: string, maxBytes: number, options: { readonly noFollow?: boolean } = {}): Promise<RegularFile> {
  // O_NONBLOCK matters only for FIFOs and devices (refused below); reads of a regular file are unaffected.
  const flags = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0) | (options.noFollow === true ? (constants.O_NOFOLLOW ?? 0) : 0);
  let handle: FileHandle;
  try {
    handle = await open(path, flags);
  } catch (cause) {
    throw openFailed(cause, what);
  }
  try {
    const info = await handle.stat();
    if (info.isDirectory()) throw new PlatformError('INPUT_UNREADABLE', `The ${what} is a directory: give a file`, { errno: 'EISDIR' });
    if (!info.isFile())
      throw new PlatformError('INPUT_UNREADABLE', `The ${what} is not a regular file (a device, pipe or socket): give a file`, { kind: kindOf(info) });
    if (info.size > maxBytes) throw tooLarge(what, maxBytes, info.size);
    return { handle, sizeBytes: info.size };
  } catch (cause) {
    await handle.close();
    if (cause instanceof PlatformError) throw cause;
    throw readFailed(cause, what);
  }
}

/**
 * A regular file read whole, at most `maxBytes` (openRegularFile says what is refused). Reads no more
 * than the size the descriptor reported, so a file growing while it is read cannot push past the bound.
 *
 * @example const bytes = await readRegularFile(path, '.npz file', config.maxInputBytes)
 */
export async function readRegularFile(path: string, what: string, maxBytes: number, options: { readonly noFollow?: boolean } = {}): Promise<Uint8Array> {
  const { handle, sizeBytes } = await openRegularFile(path, what, maxBytes, options);
  try {
    return await readSize(handle, sizeBytes);
  } catch (cause) {
    throw readFailed(cause, what);
  } finally {
    await handle.close();
  }
}

/** At most `sizeBytes` from the start of an opened regular file (the size its descriptor reported), so a file growing while it is read cannot push past the bound it was checked against. */
async function readSize(handle: FileHandle, sizeBytes: number): Promise<Uint8Array> {
  const buffer = new Uint8Array(sizeBytes);
  let filled = 0;
  while (filled < sizeBytes) {
    const { bytesRead } = await handle.read(buffer, filled, sizeBytes - filled, filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return filled === sizeBytes ? buffer : buffer.slice(0, filled);
}

function kindOf(info: { isCharacterDevice(): boolean; isBlockDevice(): boolean; isFIFO(): boolean; isSocket(): boolean }): string {
  return info.isCharacterDevice() ? 'character device' : info.isBlockDevice() ? 'block device' : info.isFIFO() ? 'fifo' : info.isSocket() ? 'socket' : 'other';
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
      : errno === 'ELOOP'
        ? 'is a link: give the file itself'
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
