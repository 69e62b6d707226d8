import { open } from 'node:fs/promises';
import type { SqliteDatabase } from '../open-sqlite.js';

interface Pending {
  readonly write: () => unknown;
  readonly resolve: (value: unknown) => void;
  readonly reject: (cause: unknown) => void;
}

const perDatabase = new WeakMap<SqliteDatabase, GroupCommit>();

/** SQLite's code for PRAGMA synchronous=FULL. */
const SYNCHRONOUS_FULL = 2;

async function fsyncFile(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export interface GroupCommitOptions {
  /** The fsync of the WAL file (replaceable in tests). */
  readonly syncFile?: (path: string) => Promise<void>;
}

/**
 * Group commit for one SQLite connection: the small writes asked for while the event loop was busy
 * (several C-STORE associations receiving, de-identifying and writing files at once) run in one
 * transaction, so one WAL fsync (synchronous=FULL) serves them all instead of one each; that fsync
 * blocks the event loop, since better-sqlite3 is synchronous. No caller is answered before that COMMIT
 * has returned, so what a caller was promised is as durable as with a transaction of its own.
 *
 * Each write runs in a savepoint of its own (a nested better-sqlite3 transaction): one that throws is
 * rolled back alone and its caller gets the error; the others commit. If the COMMIT itself fails, every
 * caller of the batch gets the error and none of it is written.
 *
 * The WAL fsync is taken off the event loop. On a file database in WAL mode with synchronous=FULL, a
 * batch commits with synchronous=NORMAL (SQLite then writes the WAL frames without syncing them; the
 * database stays consistent whatever happens, https://www.sqlite.org/wal.html#sync), the connection is
 * set back to FULL at once, and the WAL file is fsynced on libuv's thread pool; the callers are answered
 * only after that fsync returns. fsync(2) flushes the file whatever descriptor wrote it, so an answer
 * still means the write is on disk, exactly as with FULL, but the event loop goes on receiving while
 * the disk works (it was blocked for the whole fsync before: several ms per batch under load). If that
 * fsync fails, every caller of the batch gets the error (its writes may or may not survive a crash;
 * all of them are idempotent for the resend the error brings).
 */
export class GroupCommit {
  #pending: Pending[] = [];
  #scheduled = false;
  /** The WAL file, when its fsync is taken off the event loop (a file database in WAL mode with synchronous=FULL). */
  readonly #walPath: string | undefined;
  readonly #syncFile: (path: string) => Promise<void>;

  private constructor(
    private readonly db: SqliteDatabase,
    options: GroupCommitOptions,
  ) {
    this.#syncFile = options.syncFile ?? fsyncFile;
    const wal = !db.memory && String(db.pragma('journal_mode', { simple: true })) === 'wal';
    this.#walPath = wal && db.pragma('synchronous', { simple: true }) === SYNCHRONOUS_FULL ? `${db.name}-wal` : undefined;
  }

  /** The one group commit of `db`, so that every store on the connection shares its batches (`options` apply when it is made). */
  static for(db: SqliteDatabase, options: GroupCommitOptions = {}): GroupCommit {
    let found = perDatabase.get(db);
    if (found === undefined) {
      found = new GroupCommit(db, options);
      perDatabase.set(db, found);
    }
    return found;
  }

  /** Runs `write` (synchronous statements only) in the next batch; resolves with its result once committed. */
  run<T>(write: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#pending.push({ write, resolve: resolve as (value: unknown) => void, reject });
      if (!this.#scheduled) {
        this.#scheduled = true;
        // After the I/O callbacks of this turn of the event loop: those are what brings more writes.
        setImmediate(() => this.#flush());
      }
    });
  }

  #flush(): void {
    this.#scheduled = false;
    const batch = this.#pending;
    this.#pending = [];
    const walPath = this.#walPath;
    let outcomes: { readonly ok: boolean; readonly value: unknown }[];
    try {
      if (walPath !== undefined) this.db.pragma('synchronous = NORMAL');
      try {
        outcomes = this.db
          .transaction(() =>
            batch.map(({ write }) => {
              try {
                return { ok: true, value: this.db.transaction(write)() };
              } catch (cause) {
                return { ok: false, value: cause };
              }
            }),
          )
          .immediate();
      } finally {
        // Every other write on the connection keeps syncing at its commit.
        if (walPath !== undefined) this.db.pragma('synchronous = FULL');
      }
    } catch (cause) {
      for (const { reject } of batch) reject(cause);
      return;
    }
    const answer = (): void =>
      batch.forEach(({ resolve, reject }, i) => {
        const outcome = outcomes[i];
        if (outcome?.ok === true) resolve(outcome.value);
        else reject(outcome?.value);
      });
    if (walPath === undefined) answer();
    else
      this.#syncFile(walPath).then(answer, (cause: unknown) => {
        for (const { reject } of batch) reject(cause);
      });
  }
}
