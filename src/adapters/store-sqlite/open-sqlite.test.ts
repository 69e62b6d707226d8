import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isPlatformError } from '../../domain/errors.js';
import { SQLITE_MIGRATIONS, type SqliteMigration } from './migrations.js';
import { openSqliteDatabase } from './open-sqlite.js';
import { expectMigrated, LEGACY_STUDY_ROWS_SQL } from '../../../test/fixtures/stores/legacy-study-rows.js';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-sqlite-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function failure(run: () => unknown): { code: string; details: unknown } {
  try {
    run();
  } catch (error) {
    if (isPlatformError(error)) return { code: error.code, details: error.details };
    throw error;
  }
  throw new Error('expected a PlatformError');
}

const known = SQLITE_MIGRATIONS.length;
const next = known + 1;
const applied = SQLITE_MIGRATIONS.map(({ version, name }) => ({ version, name }));
const extra: SqliteMigration = { version: next, name: 'notes', sql: 'CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT NOT NULL) STRICT;' };

describe('openSqliteDatabase', () => {
  it('sets WAL, synchronous=FULL, foreign keys and a busy timeout', () => {
    const db = openSqliteDatabase({ dataDir: join(tempDir(), 'nested', 'data'), busyTimeoutMs: 1234 });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('synchronous', { simple: true })).toBe(2); // FULL
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(db.pragma('busy_timeout', { simple: true })).toBe(1234);
    db.close();
  });

  it('runs each migration once and records it', () => {
    const dir = tempDir();
    let db = openSqliteDatabase({ dataDir: dir });
    expect(db.prepare('SELECT version, name FROM schema_migrations ORDER BY version').all()).toEqual(applied);
    expect(applied[0]).toEqual({ version: 1, name: 'audit_log' });
    db.close();
    db = openSqliteDatabase({ dataDir: dir, migrations: [...SQLITE_MIGRATIONS, extra] });
    db.close();
    db = openSqliteDatabase({ dataDir: dir, migrations: [...SQLITE_MIGRATIONS, extra] });
    expect(db.prepare('SELECT version, name FROM schema_migrations ORDER BY version').all()).toEqual([...applied, { version: next, name: 'notes' }]);
    expect(
      db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('audit_entries', 'audit_tree_heads', 'notes') ORDER BY name").pluck().all(),
    ).toEqual(['audit_entries', 'audit_tree_heads', 'notes']);
    db.close();
  });

  it('brings studies, cases and worklist items of a database before the study lifecycle into it, foreign keys intact', async () => {
    const dir = tempDir();
    let db = openSqliteDatabase({ dataDir: dir, migrations: SQLITE_MIGRATIONS.slice(0, 7) });
    db.exec(LEGACY_STUDY_ROWS_SQL);
    db.close();
    db = openSqliteDatabase({ dataDir: dir });
    await expectMigrated((sql) => db.prepare<[], Record<string, unknown>>(sql).all());
    expect(db.pragma('foreign_key_check')).toEqual([]);
    expect(db.pragma('foreign_keys', { simple: true }), 'switched back on after the rebuild').toBe(1);
    // The rebuilt tables still refuse what they refused.
    expect(() => db.prepare(`UPDATE studies SET state = 'lost'`).run()).toThrow(/CHECK/);
    expect(() =>
      db
        .prepare(
          `INSERT INTO worklist_items (item_id, case_id, study_key, result_index, reasons, state, created_at_ms) VALUES ('x#0', 'no-such-case', 'st-x', 0, '[]', 'open', 0)`,
        )
        .run(),
    ).toThrow(/FOREIGN KEY/);
    db.close();
  });

  it('rolls a failing migration back whole and reports STORE_MIGRATION_FAILED', () => {
    const dir = tempDir();
    const broken: SqliteMigration = { version: next, name: 'broken', sql: 'CREATE TABLE half (x INTEGER); CREATE TABLE nope (;' };
    expect(failure(() => openSqliteDatabase({ dataDir: dir, migrations: [...SQLITE_MIGRATIONS, broken] }))).toEqual({
      code: 'STORE_MIGRATION_FAILED',
      details: { version: next, name: 'broken' },
    });
    const db = openSqliteDatabase({ dataDir: dir });
    expect(db.prepare("SELECT count(*) FROM sqlite_master WHERE name = 'half'").pluck().get()).toBe(0);
    expect(db.prepare('SELECT max(version) FROM schema_migrations').pluck().get()).toBe(known);
    db.close();
  });

  it('refuses a database migrated by a newer build, or by a different migration under the same number', () => {
    const dir = tempDir();
    openSqliteDatabase({ dataDir: dir, migrations: [...SQLITE_MIGRATIONS, extra] }).close();
    expect(failure(() => openSqliteDatabase({ dataDir: dir }))).toEqual({
      code: 'STORE_MIGRATION_FAILED',
      details: { databaseVersion: next, knownVersion: known },
    });
    expect(failure(() => openSqliteDatabase({ dataDir: dir, migrations: [...SQLITE_MIGRATIONS, { ...extra, name: 'other' }] }))).toMatchObject({
      code: 'STORE_MIGRATION_FAILED',
      details: { version: next, name: 'other', appliedName: 'notes' },
    });
  });

  it('refuses a migration list that is not numbered 1, 2, 3, …', () => {
    expect(
      failure(() =>
        openSqliteDatabase({
          dataDir: tempDir(),
          migrations: [
            { ...extra, version: 1 },
            { ...extra, version: 3 },
          ],
        }),
      ).code,
    ).toBe('STORE_MIGRATION_FAILED');
  });

  it('wraps a file that cannot be opened as STORE_OPEN_FAILED, without the path in details', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'not-a-folder'), 'x');
    expect(failure(() => openSqliteDatabase({ dataDir: join(dir, 'not-a-folder') }))).toEqual({ code: 'STORE_OPEN_FAILED', details: {} });
    writeFileSync(join(dir, 'vigil.sqlite'), 'this is not a database, just text long enough to have a header.......');
    expect(failure(() => openSqliteDatabase({ dataDir: dir })).code).toBe('STORE_OPEN_FAILED');
  });
});

describe('SQLITE_MIGRATIONS', () => {
  it('is numbered 1, 2, 3, … with unique names', () => {
    expect(SQLITE_MIGRATIONS.map((m) => m.version)).toEqual(SQLITE_MIGRATIONS.map((_, i) => i + 1));
    expect(new Set(SQLITE_MIGRATIONS.map((m) => m.name)).size).toBe(SQLITE_MIGRATIONS.length);
  });
});
