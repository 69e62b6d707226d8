/**
 * The behaviour every `CaseStore` must show, written once and run against each store (STYLE.md,
 * "Contract suites"). The factory gets a clock the suite moves by hand.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { CaseStore } from './case-store.js';
import { createManualClock, type ManualClock } from './job-queue.contract.js';

export interface CaseStoreFixture {
  readonly cases: CaseStore;
  dispose(): void | Promise<void>;
}

const model = { id: 'm', version: '1.0.0', sha256: 'a'.repeat(64) };

export function describeCaseStore(name: string, factory: (clock: ManualClock) => CaseStoreFixture | Promise<CaseStoreFixture>): void {
  describe(`CaseStore contract: ${name}`, () => {
    let fixture: CaseStoreFixture | undefined;
    let clock: ManualClock;
    const open = async (): Promise<CaseStore> => {
      clock = createManualClock();
      fixture = await factory(clock);
      return fixture.cases;
    };
    afterEach(async () => {
      await fixture?.dispose();
      fixture = undefined;
    });

    it('saves a case once per id: saving again keeps the first', async () => {
      const cases = await open();
      expect(await cases.save({ caseId: 'c1', studyKey: 'st-1', model, results: [{ n: 1, nested: { p: 0.25 } }] })).toBe('saved');
      clock.advance(1_000);
      expect(await cases.save({ caseId: 'c1', studyKey: 'st-1', model, results: [{ n: 2 }] })).toBe('exists');
      expect(await cases.get('c1')).toEqual({
        caseId: 'c1',
        studyKey: 'st-1',
        model,
        createdAt: '2026-01-01T00:00:00.000Z',
        results: [{ n: 1, nested: { p: 0.25 } }],
      });
      expect(await cases.get('c-unknown')).toBeUndefined();
    });

    it("lists a study's cases oldest first, and all cases newest first up to the limit", async () => {
      const cases = await open();
      for (const [caseId, studyKey] of [
        ['c1', 'st-1'],
        ['c2', 'st-2'],
        ['c3', 'st-1'],
      ] as const) {
        await cases.save({ caseId, studyKey, model, results: [] });
        clock.advance(1_000);
      }
      expect((await cases.listForStudy('st-1')).map((c) => c.caseId)).toEqual(['c1', 'c3']);
      expect(await cases.listForStudy('st-unknown')).toEqual([]);
      expect((await cases.list(10)).map((c) => c.caseId)).toEqual(['c3', 'c2', 'c1']);
      expect((await cases.list(2)).map((c) => c.caseId)).toEqual(['c3', 'c2']);
    });
  });
}
