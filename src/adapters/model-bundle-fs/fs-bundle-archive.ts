import { createHash } from 'node:crypto';
import { chmod, cp, lstat, mkdir, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { PlatformError } from '../../domain/errors.js';
import { canonicalBundleListing, type BundleFile } from '../../domain/registry/model-version.js';
import type { BundleArchive } from '../../ports/model-registry.js';
import { openRegularFile } from '../files-fs/read-bounded-file.js';

export interface FsBundleArchiveOptions {
  /** The archive's folder (VIGIL_DATA_DIR/registry); shared storage when several servers share a PostgreSQL store. */
  readonly root: string;
  readonly maxFiles?: number;
  readonly maxBytes?: number;
}

const DEFAULT_MAX_FILES = 256;
const DEFAULT_MAX_BYTES = 4 * 1024 ** 3;

/**
 * Registered bundles on disk, one read-only folder per version id (`<root>/<versionId>/`). A bundle is
 * copied to a temporary folder, hashed there, and renamed into place only if it hashes to its id, so a
 * folder under its id is always complete and right; reading one back re-hashes it.
 */
export class FsBundleArchive implements BundleArchive {
  readonly #root: string;
  readonly #maxFiles: number;
  readonly #maxBytes: number;

  constructor(options: FsBundleArchiveOptions) {
    this.#root = options.root;
    this.#maxFiles = options.maxFiles ?? DEFAULT_MAX_FILES;
    this.#maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  }

  async listBundle(directory: string): Promise<readonly BundleFile[]> {
    const files: BundleFile[] = [];
    let total = 0;
    const walk = async (dir: string, prefix: string): Promise<void> => {
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (cause) {
        throw new PlatformError('MODEL_BUNDLE_NOT_FOUND', 'The bundle folder cannot be read', {}, { cause });
      }
      for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
        const path = prefix === '' ? entry.name : `${prefix}/${entry.name}`;
        const full = join(dir, entry.name);
        // lstat, not stat: a link is refused, never followed out of the bundle.
        const info = await lstat(full);
        if (info.isDirectory()) {
          await walk(full, path);
          continue;
        }
        if (!info.isFile())
          throw new PlatformError('MODEL_BUNDLE_INVALID', 'The bundle holds a link or a special file', { kind: info.isSymbolicLink() ? 'link' : 'special' });
        if (files.length >= this.#maxFiles) throw new PlatformError('MODEL_BUNDLE_INVALID', 'The bundle holds too many files', { maxFiles: this.#maxFiles });
        if (total + info.size > this.#maxBytes) throw new PlatformError('MODEL_BUNDLE_INVALID', 'The bundle is too large', { maxBytes: this.#maxBytes });
        // Hashed from the descriptor the checks were made on (not followed, a regular file, its size
        // within what is left): a file swapped for a link or a device after the lstat is refused, not read.
        const hashed = await sha256OfFile(full, this.#maxBytes - total, this.#maxBytes);
        total += hashed.bytes;
        files.push({ path, bytes: hashed.bytes, sha256: hashed.sha256 });
      }
    };
    await walk(directory, '');
    return files;
  }

  async keep(directory: string, versionId: string): Promise<string> {
    const target = this.#folder(versionId);
    if (await exists(target)) return this.open(versionId);
    await mkdir(this.#root, { recursive: true });
    const staging = join(this.#root, `.staging-${versionId}-${process.pid}-${Date.now()}`);
    try {
      await cp(directory, staging, { recursive: true, errorOnExist: true, force: false, verbatimSymlinks: true });
      await this.#check(staging, versionId, 'copy');
      try {
        await rename(staging, target);
        // Read-only against accidents; what guards it is the hash checked at every open.
        await makeReadOnly(target);
      } catch (cause) {
        // Another process archived the same version first: theirs is the same bytes.
        if (!(await exists(target))) throw cause;
      }
    } finally {
      await rm(staging, { recursive: true, force: true }).catch(() => undefined);
    }
    return target;
  }

  async open(versionId: string): Promise<string> {
    const target = this.#folder(versionId);
    if (!(await exists(target)))
      throw new PlatformError('MODEL_VERSION_NOT_FOUND', `The registered bundle of model version ${versionId} is missing from the archive`, {});
    await this.#check(target, versionId, 'archived');
    return target;
  }

  #folder(versionId: string): string {
    if (!/^[0-9a-f]{64}$/.test(versionId)) throw new PlatformError('MODEL_VERSION_NOT_FOUND', 'Not a model version id', {});
    return join(this.#root, versionId);
  }

  /** `archived`: the folder kept under the id (altered since, if it fails); `copy`: the copy being registered (its source changed while copied). */
  async #check(folder: string, versionId: string, which: 'archived' | 'copy'): Promise<void> {
    const files = await this.listBundle(folder).catch((cause: unknown) => {
      // In the archive, a link, a special file or an outgrown folder is an alteration like any other: the server's integrity fault, not a caller's.
      if (which === 'archived' && cause instanceof PlatformError && cause.code === 'MODEL_BUNDLE_INVALID')
        throw new PlatformError(
          'MODEL_HASH_MISMATCH',
          `The archived bundle of model version ${versionId} was altered after it was registered: ${cause.message.charAt(0).toLowerCase()}${cause.message.slice(1)}`,
          { expected: versionId, ...cause.details },
          { cause },
        );
      throw cause;
    });
    const listing = canonicalBundleListing(files);
    const actual = createHash('sha256').update(listing).digest('hex');
    if (actual !== versionId)
      throw new PlatformError(
        'MODEL_HASH_MISMATCH',
        which === 'archived'
          ? `The archived bundle of model version ${versionId} no longer hashes to its version id: its files were altered after it was registered`
          : `The bundle's files changed while it was copied into the archive: they no longer hash to version ${versionId}`,
        { expected: versionId, actual },
      );
  }
}

async function sha256OfFile(path: string, maxBytes: number, bundleMaxBytes: number): Promise<{ readonly bytes: number; readonly sha256: string }> {
  const { handle, sizeBytes } = await openRegularFile(path, 'bundle file', maxBytes, { noFollow: true }).catch((cause: unknown) => {
    if (cause instanceof PlatformError && cause.code === 'INPUT_TOO_LARGE')
      throw new PlatformError('MODEL_BUNDLE_INVALID', 'The bundle is too large', { maxBytes: bundleMaxBytes });
    throw cause;
  });
  try {
    const hash = createHash('sha256');
    const chunk = new Uint8Array(Math.min(sizeBytes, 1024 * 1024));
    let read = 0;
    // No further than the size the descriptor reported: a file growing while it is hashed changes its hash, never the bound.
    while (read < sizeBytes) {
      const { bytesRead } = await handle.read(chunk, 0, Math.min(chunk.length, sizeBytes - read), read);
      if (bytesRead === 0) break;
      hash.update(chunk.subarray(0, bytesRead));
      read += bytesRead;
    }
    return { bytes: read, sha256: hash.digest('hex') };
  } finally {
    await handle.close();
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch {
    return false;
  }
}

async function makeReadOnly(dir: string): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) await makeReadOnly(full);
    else await chmod(full, 0o444);
  }
  await chmod(dir, 0o555);
}
