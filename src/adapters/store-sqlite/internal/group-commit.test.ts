import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { openSqliteDatabase, type SqliteDatabase } from '../open-sqlite.js';
import { SqliteStudyRegistry } from '../sqlite-study-registry.js';
import { GroupCommit } from './group-commit.js';

const clock = { now: () => new Date('2026-11-24T08:00:00Z') };
const opened: { dir: string; dbs: SqliteDatabase[] }[] = [];
afterEach(() => {
  for (const { dir, dbs } of opened.splice(0)) {
    for (const db of dbs) db.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

/** One connection that writes, and a second one to the same file that sees only what was committed. */
function setUp(): { db: SqliteDatabase; committed: (sql: string) => unknown } {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-group-commit-'));
  const db = openSqliteDatabase({ dataDir: dir });
  const reader = openSqliteDatabase({ dataDir: dir });
  opened.push({ dir, dbs: [db, reader] });
  db.exec('CREATE TABLE t (v INTEGER NOT NULL CHECK (v >= 0))');
  return { db, committed: (sql) => reader.prepare(sql).pluck().get() };
}

describe('GroupCommit', () => {
  it('commits the writes asked for together in one transaction, and answers none of them before that commit', async () => {
    const { db, committed } = setUp();
    const begin = vi.spyOn(db, 'transaction');
    const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
    const seenAtAnswer: unknown[] = [];
    const writes = Array.from({ length: 8 }, (_, i) =>
      GroupCommit.for(db)
        .run(() => insert.run(i).changes)
        .then((changes) => {
          seenAtAnswer.push(committed('SELECT count(*) FROM t'));
          return changes;
        }),
    );
    expect(committed('SELECT count(*) FROM t'), 'nothing is written before the batch runs').toBe(0);
    expect(await Promise.all(writes)).toEqual(Array(8).fill(1));
    // Every caller was answered only once all 8 rows were visible to another connection: committed, together.
    expect(seenAtAnswer).toEqual(Array(8).fill(8));
    // One outer transaction (BEGIN IMMEDIATE … COMMIT) and one savepoint per write.
    expect(begin).toHaveBeenCalledTimes(9);
  });

  it('rolls back a write that throws alone: its caller gets the error, the others commit', async () => {
    const { db, committed } = setUp();
    const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
    const outcomes = await Promise.allSettled([-1, 1, -2, 2].map((v) => GroupCommit.for(db).run(() => insert.run(v))));
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'fulfilled', 'rejected', 'fulfilled']);
    expect(committed('SELECT group_concat(v) FROM (SELECT v FROM t ORDER BY v)')).toBe('1,2');
  });

  it('fails every caller when the COMMIT fails, and writes none of the batch', async () => {
    const { db, committed } = setUp();
    // A deferred foreign key is checked at COMMIT: a dangling reference makes the commit itself fail.
    db.exec('CREATE TABLE parent (id INTEGER PRIMARY KEY); CREATE TABLE child (p INTEGER REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED)');
    const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
    const outcomes = await Promise.allSettled([
      GroupCommit.for(db).run(() => insert.run(1)),
      GroupCommit.for(db).run(() => db.prepare('INSERT INTO child (p) VALUES (42)').run()),
      GroupCommit.for(db).run(() => insert.run(2)),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected', 'rejected']);
    expect(committed('SELECT count(*) FROM t')).toBe(0);
    expect(await GroupCommit.for(db).run(() => insert.run(3).changes), 'the next batch is independent').toBe(1);
  });

  it('answers a batch only after the WAL file is fsynced off the event loop, and leaves the connection at synchronous=FULL', async () => {
    const { db, committed } = setUp();
    const syncs: { path: string; done: () => void }[] = [];
    const commits = GroupCommit.for(db, { syncFile: (path) => new Promise<void>((resolve) => syncs.push({ path, done: resolve })) });
    const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
    let answered = 0;
    const writes = [1, 2, 3].map((v) => commits.run(() => insert.run(v)).then(() => answered++));
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    expect(committed('SELECT count(*) FROM t'), 'committed').toBe(3);
    expect(syncs.map((s) => s.path)).toEqual([`${db.name}-wal`]);
    expect(answered, 'nobody is answered before the WAL is on disk').toBe(0);
    expect(db.pragma('synchronous', { simple: true }), 'other writes still sync at their commit').toBe(2);
    syncs[0]?.done();
    await Promise.all(writes);
    expect(answered).toBe(3);
  });

  it('fails every caller of the batch when the WAL fsync fails', async () => {
    const { db } = setUp();
    const commits = GroupCommit.for(db, { syncFile: () => Promise.reject(new Error('EIO')) });
    const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
    const outcomes = await Promise.allSettled([1, 2].map((v) => commits.run(() => insert.run(v))));
    expect(outcomes.map((o) => (o.status === 'rejected' ? String(o.reason) : o.status))).toEqual(['Error: EIO', 'Error: EIO']);
  });

  it('fsyncs the real WAL file by default', async () => {
    const { db, committed } = setUp();
    const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
    expect(await GroupCommit.for(db).run(() => insert.run(7).changes)).toBe(1);
    expect(committed('SELECT v FROM t')).toBe(7);
  });
});

describe('SqliteStudyRegistry.recordInstance, group-committed', () => {
  it('records instances of several studies sent at once, each answered after its commit, a duplicate once', async () => {
    const { db, committed } = setUp();
    const registry = new SqliteStudyRegistry(db, clock);
    const key = (i: number): string => `st-${String(i).padStart(32, '0')}`;
    const seenAtAnswer: unknown[] = [];
    const records = [0, 1, 2, 0, 1, 2, 0].map((study, i) =>
      registry.recordInstance(key(study), `2.25.${study}`, i === 6 ? '2.25.100' : `2.25.10${i}`).then((added) => {
        seenAtAnswer.push(committed('SELECT count(*) FROM study_instances'));
        return added;
      }),
    );
    expect(await Promise.all(records)).toEqual([true, true, true, true, true, true, false]);
    expect(seenAtAnswer).toEqual(Array(7).fill(6));
    expect((await registry.get(key(0)))?.instances).toBe(2);
  });
});
