import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createManualClock, type ManualClock } from '../../ports/job-queue.contract.js';
import { openSqliteDatabase, type SqliteDatabase } from './open-sqlite.js';
import { SqliteCaseStore, SqliteStudyRegistry } from './sqlite-study-registry.js';

let dir: string;
let db: SqliteDatabase;
let clock: ManualClock;
const open = (): void => {
  dir = mkdtempSync(join(tmpdir(), 'vigil-studies-'));
  db = openSqliteDatabase({ dataDir: dir });
  clock = createManualClock();
};
afterEach(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('SqliteStudyRegistry', () => {
  it('counts each instance once, and finds a study complete after its quiet period', async () => {
    open();
    const studies = new SqliteStudyRegistry(db, clock);
    expect(await studies.recordInstance('st-1', '2.25.1', '2.25.11')).toBe(true);
    clock.advance(1_000);
    expect(await studies.recordInstance('st-1', '2.25.1', '2.25.12')).toBe(true);
    expect(await studies.recordInstance('st-1', '2.25.1', '2.25.12'), 'a resend').toBe(false);
    expect(await studies.get('st-1')).toMatchObject({ instances: 2, state: 'receiving' });
    clock.advance(4_999);
    expect(await studies.quietStudies(5_000)).toEqual([]);
    clock.advance(1);
    expect((await studies.quietStudies(5_000)).map((s) => s.studyKey)).toEqual(['st-1']);
  });

  it('does not mark a study queued when an instance arrived after it was counted, and reopens a queued study', async () => {
    open();
    const studies = new SqliteStudyRegistry(db, clock);
    await studies.recordInstance('st-1', '2.25.1', '2.25.11');
    await studies.recordInstance('st-1', '2.25.1', '2.25.12');
    expect(await studies.markQueued('st-1', 1)).toBe(false);
    expect(await studies.markQueued('st-1', 2)).toBe(true);
    expect((await studies.get('st-1'))?.state).toBe('queued');
    await studies.recordInstance('st-1', '2.25.1', '2.25.13');
    expect(await studies.get('st-1')).toMatchObject({ state: 'receiving', instances: 3 });
  });
});

describe('SqliteCaseStore', () => {
  it('saves a case once per id', async () => {
    open();
    const cases = new SqliteCaseStore(db, clock);
    const model = { id: 'm', version: '1.0.0', sha256: 'a'.repeat(64) };
    expect(await cases.save({ caseId: 'c1', studyKey: 'st-1', model, results: [{ n: 1 }] })).toBe('saved');
    expect(await cases.save({ caseId: 'c1', studyKey: 'st-1', model, results: [{ n: 2 }] })).toBe('exists');
    expect((await cases.get('c1'))?.results).toEqual([{ n: 1 }]);
    expect((await cases.listForStudy('st-1')).map((c) => c.caseId)).toEqual(['c1']);
  });
});
