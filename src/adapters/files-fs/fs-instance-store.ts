import { mkdir, readdir, readFile, statfs, stat } from 'node:fs/promises';
import { writeFileDurably } from './internal/write-file-durably.js';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { PlatformError } from '../../domain/errors.js';
import type { InstanceStore, StudyDeclaration } from '../../ports/instance-store.js';

/** Pseudonymous UIDs only (2.25.<decimal>), so a name can never climb out of the folder. */
const UID = /^[0-9]+(\.[0-9]+)*$/;

/**
 * Instances as files, `<root>/<study uid>/<instance uid>.dcm`, owner-only, written durably
 * (internal/write-file-durably.ts), so an instance reported `stored` survives a crash or power loss.
 */
export class FsInstanceStore implements InstanceStore {
  /** The last free-space reading (or the one under way) and when it was asked for. */
  #free: { readonly at: number; readonly bytes: Promise<number> } | undefined;

  /** `freeSpaceCacheMs`: how long one statfs answers `freeBytes` (0: every call asks the disk). */
  constructor(
    private readonly root: string,
    private readonly options: { readonly freeSpaceCacheMs?: number } = {},
  ) {}

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
    // Servers sharing this folder may store one instance at the same moment: one of them writes it.
    return (await this.#writeDurably(target, bytes, { replace: false })) === 'exists' ? 'duplicate' : 'stored';
  }

  async listDicomInstances(studyUid: string): Promise<readonly string[]> {
    const names = await readdir(this.studyLocation(studyUid)).catch((cause: NodeJS.ErrnoException) => {
      if (cause.code === 'ENOENT') return [];
      throw new PlatformError('STORE_OPEN_FAILED', 'The study folder could not be listed', {}, { cause });
    });
    return names
      .filter((name) => name.endsWith('.dcm'))
      .map((name) => name.slice(0, -4))
      .filter((uid) => UID.test(uid))
      .sort();
  }

  async listImages(studyUid: string): Promise<readonly string[]> {
    const folder = this.studyLocation(studyUid);
    const names = await readdir(folder).catch((cause: NodeJS.ErrnoException) => {
      if (cause.code === 'ENOENT') return [];
      throw new PlatformError('STORE_OPEN_FAILED', 'The study folder could not be listed', {}, { cause });
    });
    return names
      .filter((name) => /^[0-9.]+\.(dcm|png|jpg)$/.test(name))
      .sort()
      .map((name) => join(folder, name));
  }

  readDicomInstance(studyUid: string, sopInstanceUid: string): Promise<Uint8Array> {
    if (!UID.test(sopInstanceUid)) return Promise.reject(new PlatformError('STORE_OPEN_FAILED', 'An instance UID is not a plain UID', {}));
    return readFile(join(this.studyLocation(studyUid), `${sopInstanceUid}.dcm`)).catch((cause: unknown) => {
      throw new PlatformError('STORE_OPEN_FAILED', 'A stored instance could not be read', {}, { cause });
    });
  }

  // Beside the study folder, not in it: the folder holds only images, which predict reads whole.
  async putDeclaration(studyUid: string, declaration: StudyDeclaration): Promise<void> {
    await this.#writeDurably(`${this.studyLocation(studyUid)}.declared.json`, new TextEncoder().encode(JSON.stringify(declaration) + '\n'));
  }

  async readDeclaration(studyUid: string): Promise<StudyDeclaration | undefined> {
    const text = await readFile(`${this.studyLocation(studyUid)}.declared.json`, 'utf8').catch(() => undefined);
    return text === undefined ? undefined : (JSON.parse(text) as StudyDeclaration);
  }

  // One small file per instance (`<study>.age/<instance>.json`), beside the study folder like the
  // declaration: instances of a study arrive concurrently, and each writes only its own.
  async putPatientAge(studyUid: string, sopInstanceUid: string, years: number): Promise<void> {
    if (!UID.test(sopInstanceUid)) throw new PlatformError('STORE_WRITE_FAILED', 'An instance UID is not a plain UID', {});
    if (!Number.isInteger(years) || years < 0) throw new PlatformError('STORE_WRITE_FAILED', 'A patient age is not a whole number of years', {});
    const target = join(`${this.studyLocation(studyUid)}.age`, `${sopInstanceUid}.json`);
    await this.#writeDurably(target, new TextEncoder().encode(JSON.stringify({ patientAgeYears: years }) + '\n'));
  }

  async readPatientAges(studyUid: string): Promise<ReadonlyMap<string, number>> {
    const folder = `${this.studyLocation(studyUid)}.age`;
    const names = await readdir(folder).catch((cause: NodeJS.ErrnoException) => {
      if (cause.code === 'ENOENT') return [];
      throw new PlatformError('STORE_OPEN_FAILED', "The study's patient ages could not be listed", {}, { cause });
    });
    const ages = new Map<string, number>();
    for (const name of names) {
      const uid = name.endsWith('.json') ? name.slice(0, -5) : '';
      if (!UID.test(uid)) continue;
      let years: unknown;
      try {
        years = (JSON.parse(await readFile(join(folder, name), 'utf8')) as { patientAgeYears?: unknown }).patientAgeYears;
      } catch (cause) {
        throw new PlatformError('STORE_OPEN_FAILED', 'A stored patient age could not be read', {}, { cause });
      }
      if (typeof years === 'number' && Number.isInteger(years) && years >= 0) ages.set(uid, years);
    }
    return ages;
  }

  async #writeDurably(target: string, bytes: Uint8Array, options: { readonly replace?: boolean } = {}): Promise<'written' | 'exists'> {
    try {
      return await writeFileDurably(target, bytes, options);
    } catch (cause) {
      const full = (cause as NodeJS.ErrnoException).code === 'ENOSPC' || (cause as NodeJS.ErrnoException).code === 'EDQUOT';
      // The disk filled up since the last reading: the next freeBytes asks it again.
      if (full) this.#free = undefined;
      throw new PlatformError('STORE_WRITE_FAILED', full ? 'The instance store is full' : 'The instance could not be stored', { diskFull: full }, { cause });
    }
  }

  /**
   * Reads an instance this store holds, by the path a judged result recorded (the review screen
   * renders it). Anything outside the store is refused, whatever the stored path says.
   */
  /** A stored file's name relative to the store (`<study uid>/<instance uid>.<ext>`), as cases record it. */
  nameOf(path: string): string {
    const name = relative(this.root, path);
    return name.startsWith('..') || isAbsolute(name) ? path : name.split(sep).join('/');
  }

  /** Reads a stored file by its name in the store (or, for cases recorded before names were relative, its full path). */
  async read(path: string): Promise<Uint8Array> {
    const full = resolve(this.root, path);
    if (!full.startsWith(resolve(this.root) + sep)) throw new PlatformError('INPUT_NOT_FOUND', 'The image is not in the instance store', {});
    try {
      return await readFile(full);
    } catch (cause) {
      throw new PlatformError('INPUT_NOT_FOUND', 'The stored image could not be read', {}, { cause });
    }
  }

  /**
   * Asked before every instance, so one statfs serves the calls of the next second (by default): free
   * space moves slowly next to that, and an instance that still finds the disk full fails its write with
   * ENOSPC, is refused as out of resources, and clears the reading.
   */
  freeBytes(): Promise<number> {
    const now = performance.now();
    const cached = this.#free;
    if (cached !== undefined && now - cached.at < (this.options.freeSpaceCacheMs ?? 1_000)) return cached.bytes;
    const bytes = this.#readFreeBytes();
    this.#free = { at: now, bytes };
    // A failed reading is not kept.
    bytes.catch(() => {
      if (this.#free?.bytes === bytes) this.#free = undefined;
    });
    return bytes;
  }

  async #readFreeBytes(): Promise<number> {
    const info = await statfs(this.root).catch(async (cause: NodeJS.ErrnoException) => {
      if (cause.code !== 'ENOENT') throw cause;
      await mkdir(this.root, { recursive: true, mode: 0o700 });
      return statfs(this.root);
    });
    return info.bavail * info.bsize;
  }
}
