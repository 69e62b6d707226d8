/**
 * The behaviour every `WorklistStore` must show, written once and run against each store (STYLE.md,
 * "Contract suites"). Items belong to saved cases, so the factory gives the case store of the same
 * store too, and may give a second worklist on it (another process) for concurrent reviews.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { CaseStore } from './case-store.js';
import { createManualClock, type ManualClock } from './job-queue.contract.js';
import type { NewWorklistItem, WorklistItem, WorklistStore } from './worklist-store.js';

export interface WorklistStoreFixture {
  readonly worklist: WorklistStore;
  readonly cases: CaseStore;
  readonly second?: WorklistStore;
  dispose(): void | Promise<void>;
}

const model = { id: 'm', version: '1.0.0', sha256: 'a'.repeat(64) };
const read = { findingPresent: true, imageQualityAdequate: false, agreesWithModel: null, comment: 'blurred' };

/** An item of case c1 with no summary columns known, unless given. */
const newItem = (itemId: string, resultIndex: number, reasons: NewWorklistItem['reasons'], more: Partial<NewWorklistItem> = {}): NewWorklistItem => ({
  itemId,
  caseId: 'c1',
  studyKey: 'st-1',
  resultIndex,
  resultIndexes: [resultIndex],
  reasons,
  modalities: [],
  bodyPart: null,
  patientAgeYears: null,
  site: null,
  device: null,
  probability: null,
  samplingProbability: null,
  ...more,
});

const ids = (items: readonly WorklistItem[]): string[] => items.map((i) => i.itemId);

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
      const item = newItem('c1#0', 0, ['model_referred'], {
        resultIndexes: [0, 2, 5],
        modalities: ['CR', 'DX'],
        bodyPart: 'CHEST',
        patientAgeYears: '1-5',
        site: 'north',
        device: 'Acme X1',
        probability: 0.625,
      });
      expect(await worklist.addItems([item])).toBe(1);
      expect(await worklist.addItems([item]), 'idempotent').toBe(0);
      expect(await worklist.addItems([])).toBe(0);
      expect(await worklist.get('c1#0')).toEqual({ ...item, priority: 'referred', state: 'open', createdAt: '2026-01-01T00:00:00.000Z' });
      expect(ids((await worklist.list({ limit: 10 })).items)).toEqual(['c1#0']);
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
      expect((await worklist.list({ limit: 10 })).items).toEqual([]);
      expect(ids((await worklist.list({ limit: 10, state: 'reviewed' })).items)).toEqual(['c1#0']);
      expect((await worklist.get('c1#0'))?.state).toBe('reviewed');
      expect(await worklist.listReviews(10)).toEqual([review]);
      expect(await worklist.get('nope')).toBeUndefined();
    });

    it('keeps the probability each item was put on the worklist with (migration 20), exactly, and null for none kept', async () => {
      const { worklist } = await open();
      const sampled = newItem('c1#0', 0, ['random_sample'], { samplingProbability: 0.1 + 0.2 });
      const ruled = newItem('c1#1', 1, ['gate_rejected'], { samplingProbability: 1 });
      const older = newItem('c1#2', 2, ['random_sample']);
      await worklist.addItems([sampled, ruled, older]);
      expect((await worklist.get('c1#0'))?.samplingProbability).toBe(0.1 + 0.2);
      expect((await worklist.get('c1#1'))?.samplingProbability).toBe(1);
      expect((await worklist.get('c1#2'))?.samplingProbability).toBeNull();
      expect((await worklist.list({ limit: 10 })).items.map((i) => [i.itemId, i.samplingProbability])).toEqual([
        ['c1#1', 1],
        ['c1#0', 0.1 + 0.2],
        ['c1#2', null],
      ]);
    });

    it('lists open items of one priority oldest first up to the limit, reviews newest first, and keeps every read field', async () => {
      const { worklist } = await open();
      for (const i of [0, 1, 2]) {
        await worklist.addItems([newItem(`c1#${i}`, i, ['random_sample', 'gate_warned'])]);
        clock.advance(1_000);
      }
      expect(ids((await worklist.list({ limit: 2 })).items)).toEqual(['c1#0', 'c1#1']);
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
      expect(ids((await worklist.list({ limit: 10 })).items)).toEqual(['c1#2']);
    });

    it("closes a superseded case's open items, keeps its reads, and lists a case's items and reads", async () => {
      const { worklist } = await open();
      await worklist.addItems([0, 1, 2].map((i) => newItem(`c1#${i}`, i, ['model_referred'])));
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
      expect((await worklist.list({ limit: 10 })).items, 'nothing superseded is offered for review').toEqual([]);
      expect(await worklist.recordReview('c1#0', 'u-2', read), 'a closed item takes no read').toBeUndefined();
      expect((await worklist.reviewsForCase('c1')).map((r) => [r.itemId, r.reviewerId, r.read])).toEqual([['c1#1', 'u-1', read]]);
      expect(await worklist.reviewsForCase('c-unknown')).toEqual([]);
      expect(await worklist.listForCase('c-unknown')).toEqual([]);
    });

    it('lists by clinical priority (referred, warned, rejected, sampled), then oldest waiting first, and counts each priority', async () => {
      const { worklist } = await open();
      // Added oldest first in the reverse of the priority order, so that age alone would sort them wrong.
      const added: [string, NewWorklistItem['reasons']][] = [
        ['sampled-old', ['random_sample']],
        ['rejected-old', ['gate_rejected', 'gate_unchecked']],
        ['warned-old', ['gate_warned']],
        ['referred-old', ['gate_rejected', 'model_referred']],
        ['rejected-new', ['gate_rejected']],
        ['referred-new', ['model_referred']],
      ];
      for (const [id, reasons] of added) {
        await worklist.addItems([newItem(id, 0, reasons)]);
        clock.advance(1_000);
      }
      expect(ids((await worklist.list({ limit: 10 })).items)).toEqual([
        'referred-old',
        'referred-new',
        'warned-old',
        'rejected-old',
        'rejected-new',
        'sampled-old',
      ]);
      expect((await worklist.get('rejected-old'))?.priority).toBe('rejected');
      expect(await worklist.countByPriority({})).toEqual({ referred: 2, warned: 1, rejected: 2, sampled: 1 });
      expect(await worklist.countByPriority({ priority: 'referred', reason: 'gate_rejected' }), 'priority ignored, reason kept').toEqual({
        referred: 1,
        warned: 0,
        rejected: 2,
        sampled: 0,
      });
    });

    it('pages with a cursor through every item exactly once, in order', async () => {
      const { worklist } = await open();
      const reasons: NewWorklistItem['reasons'][] = [['gate_rejected'], ['model_referred'], ['gate_warned'], ['random_sample']];
      const all: NewWorklistItem[] = [];
      for (let i = 0; i < 11; i++) {
        all.push(newItem(`c1#${i}`, i, reasons[i % 4] as NewWorklistItem['reasons']));
        // Two at each instant: the item id breaks the tie.
        if (i % 2 === 1) {
          await worklist.addItems(all.slice(-2));
          clock.advance(1_000);
        }
      }
      await worklist.addItems(all.slice(-1));
      const whole = ids((await worklist.list({ limit: 100 })).items);
      expect(whole).toHaveLength(11);
      const paged: string[] = [];
      let after: Awaited<ReturnType<WorklistStore['list']>>['next'];
      for (let pages = 0; pages < 10; pages++) {
        const page = await worklist.list({ limit: 3, ...(after === undefined ? {} : { after }) });
        paged.push(...ids(page.items));
        after = page.next;
        if (after === undefined) break;
      }
      expect(paged).toEqual(whole);
      expect((await worklist.list({ limit: 11 })).next, 'a full page may be followed by more').toBeDefined();
      expect((await worklist.list({ limit: 12 })).next).toBeUndefined();
    });

    it('filters by reason, modality, site, device and time, all together', async () => {
      const { worklist } = await open();
      await worklist.addItems([
        newItem('ct', 0, ['gate_rejected'], { modalities: ['CT', 'SR'], site: 'north', device: 'GE Revolution' }),
        newItem('cr', 1, ['model_referred'], { modalities: ['CR'], site: 'south', device: 'Acme X1', bodyPart: 'CHEST', probability: 0.5 }),
      ]);
      clock.advance(60_000);
      await worklist.addItems([newItem('us', 2, ['gate_rejected', 'gate_unchecked'], { modalities: ['US'], site: 'north' })]);
      const t0 = Date.parse('2026-01-01T00:00:00.000Z');
      const find = async (filter: Parameters<WorklistStore['list']>[0]) => ids((await worklist.list(filter)).items);
      expect(await find({ limit: 10, reason: 'gate_rejected' })).toEqual(['ct', 'us']);
      expect(await find({ limit: 10, reason: 'gate_unchecked' })).toEqual(['us']);
      expect(await find({ limit: 10, modality: 'CT' })).toEqual(['ct']);
      expect(await find({ limit: 10, modality: 'SR' })).toEqual(['ct']);
      expect(await find({ limit: 10, modality: 'C' }), 'a whole modality, not a part of one').toEqual([]);
      expect(await find({ limit: 10, site: 'north' })).toEqual(['ct', 'us']);
      expect(await find({ limit: 10, device: 'Acme X1' })).toEqual(['cr']);
      expect(await find({ limit: 10, priority: 'rejected', site: 'north', modality: 'US' })).toEqual(['us']);
      expect(await find({ limit: 10, fromMs: t0 + 1 })).toEqual(['us']);
      expect(await find({ limit: 10, toMs: t0 + 1 })).toEqual(['cr', 'ct']);
      expect(await find({ limit: 10, fromMs: t0, toMs: t0 })).toEqual([]);
      expect(await worklist.countByPriority({ site: 'north' })).toEqual({ referred: 0, warned: 0, rejected: 2, sampled: 0 });
      const cr = await worklist.get('cr');
      expect([cr?.modalities, cr?.bodyPart, cr?.site, cr?.device, cr?.probability]).toEqual([['CR'], 'CHEST', 'south', 'Acme X1', 0.5]);
    });

    it('takes exactly one of two reviews of one item sent at once', async () => {
      const { worklist } = await open();
      const other = fixture?.second ?? worklist;
      await worklist.addItems([newItem('c1#0', 0, ['model_referred'])]);
      const outcomes = await Promise.all([worklist.recordReview('c1#0', 'u-1', read), other.recordReview('c1#0', 'u-2', read)]);
      expect(outcomes.filter((o) => o !== undefined)).toHaveLength(1);
      expect(await worklist.listReviews(10)).toHaveLength(1);
    });
  });
}
