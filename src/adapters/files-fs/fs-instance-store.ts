import { mkdir, readFile, statfs, stat } from 'node:fs/promises';
import { writeFileDurably } from './internal/write-file-durably.js';
import { join } from 'node:path';
import { PlatformError } from '../../domain/errors.js';
import type { InstanceStore, StudyDeclaration } from '../../ports/instance-store.js';

/** Pseudonymous UIDs only (2.25.<decimal>), so a name can never climb out of the folder. */
const UID = /^[0-9]+(\.[0-9]+)*$/;

/**
 * Instances as files, `<root>/<study uid>/<instance uid>.dcm`, owner-only, written durably
 * (internal/write-file-durably.ts), so an instance reported `stored` survives a crash or power loss.
 */
export class FsInstanceStore implements InstanceStore {
  constructor(private readonly root: string) {}

  studyLocation(studyUid: string): string {
    if (!UID.test(studyUid)) throw new PlatformError('STORE_WRITE_FAILED', 'A study UID is not a plain UID', {});
    return join(this.root, studyUid);
  }

  async put(studyUid: string, sopInstanceUid: string, bytes: Uint8Array, extension: 'dcm' | 'png' | 'jpg' = 'dcm'): Promise<'stored' | 'duplicate'> {
    if (!UID.test(sopInstanceUid)) throw new PlatformError('STORE_WRITE_FAILED', 'An instance UID is not a plain UID', {});
    const folder = this.studyLocation(studyUid);
    const target = join(folder, `${sopInstanceUid}.${extension}`);
    const exists = await stat(target).then(
      () => true,
      () => false,
    );
    if (exists) return 'duplicate';
    await this.#writeDurably(target, bytes);
    return 'stored';
  }

  // Beside the study folder, not in it: the folder holds only images, which predict reads whole.
  async putDeclaration(studyUid: string, declaration: StudyDeclaration): Promise<void> {
    await this.#writeDurably(`${this.studyLocation(studyUid)}.declared.json`, new TextEncoder().encode(JSON.stringify(declaration) + '\n'));
  }

  async readDeclaration(studyUid: string): Promise<StudyDeclaration | undefined> {
    const text = await readFile(`${this.studyLocation(studyUid)}.declared.json`, 'utf8').catch(() => undefined);
    return text === undefined ? undefined : (JSON.parse(text) as StudyDeclaration);
  }

  async #writeDurably(target: string, bytes: Uint8Array): Promise<void> {
    try {
      await writeFileDurably(target, bytes);
    } catch (cause) {
      const full = (cause as NodeJS.ErrnoException).code === 'ENOSPC' || (cause as NodeJS.ErrnoException).code === 'EDQUOT';
      throw new PlatformError('STORE_WRITE_FAILED', full ? 'The instance store is full' : 'The instance could not be stored', { diskFull: full }, { cause });
    }
  }

  async freeBytes(): Promise<number> {
    await mkdir(this.root, { recursive: true, mode: 0o700 });
    const info = await statfs(this.root);
    return info.bavail * info.bsize;
  }
}
