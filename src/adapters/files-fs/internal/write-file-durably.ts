import { randomUUID } from 'node:crypto';
import { constants } from 'node:fs';
import { copyFile, link, open, rename, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { folderSyncer, type FolderSyncer } from './folder-syncer.js';

/**
 * Writes `bytes` to `target` so that a crash or power loss leaves either the old state or the whole
 * file, never a partial one under the final name: a temporary file in the same folder (owner-only),
 * fsynced, renamed into place, then the folder fsynced so the rename itself is durable. The folder is
 * created (owner-only) if needed, and its parent fsynced then, so a new folder is durable too; writers
 * in one folder share folder fsyncs (internal/folder-syncer.ts). Errors are thrown as they come (the caller gives them its code);
 * the temporary file never outlives a failure.
 *
 * With `replace: false` an existing `target` is kept and the call resolves `exists`: the temporary
 * file is linked into place instead of renamed, and link(2), unlike rename(2), fails when the name is
 * taken. So when several processes (servers sharing the folder on a volume) write one name at once,
 * exactly one of them resolves `written`. A file system without hard links falls back to rename (the
 * last writer's whole file then stays), or with `withoutLinks: 'copy-exclusive'` to an exclusive copy
 * (O_CREAT|O_EXCL: never replaces, but a crash during the copy can leave a partial file under the name).
 */
export async function writeFileDurably(
  target: string,
  bytes: Uint8Array,
  options: { readonly replace?: boolean; readonly folders?: FolderSyncer; readonly withoutLinks?: 'rename' | 'copy-exclusive' } = {},
): Promise<'written' | 'exists'> {
  const folder = dirname(target);
  const folders = options.folders ?? folderSyncer;
  const temporary = join(folder, `.${randomUUID()}.partial`);
  try {
    await folders.ensure(folder);
    const file = await open(temporary, 'wx', 0o600).catch(async (cause: NodeJS.ErrnoException) => {
      if (cause.code !== 'ENOENT') throw cause;
      // The folder was removed since this process made it: make it again.
      folders.forget(folder);
      await folders.ensure(folder);
      return open(temporary, 'wx', 0o600);
    });
    try {
      await file.writeFile(bytes);
      await file.sync();
    } finally {
      await file.close();
    }
    if (options.replace === false) {
      const linked = await link(temporary, target).then(
        () => 'linked' as const,
        (cause: NodeJS.ErrnoException) => {
          if (cause.code === 'EEXIST') return 'exists' as const;
          if (cause.code === 'EPERM' || cause.code === 'ENOTSUP' || cause.code === 'EOPNOTSUPP') return 'no-links' as const;
          throw cause;
        },
      );
      if (linked === 'exists') {
        await unlink(temporary);
        return 'exists';
      }
      if (linked === 'linked') await unlink(temporary);
      else if (options.withoutLinks === 'copy-exclusive') {
        const copied = await copyExclusive(temporary, target);
        await unlink(temporary);
        if (copied === 'exists') return 'exists';
      } else await rename(temporary, target);
    } else {
      await rename(temporary, target);
    }
    await folders.sync(folder);
    return 'written';
  } catch (cause) {
    await unlink(temporary).catch(() => undefined);
    throw cause;
  }
}

/** Copies `from` to a new `to` (never over an existing one) and fsyncs the copy. */
async function copyExclusive(from: string, to: string): Promise<'written' | 'exists'> {
  try {
    await copyFile(from, to, constants.COPYFILE_EXCL);
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'EEXIST') return 'exists';
    throw cause;
  }
  const file = await open(to, 'r+');
  try {
    await file.sync();
  } finally {
    await file.close();
  }
  return 'written';
}
