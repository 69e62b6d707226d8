import { afterEach, describe, expect, it } from 'vitest';
import { isPlatformError } from '../../domain/errors.js';
import { createTestSchema, POSTGRES_SKIP_REASON, POSTGRES_TEST_URL, postgresSkipNote, type TestSchema } from './internal/test-database.js';
import { POSTGRES_MIGRATIONS, type PostgresMigration } from './migrations.js';
import { migratePostgres, openPostgres, type PostgresPool } from './open-postgres.js';
import { expectMigrated, LEGACY_STUDY_ROWS_SQL } from '../../../test/fixtures/stores/legacy-study-rows.js';

async function codeOf(run: () => Promise<unknown>): Promise<string> {
  try {
    await run();
    return 'no error';
  } catch (error) {
    return isPlatformError(error) ? error.code : 'not a PlatformError';
  }
}

describe.skipIf(POSTGRES_SKIP_REASON !== undefined)(`openPostgres and its migrations${postgresSkipNote}`, () => {
  let schema: TestSchema;
  afterEach(async () => {
    await schema.drop();
  });

  const tablesOf = async (pool: PostgresPool): Promise<string[]> =>
    (await pool.query<{ name: string }>('SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema() ORDER BY 1')).rows.map(
      (r) => r.name,
    );

  it('migrates a new schema once when several processes open it at the same moment', async () => {
    schema = await createTestSchema();
    const pools = await Promise.all(Array.from({ length: 6 }, () => schema.open({ maxConnections: 1 })));
    const first = pools[0] as PostgresPool;
    const applied = await first.query<{ version: number; name: string }>('SELECT version, name FROM schema_migrations ORDER BY version');
    expect(applied.rows).toEqual(POSTGRES_MIGRATIONS.map((m) => ({ version: m.version, name: m.name })));
    expect(await tablesOf(first)).toEqual(
      expect.arrayContaining([
        'audit_entries',
        'audit_tree_heads',
        'audit_signing_key',
        'jobs',
        'studies',
        'study_instances',
        'cases',
        'worklist_items',
        'reviews',
      ]),
    );
    // Opening again changes nothing.
    await migratePostgres(first, POSTGRES_MIGRATIONS);
    expect((await first.query('SELECT count(*) AS n FROM schema_migrations')).rows[0]).toEqual({ n: POSTGRES_MIGRATIONS.length });
  });

  it('brings studies, cases and worklist items of a schema before the study lifecycle into it', async () => {
    schema = await createTestSchema();
    const old = await schema.open({ migrations: POSTGRES_MIGRATIONS.slice(0, 7) });
    await old.query(LEGACY_STUDY_ROWS_SQL);
    const pool = await schema.open();
    await expectMigrated(async (sql) => (await pool.query<Record<string, unknown>>(sql)).rows);
    await expect(pool.query(`UPDATE studies SET state = 'lost'`)).rejects.toThrow(/check constraint/);
  });

  it('keeps each schema to itself (tests and sites can share a server)', async () => {
    schema = await createTestSchema();
    const pool = await schema.open();
    const other = await createTestSchema();
    try {
      const otherPool = await other.open();
      await pool.query("INSERT INTO cases (case_id, study_key, model, created_at_ms, results) VALUES ('c1', 'st', '{}', 0, '[]')");
      expect((await otherPool.query('SELECT count(*) AS n FROM cases')).rows[0]).toEqual({ n: 0 });
    } finally {
      await other.drop();
    }
  });

  it('rolls back every migration of a run when one fails, and says which', async () => {
    schema = await createTestSchema();
    const broken: PostgresMigration[] = [
      { version: 1, name: 'fine', sql: 'CREATE TABLE fine (x integer)' },
      { version: 2, name: 'broken', sql: 'CREATE TABLE broken (x no_such_type)' },
    ];
    let error: unknown;
    try {
      await schema.open({ migrations: broken });
    } catch (caught) {
      error = caught;
    }
    expect(isPlatformError(error) && error.code).toBe('STORE_MIGRATION_FAILED');
    expect(isPlatformError(error) && error.details).toEqual({ version: 2, name: 'broken' });
    const pool = await schema.open({ migrations: [] });
    expect(await tablesOf(pool)).toEqual(['schema_migrations']);
  });

  it('refuses a schema newer than this build, another migration under a known number, and gaps in the numbering', async () => {
    schema = await createTestSchema();
    const pool = await schema.open();
    expect(await codeOf(() => migratePostgres(pool, POSTGRES_MIGRATIONS.slice(0, 2)))).toBe('STORE_MIGRATION_FAILED');
    const renamed = POSTGRES_MIGRATIONS.map((m) => (m.version === 2 ? { ...m, name: 'something_else' } : m));
    expect(await codeOf(() => migratePostgres(pool, renamed))).toBe('STORE_MIGRATION_FAILED');
    expect(await codeOf(() => migratePostgres(pool, [{ version: 2, name: 'x', sql: '' }]))).toBe('STORE_MIGRATION_FAILED');
  });

  it('says STORE_OPEN_FAILED for a server it cannot reach, without the password', async () => {
    let error: unknown;
    try {
      await openPostgres({ connectionString: 'postgres://vigil:hunter2@127.0.0.1:1/vigil' });
    } catch (caught) {
      error = caught;
    }
    expect(isPlatformError(error) && error.code).toBe('STORE_OPEN_FAILED');
    expect(JSON.stringify({ message: (error as Error).message, details: isPlatformError(error) ? error.details : {} })).not.toContain('hunter2');
    schema = await createTestSchema();
  });

  it('refuses a server that acknowledges commits before they are durable', async () => {
    schema = await createTestSchema();
    const url = new URL(POSTGRES_TEST_URL);
    url.searchParams.set('options', '-c synchronous_commit=off');
    expect(await codeOf(() => openPostgres({ connectionString: url.toString(), schema: schema.schema }))).toBe('STORE_OPEN_FAILED');
  });
});
