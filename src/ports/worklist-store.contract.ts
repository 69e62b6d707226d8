/**
 * The behaviour every `WorklistStore` must show, written once and run against each store (STYLE.md,
 * "Contract suites"). Items belong to saved cases, so the factory gives the case store of the same
 * store too, and may give a second worklist on it (another process) for concurrent reviews.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { CaseStore } from './case-store.js';
import { createManualClock, type ManualClock } from './job-queue.contract.js';
import type { WorklistStore } from './worklist-store.js';

export interface WorklistStoreFixture {
  readonly worklist: WorklistStore;
  readonly cases: CaseStore;
  readonly second?: WorklistStore;
  dispose(): void | Promise<void>;
}

const model = { id: 'm', version: '1.0.0', sha256: 'a'.repeat(64) };
const read = { findingPresent: true, imageQualityAdequate: false, agreesWithModel: null, comment: 'blurred' };

export function describeWorklistStore(name: string, factory: (clock: ManualClock) => WorklistStoreFixture | Promise<WorklistStoreFixture>): void {
  describe(`WorklistStore contract: ${name}`, () => {
    let fixture: WorklistStoreFixture | undefined;
    let clock: ManualClock;
    const open = async (): Promise<WorklistStoreFixture> => {
      clock = createManualClock();
      fixture = await factory(clock);
      await fixture.cases.save({ caseId: 'c1', studyKey: 'st-1', model, instances: 1, results: [] });
      return fixture;
    };
    afterEach(async () => {
      await fixture?.dispose();
      fixture = undefined;
    });

    it('adds items once, takes one review per item, and lists reviews with their case', async () => {
      const { worklist } = await open();
      const item = { itemId: 'c1#0', caseId: 'c1', studyKey: 'st-1', resultIndex: 0, reasons: ['model_referred' as const] };
      expect(await worklist.addItems([item])).toBe(1);
      expect(await worklist.addItems([item]), 'idempotent').toBe(0);
      expect(await worklist.addItems([])).toBe(0);
      expect(await worklist.get('c1#0')).toEqual({ ...item, state: 'open', createdAt: '2026-01-01T00:00:00.000Z' });
      expect((await worklist.listOpen(10)).map((i) => i.itemId)).toEqual(['c1#0']);
      clock.advance(1_000);
      const review = await worklist.recordReview('c1#0', 'u-1', read);
      expect(review?.reviewId).toMatch(/^r-/);
      expect(review).toEqual({
        reviewId: review?.reviewId,
        itemId: 'c1#0',
        caseId: 'c1',
        studyKey: 'st-1',
        reviewerId: 'u-1',
        read,
        createdAt: '2026-01-01T00:00:01.000Z',
      });
      expect(await worklist.recordReview('c1#0', 'u-2', read)).toBeUndefined();
      expect(await worklist.recordReview('nope', 'u-2', read)).toBeUndefined();
      expect(await worklist.listOpen(10)).toEqual([]);
      expect((await worklist.get('c1#0'))?.state).toBe('reviewed');
      expect(await worklist.listReviews(10)).toEqual([review]);
      expect(await worklist.get('nope')).toBeUndefined();
    });

    it('lists open items oldest first up to the limit, reviews newest first, and keeps every read field', async () => {
      const { worklist } = await open();
      for (const i of [0, 1, 2]) {
        await worklist.addItems([{ itemId: `c1#${i}`, caseId: 'c1', studyKey: 'st-1', resultIndex: i, reasons: ['random_sample', 'gate_warned'] }]);
        clock.advance(1_000);
      }
      expect((await worklist.listOpen(2)).map((i) => i.itemId)).toEqual(['c1#0', 'c1#1']);
      expect((await worklist.get('c1#2'))?.reasons).toEqual(['random_sample', 'gate_warned']);
      const reads = [
        { findingPresent: null, imageQualityAdequate: true, agreesWithModel: true, comment: '' },
        { findingPresent: false, imageQualityAdequate: true, agreesWithModel: false, comment: 'ünïcode, "quotes"' },
      ];
      await worklist.recordReview('c1#1', 'u-1', reads[0] as (typeof reads)[0]);
      clock.advance(1_000);
      await worklist.recordReview('c1#0', 'u-2', reads[1] as (typeof reads)[0]);
      expect((await worklist.listReviews(10)).map((r) => [r.itemId, r.read])).toEqual([
        ['c1#0', reads[1]],
        ['c1#1', reads[0]],
      ]);
      expect(await worklist.listReviews(1)).toHaveLength(1);
      expect((await worklist.listOpen(10)).map((i) => i.itemId)).toEqual(['c1#2']);
    });

    it("closes a superseded case's open items, keeps its reads, and lists a case's items and reads", async () => {
      const { worklist } = await open();
      await worklist.addItems(
        [0, 1, 2].map((i) => ({ itemId: `c1#${i}`, caseId: 'c1', studyKey: 'st-1', resultIndex: i, reasons: ['model_referred' as const] })),
      );
      clock.advance(1_000);
      await worklist.recordReview('c1#1', 'u-1', read);
      expect(await worklist.closeSuperseded('c1'), 'the two still open').toBe(2);
      expect(await worklist.closeSuperseded('c1'), 'idempotent').toBe(0);
      expect(await worklist.closeSuperseded('c-unknown')).toBe(0);
      expect((await worklist.listForCase('c1')).map((i) => [i.itemId, i.state])).toEqual([
        ['c1#0', 'superseded'],
        ['c1#1', 'reviewed'],
        ['c1#2', 'superseded'],
      ]);
      expect(await worklist.listOpen(10), 'nothing superseded is offered for review').toEqual([]);
      expect(await worklist.recordReview('c1#0', 'u-2', read), 'a closed item takes no read').toBeUndefined();
      expect((await worklist.reviewsForCase('c1')).map((r) => [r.itemId, r.reviewerId, r.read])).toEqual([['c1#1', 'u-1', read]]);
      expect(await worklist.reviewsForCase('c-unknown')).toEqual([]);
      expect(await worklist.listForCase('c-unknown')).toEqual([]);
    });

    it('takes exactly one of two reviews of one item sent at once', async () => {
      const { worklist } = await open();
      const other = fixture?.second ?? worklist;
      await worklist.addItems([{ itemId: 'c1#0', caseId: 'c1', studyKey: 'st-1', resultIndex: 0, reasons: ['model_referred'] }]);
      const outcomes = await Promise.all([worklist.recordReview('c1#0', 'u-1', read), other.recordReview('c1#0', 'u-2', read)]);
      expect(outcomes.filter((o) => o !== undefined)).toHaveLength(1);
      expect(await worklist.listReviews(10)).toHaveLength(1);
    });
  });
}
