import { randomUUID } from 'node:crypto';
import { mkdir, open, rename, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/**
 * Writes `bytes` to `target` so that a crash or power loss leaves either the old state or the whole
 * file, never a partial one under the final name: a temporary file in the same folder (owner-only),
 * fsynced, renamed into place, then the folder fsynced so the rename itself is durable. The folder is
 * created (owner-only) if needed. Errors are thrown as they come (the caller gives them its code);
 * the temporary file never outlives a failure.
 */
export async function writeFileDurably(target: string, bytes: Uint8Array): Promise<void> {
  const folder = dirname(target);
  const temporary = join(folder, `.${randomUUID()}.partial`);
  try {
    await mkdir(folder, { recursive: true, mode: 0o700 });
    const file = await open(temporary, 'wx', 0o600);
    try {
      await file.writeFile(bytes);
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(temporary, target);
    const directory = await open(folder, 'r');
    try {
      await directory.sync();
    } finally {
      await directory.close();
    }
  } catch (cause) {
    await unlink(temporary).catch(() => undefined);
    throw cause;
  }
}
