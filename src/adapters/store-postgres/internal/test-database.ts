/**
 * For tests: the PostgreSQL server tests use (VIGIL_TEST_DATABASE_URL, default the one `.ci/run`
 * starts on this machine), and a schema of their own per test, with a random name, dropped after, so
 * test files run in parallel and leave nothing behind. When the server cannot be reached,
 * `POSTGRES_SKIP_REASON` says why and the suites skip with it in their titles.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { describe, it } from 'vitest';
import { openPostgres, type OpenPostgresOptions, type PostgresPool } from '../open-postgres.js';

export const POSTGRES_TEST_URL = process.env['VIGIL_TEST_DATABASE_URL'] || 'postgres://postgres@127.0.0.1:5432/test';

async function probe(): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: POSTGRES_TEST_URL, connectionTimeoutMillis: 3_000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return undefined;
  } catch (error) {
    // The URL may hold a password: name only the host part.
    const where = POSTGRES_TEST_URL.replace(/\/\/[^@/]*@/, '//');
    return `PostgreSQL not reachable at ${where} (${(error as Error).message || (error as { code?: string }).code || 'no answer'}); set VIGIL_TEST_DATABASE_URL or run .ci/run as root`;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Undefined when the server answers; otherwise why the PostgreSQL tests skip. */
export const POSTGRES_SKIP_REASON: string | undefined = await probe();

/** ` (skipped: …)` to append to a suite's title, or '' when PostgreSQL is there. */
export const postgresSkipNote = POSTGRES_SKIP_REASON === undefined ? '' : ` (skipped: ${POSTGRES_SKIP_REASON})`;

export interface TestSchema {
  readonly schema: string;
  /** A migrated pool on this schema (each call a new pool: another "process"). */
  open(options?: Omit<OpenPostgresOptions, 'connectionString' | 'schema'>): Promise<PostgresPool>;
  /** Ends the pools it opened and drops the schema. */
  drop(): Promise<void>;
}

export async function createTestSchema(): Promise<TestSchema> {
  const schema = `vigil_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: POSTGRES_TEST_URL });
  await admin.connect();
  try {
    await admin.query(`CREATE SCHEMA ${schema}`);
  } finally {
    await admin.end();
  }
  const pools: PostgresPool[] = [];
  return {
    schema,
    async open(options = {}) {
      const pool = await openPostgres({ maxConnections: 4, ...options, connectionString: POSTGRES_TEST_URL, schema });
      pools.push(pool);
      return pool;
    },
    async drop() {
      for (const pool of pools.splice(0)) await pool.end().catch(() => undefined);
      const client = new pg.Client({ connectionString: POSTGRES_TEST_URL });
      await client.connect();
      try {
        await client.query(`DROP SCHEMA ${schema} CASCADE`);
      } finally {
        await client.end();
      }
    },
  };
}

/**
 * Registers a skipped suite whose title says why, for a test file whose suites all need PostgreSQL
 * (a file with no suite at all would fail the run instead of skipping).
 */
export function describeSkippedWithoutPostgres(name: string): void {
  describe.skip(`${name}${postgresSkipNote}`, () => {
    it('needs PostgreSQL', () => undefined);
  });
}
