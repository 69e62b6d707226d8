import { createHash, randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PlatformError } from '../../domain/errors.js';
import type { ReleaseEvidence } from '../../ports/release-evidence.js';

const sha256Hex = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');
/** Request ids are `r-` + a UUID (workflows/releases.ts); nothing else names a folder here. */
const REQUEST_ID = /^r-[0-9a-f-]{36}$/;

/**
 * Release evidence in the data folder: `<root>/<requestId>/evidence/<sha256>` (written to a temporary
 * name, then renamed, so a file under its hash is always whole) and `<root>/<requestId>/runs/<name>/`
 * for the gates' evaluation outputs. `root` is VIGIL_DATA_DIR/releases.
 */
export class FsReleaseEvidence implements ReleaseEvidence {
  constructor(private readonly root: string) {}

  async runFolder(requestId: string, name: string): Promise<string> {
    const folder = join(this.#request(requestId), 'runs', `${name.replace(/[^a-z0-9_-]/gi, '_')}-${Date.now()}-${randomUUID().slice(0, 8)}`);
    await mkdir(folder, { recursive: true });
    return folder;
  }

  async writeRunFile(folder: string, name: string, text: string): Promise<string> {
    const path = join(folder, name.replace(/[^a-z0-9_.-]/gi, '_'));
    await writeFile(path, text, 'utf8');
    return path;
  }

  async keep(requestId: string, bytes: Uint8Array): Promise<string> {
    const sha256 = sha256Hex(bytes);
    const folder = join(this.#request(requestId), 'evidence');
    await mkdir(folder, { recursive: true });
    const temporary = join(folder, `.${sha256}.${randomUUID()}.tmp`);
    try {
      await writeFile(temporary, bytes, { flag: 'wx' });
      await rename(temporary, join(folder, sha256));
    } catch (cause) {
      throw new PlatformError('STORE_WRITE_FAILED', 'The release evidence could not be kept', {}, { cause });
    }
    return sha256;
  }

  async keepRunFile(requestId: string, folder: string, name: string): Promise<string> {
    let bytes: Uint8Array;
    try {
      bytes = await readFile(join(folder, name));
    } catch (cause) {
      throw new PlatformError('INPUT_NOT_FOUND', 'A gate run did not leave the file its evidence is', {}, { cause });
    }
    return this.keep(requestId, bytes);
  }

  async read(requestId: string, sha256: string): Promise<Uint8Array | undefined> {
    if (!/^[0-9a-f]{64}$/.test(sha256)) return undefined;
    let bytes: Uint8Array;
    try {
      bytes = await readFile(join(this.#request(requestId), 'evidence', sha256));
    } catch {
      return undefined;
    }
    if (sha256Hex(bytes) !== sha256) throw new PlatformError('STORE_WRITE_FAILED', 'Release evidence no longer hashes to its name (altered on disk)', {});
    return bytes;
  }

  #request(requestId: string): string {
    if (!REQUEST_ID.test(requestId)) throw new PlatformError('RELEASE_NOT_FOUND', 'Not a release request id', {});
    return join(this.root, requestId);
  }
}
