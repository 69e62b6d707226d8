import pg from 'pg';
import { PlatformError, isPlatformError } from '../../domain/errors.js';
import { POSTGRES_MIGRATIONS, type PostgresMigration } from './migrations.js';

export type PostgresPool = pg.Pool;
export type PostgresClient = pg.PoolClient;

export interface OpenPostgresOptions {
  /** `postgres://user@host:5432/db`; a schema other than `public` can be chosen with `?options=-c%20search_path%3Dvigil`. */
  readonly connectionString: string;
  /** Sets `search_path` on every connection (tests give each run its own schema). The schema must exist. */
  readonly schema?: string;
  /** Connections in the pool. */
  readonly maxConnections?: number;
  readonly migrations?: readonly PostgresMigration[];
  /** An idle connection failed (the server restarted, the network dropped): the pool replaces it. */
  readonly onIdleError?: (error: Error) => void;
}

/** int8 (count(*), bigint columns) as a JS number: ids, counts and epoch milliseconds stay far below 2^53. */
const INT8_OID = 20;
type TypeParser = (oid: number, format?: 'text' | 'binary') => (value: string) => unknown;
const defaultParser = pg.types.getTypeParser as TypeParser;
const types = {
  getTypeParser: ((oid, format) => (oid === INT8_OID && format !== 'binary' ? (value: string) => Number(value) : defaultParser(oid, format))) as TypeParser,
};

/**
 * Opens a connection pool to Vigil's PostgreSQL store and brings its schema up to date
 * (`migratePostgres`). Refuses a server that would acknowledge commits before they are durable
 * (`fsync` or `synchronous_commit` off): an audit receipt or an enqueued job must survive a crash,
 * as with SQLite's `synchronous=FULL`.
 *
 * Throws `STORE_OPEN_FAILED` when the server cannot be reached or is not durable,
 * `STORE_MIGRATION_FAILED` when a migration fails (all of this run's migrations are rolled back) or
 * the database holds a migration this build does not know.
 */
export async function openPostgres(options: OpenPostgresOptions): Promise<PostgresPool> {
  if (options.schema !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(options.schema)) {
    throw new PlatformError('STORE_OPEN_FAILED', 'A PostgreSQL schema name must be a plain lower-case identifier', {});
  }
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.maxConnections ?? 10,
    types,
    // Fail a start-up against an unreachable server in seconds, not at the OS's TCP timeout.
    connectionTimeoutMillis: 10_000,
    // In the start-up packet, so no query can run before it.
    ...(options.schema === undefined ? {} : { options: `-c search_path=${options.schema}` }),
  });
  // Without a listener an idle client's error would crash the process; the pool drops that client.
  pool.on('error', (error) => options.onIdleError?.(error));
  try {
    const settings = await pool.query<{ fsync: string; synchronous_commit: string }>(
      "SELECT current_setting('fsync') AS fsync, current_setting('synchronous_commit') AS synchronous_commit",
    );
    const row = settings.rows[0];
    if (row === undefined || row.fsync !== 'on' || row.synchronous_commit === 'off') {
      throw new PlatformError('STORE_OPEN_FAILED', 'The PostgreSQL server acknowledges commits before they are durable (fsync or synchronous_commit is off)', {
        fsync: row?.fsync ?? 'unknown',
        synchronousCommit: row?.synchronous_commit ?? 'unknown',
      });
    }
  } catch (cause) {
    await pool.end().catch(() => undefined);
    if (isPlatformError(cause)) throw cause;
    throw new PlatformError('STORE_OPEN_FAILED', 'Could not connect to the PostgreSQL database (VIGIL_DATABASE_URL)', {}, { cause });
  }
  try {
    await migratePostgres(pool, options.migrations ?? POSTGRES_MIGRATIONS);
  } catch (cause) {
    await pool.end().catch(() => undefined);
    throw cause;
  }
  return pool;
}

/**
 * Applies the migrations the database has not run yet, all in one transaction under an advisory lock
 * (per schema), so that several Vigil processes starting at once migrate once: the others wait for
 * the lock, then find every migration recorded.
 */
export async function migratePostgres(pool: PostgresPool, migrations: readonly PostgresMigration[]): Promise<void> {
  migrations.forEach((migration, i) => {
    if (migration.version !== i + 1) {
      throw new PlatformError('STORE_MIGRATION_FAILED', 'Migrations must be numbered 1, 2, 3, … in order', { position: i, version: migration.version });
    }
  });
  await inTransaction(
    pool,
    async (client) => {
      await client.query("SELECT pg_advisory_xact_lock(hashtextextended('vigil:migrations:' || coalesce(current_schema(), ''), 0))");
      await client.query(
        'CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())',
      );
      const applied = new Map(
        (await client.query<{ version: number; name: string }>('SELECT version, name FROM schema_migrations')).rows.map((r) => [r.version, r.name]),
      );
      const newest = Math.max(0, ...applied.keys());
      if (newest > migrations.length) {
        throw new PlatformError('STORE_MIGRATION_FAILED', 'The database schema is newer than this build of Vigil', {
          databaseVersion: newest,
          knownVersion: migrations.length,
        });
      }
      for (const migration of migrations) {
        const details = { version: migration.version, name: migration.name };
        const appliedName = applied.get(migration.version);
        if (appliedName !== undefined) {
          if (appliedName !== migration.name) {
            throw new PlatformError('STORE_MIGRATION_FAILED', 'The database ran a different migration under this version number', { ...details, appliedName });
          }
          continue;
        }
        try {
          await client.query(migration.sql);
          await client.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [migration.version, migration.name]);
        } catch (cause) {
          throw new PlatformError('STORE_MIGRATION_FAILED', 'A schema migration failed and was rolled back', details, { cause });
        }
      }
    },
    (cause) => new PlatformError('STORE_MIGRATION_FAILED', 'Could not migrate the PostgreSQL database', {}, { cause }),
  );
}

/**
 * Runs `work` in a transaction on one pooled connection: COMMIT if it resolves, ROLLBACK if it throws.
 * A PlatformError passes through; anything else becomes `wrap(cause)`. A connection that failed is
 * discarded rather than returned to the pool.
 */
export async function inTransaction<T>(
  pool: PostgresPool,
  work: (client: PostgresClient) => Promise<T>,
  wrap: (cause: unknown) => PlatformError,
  begin = 'BEGIN',
): Promise<T> {
  let client: PostgresClient;
  try {
    client = await pool.connect();
  } catch (cause) {
    throw wrap(cause);
  }
  let broken = false;
  try {
    await client.query(begin);
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (cause) {
    await client.query('ROLLBACK').catch(() => {
      broken = true;
    });
    if (isPlatformError(cause)) throw cause;
    throw wrap(cause);
  } finally {
    client.release(broken);
  }
}
