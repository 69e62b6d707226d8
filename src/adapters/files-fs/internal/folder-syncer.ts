import { mkdir, open } from 'node:fs/promises';
import { dirname } from 'node:path';

/** fsync(2) of a folder: what makes a rename, link, unlink or mkdir inside it durable. */
async function fsyncFolder(folder: string): Promise<void> {
  const handle = await open(folder, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

interface Waiter {
  readonly resolve: () => void;
  readonly reject: (cause: unknown) => void;
}

/** Past this many folders the memory of which exist is dropped (each is then made ready once more, harmlessly). */
const MAX_READY_FOLDERS = 10_000;

/**
 * Folder fsyncs shared between concurrent writers, and folders made durable once per process.
 *
 * `sync(folder)` resolves after an fsync of the folder that *started after the call*, so everything the
 * caller did in the folder before calling is durable. Calls that arrive while an fsync of that folder
 * runs wait for the next one, and share it: with N writers in one study folder, about two fsyncs serve
 * them instead of N.
 *
 * `ensure(folder)` creates the folder (owner-only) and fsyncs the parent of every folder it had to
 * create, so a new study folder cannot vanish in a power loss after an instance in it was acknowledged;
 * a folder found already there gets its parent fsynced too (a process that died after mkdir may have
 * left it unsynced). Done once per folder per process; concurrent callers share it.
 */
export class FolderSyncer {
  readonly #waiting = new Map<string, Waiter[]>();
  readonly #running = new Set<string>();
  readonly #ready = new Map<string, Promise<void>>();

  /** `syncOne`: the fsync itself (replaceable in tests). */
  constructor(private readonly syncOne: (folder: string) => Promise<void> = fsyncFolder) {}

  sync(folder: string): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const waiting = this.#waiting.get(folder);
      if (waiting === undefined) this.#waiting.set(folder, [{ resolve, reject }]);
      else waiting.push({ resolve, reject });
      if (!this.#running.has(folder)) this.#start(folder);
    });
  }

  #start(folder: string): void {
    const batch = this.#waiting.get(folder) ?? [];
    this.#waiting.delete(folder);
    this.#running.add(folder);
    void this.syncOne(folder).then(
      () => this.#finish(folder, batch, undefined),
      (cause: unknown) => this.#finish(folder, batch, cause ?? new Error('fsync failed')),
    );
  }

  #finish(folder: string, batch: readonly Waiter[], cause: unknown): void {
    this.#running.delete(folder);
    for (const waiter of batch) {
      if (cause === undefined) waiter.resolve();
      else waiter.reject(cause);
    }
    if (this.#waiting.has(folder)) this.#start(folder);
  }

  ensure(folder: string): Promise<void> {
    let ready = this.#ready.get(folder);
    if (ready === undefined) {
      if (this.#ready.size >= MAX_READY_FOLDERS) this.#ready.clear();
      ready = this.#create(folder);
      this.#ready.set(folder, ready);
      const settled = ready;
      settled.catch(() => {
        if (this.#ready.get(folder) === settled) this.#ready.delete(folder);
      });
    }
    return ready;
  }

  /** Forgets that `folder` exists (it was removed behind our back): the next `ensure` creates it again. */
  forget(folder: string): void {
    this.#ready.delete(folder);
  }

  async #create(folder: string): Promise<void> {
    const first = await mkdir(folder, { recursive: true, mode: 0o700 });
    // mkdir returns the first folder it created: every folder from there down to `folder` is new, and
    // each one's name lives in its parent.
    const parents: string[] = [];
    if (first !== undefined) {
      for (let created = folder; ; created = dirname(created)) {
        parents.push(dirname(created));
        if (created === first || dirname(created) === created) break;
      }
    } else {
      parents.push(dirname(folder));
    }
    await Promise.all(parents.map((parent) => this.sync(parent)));
  }
}

/** The one syncer of the process, so that every writer in a folder shares its fsyncs. */
export const folderSyncer = new FolderSyncer();
