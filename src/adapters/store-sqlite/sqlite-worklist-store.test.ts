import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createManualClock } from '../../ports/job-queue.contract.js';
import { openSqliteDatabase, type SqliteDatabase } from './open-sqlite.js';
import { SqliteCaseStore } from './sqlite-study-registry.js';
import { SqliteWorklistStore } from './sqlite-worklist-store.js';

let dir: string;
let db: SqliteDatabase;
afterEach(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('SqliteWorklistStore', () => {
  it('adds items once, takes one review per item, and lists reviews with their case', async () => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-worklist-'));
    db = openSqliteDatabase({ dataDir: dir });
    const clock = createManualClock();
    await new SqliteCaseStore(db, clock).save({ caseId: 'c1', studyKey: 'st-1', model: { id: 'm', version: '1.0.0', sha256: 'a'.repeat(64) }, results: [] });
    const worklist = new SqliteWorklistStore(db, clock);
    const item = { itemId: 'c1#0', caseId: 'c1', studyKey: 'st-1', resultIndex: 0, reasons: ['model_referred' as const] };
    expect(await worklist.addItems([item])).toBe(1);
    expect(await worklist.addItems([item]), 'idempotent').toBe(0);
    expect((await worklist.listOpen(10)).map((i) => i.itemId)).toEqual(['c1#0']);
    const read = { findingPresent: true, imageQualityAdequate: false, agreesWithModel: null, comment: 'blurred' };
    const review = await worklist.recordReview('c1#0', 'u-1', read);
    expect(review).toMatchObject({ itemId: 'c1#0', caseId: 'c1', studyKey: 'st-1', reviewerId: 'u-1', read });
    expect(await worklist.recordReview('c1#0', 'u-2', read)).toBeUndefined();
    expect(await worklist.recordReview('nope', 'u-2', read)).toBeUndefined();
    expect(await worklist.listOpen(10)).toEqual([]);
    expect((await worklist.listReviews(10)).map((r) => r.reviewerId)).toEqual(['u-1']);
  });
});
