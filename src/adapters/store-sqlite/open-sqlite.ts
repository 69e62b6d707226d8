import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { PlatformError, isPlatformError } from '../../domain/errors.js';
import { SQLITE_MIGRATIONS, type SqliteMigration } from './migrations.js';

export type SqliteDatabase = Database.Database;

export const DEFAULT_SQLITE_FILE_NAME = 'vigil.sqlite';

export interface OpenSqliteOptions {
  /** Created (owner-only) if missing. */
  readonly dataDir: string;
  readonly fileName?: string;
  readonly migrations?: readonly SqliteMigration[];
  /** How long a statement waits for another connection's write lock before failing with SQLITE_BUSY. */
  readonly busyTimeoutMs?: number;
}

/**
 * Opens (creating if needed) Vigil's SQLite database and brings its schema up to date.
 *
 * - `journal_mode=WAL`: readers do not block the writer. Refused if SQLite cannot use WAL on this
 *   file system (e.g. some network mounts), rather than silently running in another mode.
 * - `synchronous=FULL`: in WAL mode, NORMAL may lose the last commits on power loss (they are in the
 *   WAL but not yet synced, https://www.sqlite.org/pragma.html#pragma_synchronous); FULL syncs the
 *   WAL at every commit, so an audit receipt means the entry is on disk.
 * - `foreign_keys=ON`, and a busy timeout so a second process waits instead of failing at once.
 *
 * Throws `STORE_OPEN_FAILED` if the file cannot be opened or configured, `STORE_MIGRATION_FAILED`
 * if a migration fails (that migration is rolled back) or the database holds a migration this
 * build does not know (it was written by a newer Vigil, or by a diverged branch).
 */
export function openSqliteDatabase(options: OpenSqliteOptions): SqliteDatabase {
  const busyTimeoutMs = options.busyTimeoutMs ?? 5_000;
  let db: SqliteDatabase | undefined;
  try {
    mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
    db = new Database(join(options.dataDir, options.fileName ?? DEFAULT_SQLITE_FILE_NAME), { timeout: busyTimeoutMs });
    db.pragma(`busy_timeout = ${Math.max(0, Math.trunc(busyTimeoutMs))}`);
    const journalMode: unknown = db.pragma('journal_mode = WAL', { simple: true });
    if (journalMode !== 'wal') {
      throw new PlatformError('STORE_OPEN_FAILED', 'SQLite could not switch the database to WAL mode', { journalMode: String(journalMode) });
    }
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
  } catch (cause) {
    db?.close();
    if (isPlatformError(cause)) throw cause;
    throw new PlatformError('STORE_OPEN_FAILED', 'Could not open the SQLite database', {}, { cause });
  }
  try {
    migrateSqliteDatabase(db, options.migrations ?? SQLITE_MIGRATIONS);
  } catch (cause) {
    db.close();
    throw cause;
  }
  return db;
}

/** Applies the migrations `db` has not run yet, each in its own write transaction. */
export function migrateSqliteDatabase(db: SqliteDatabase, migrations: readonly SqliteMigration[]): void {
  migrations.forEach((migration, i) => {
    if (migration.version !== i + 1) {
      throw new PlatformError('STORE_MIGRATION_FAILED', 'Migrations must be numbered 1, 2, 3, … in order', { position: i, version: migration.version });
    }
  });
  try {
    db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL) STRICT');
  } catch (cause) {
    throw new PlatformError('STORE_MIGRATION_FAILED', 'Could not create the schema_migrations table', {}, { cause });
  }
  const appliedStatement = db.prepare<[number], { name: string }>('SELECT name FROM schema_migrations WHERE version = ?');
  const newest = db.prepare<[], { version: number | null }>('SELECT max(version) AS version FROM schema_migrations').get()?.version ?? 0;
  if (newest > migrations.length) {
    throw new PlatformError('STORE_MIGRATION_FAILED', 'The database schema is newer than this build of Vigil', {
      databaseVersion: newest,
      knownVersion: migrations.length,
    });
  }
  const record = db.prepare<[number, string]>("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))");

  for (const migration of migrations) {
    const details = { version: migration.version, name: migration.name };
    // IMMEDIATE takes the write lock before reading, so two processes opening a new database at once
    // cannot both run the same migration: the second waits, then sees it recorded.
    const apply = db.transaction(() => {
      const applied = appliedStatement.get(migration.version);
      if (applied !== undefined) {
        if (applied.name !== migration.name) {
          throw new PlatformError('STORE_MIGRATION_FAILED', 'The database ran a different migration under this version number', {
            ...details,
            appliedName: applied.name,
          });
        }
        return;
      }
      db.exec(migration.sql);
      if (migration.rebuildsTables === true && (db.pragma('foreign_key_check') as unknown[]).length > 0) {
        throw new PlatformError('STORE_MIGRATION_FAILED', 'A schema migration left rows whose references are broken, and was rolled back', details);
      }
      record.run(migration.version, migration.name);
    });
    // Foreign keys can be switched only outside a transaction; they are switched back on whatever happens.
    if (migration.rebuildsTables === true) db.pragma('foreign_keys = OFF');
    try {
      apply.immediate();
    } catch (cause) {
      if (isPlatformError(cause)) throw cause;
      throw new PlatformError('STORE_MIGRATION_FAILED', 'A schema migration failed and was rolled back', details, { cause });
    } finally {
      if (migration.rebuildsTables === true) db.pragma('foreign_keys = ON');
    }
  }
}
