/**
 * The behaviour every `CaseStore` must show, written once and run against each store (STYLE.md,
 * "Contract suites"). The factory gets a clock the suite moves by hand.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { CaseStore } from './case-store.js';
import { createManualClock, type ManualClock } from './job-queue.contract.js';

export interface CaseStoreFixture {
  readonly cases: CaseStore;
  /** Another store on the same database (another process), for saves at once. */
  readonly second?: CaseStore;
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
      expect(await cases.save({ caseId: 'c1', studyKey: 'st-1', model, instances: 3, results: [{ n: 1, nested: { p: 0.25 } }] })).toBe('saved');
      clock.advance(1_000);
      expect(await cases.save({ caseId: 'c1', studyKey: 'st-1', model, instances: 3, results: [{ n: 2 }] })).toBe('exists');
      expect(await cases.get('c1')).toEqual({
        caseId: 'c1',
        studyKey: 'st-1',
        model,
        instances: 3,
        createdAt: '2026-01-01T00:00:00.000Z',
        results: [{ n: 1, nested: { p: 0.25 } }],
        supersedes: null,
        supersededBy: null,
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
        await cases.save({ caseId, studyKey, model, instances: 1, results: [] });
        clock.advance(1_000);
      }
      expect((await cases.listForStudy('st-1')).map((c) => c.caseId)).toEqual(['c1', 'c3']);
      expect(await cases.listForStudy('st-unknown')).toEqual([]);
      expect((await cases.list(10)).map((c) => c.caseId)).toEqual(['c3', 'c2', 'c1']);
      expect((await cases.list(2)).map((c) => c.caseId)).toEqual(['c3', 'c2']);
    });

    it("supersedes a study's current case with its next case, linked both ways, one current case at a time", async () => {
      const cases = await open();
      await cases.save({ caseId: 'c7', studyKey: 'st-1', model, instances: 7, results: [] });
      await cases.save({ caseId: 'other', studyKey: 'st-2', model, instances: 7, results: [] });
      clock.advance(1_000);
      expect(await cases.save({ caseId: 'c10', studyKey: 'st-1', model, instances: 10, results: [] })).toBe('saved');
      expect(await cases.get('c7')).toMatchObject({ supersedes: null, supersededBy: 'c10' });
      expect(await cases.get('c10')).toMatchObject({ instances: 10, supersedes: 'c7', supersededBy: null });
      expect(await cases.get('other'), 'another study is not touched').toMatchObject({ supersedes: null, supersededBy: null });
      // Saving a case again (a job re-run after a crash) changes no link.
      expect(await cases.save({ caseId: 'c7', studyKey: 'st-1', model, instances: 7, results: [] })).toBe('exists');
      expect(await cases.get('c10')).toMatchObject({ supersedes: 'c7', supersededBy: null });
      clock.advance(1_000);
      await cases.save({ caseId: 'c12', studyKey: 'st-1', model, instances: 12, results: [] });
      expect((await cases.listForStudy('st-1')).map((c) => [c.caseId, c.supersedes, c.supersededBy])).toEqual([
        ['c7', null, 'c10'],
        ['c10', 'c7', 'c12'],
        ['c12', 'c10', null],
      ]);
    });

    it('saves the late result of a smaller, earlier state of a study already superseded by the current case', async () => {
      const cases = await open();
      await cases.save({ caseId: 'c10', studyKey: 'st-1', model, instances: 10, results: [] });
      clock.advance(1_000);
      expect(await cases.save({ caseId: 'c7', studyKey: 'st-1', model, instances: 7, results: [] })).toBe('saved');
      expect(await cases.get('c7')).toMatchObject({ supersedes: null, supersededBy: 'c10' });
      expect(await cases.get('c10')).toMatchObject({ supersedes: null, supersededBy: null });
      // The same instance count (another model, say) is newer: it supersedes.
      await cases.save({ caseId: 'c10-b', studyKey: 'st-1', model: { ...model, sha256: 'b'.repeat(64) }, instances: 10, results: [] });
      expect(await cases.get('c10')).toMatchObject({ supersededBy: 'c10-b' });
    });

    it('leaves one current case, and a chain, when cases of one study are saved at once by two processes', async () => {
      const cases = await open();
      const other = fixture?.second ?? cases;
      const saves: Promise<unknown>[] = [];
      for (let i = 1; i <= 12; i++) saves.push((i % 2 === 0 ? cases : other).save({ caseId: `c${i}`, studyKey: 'st-1', model, instances: 5, results: [] }));
      await Promise.all(saves);
      const all = await cases.listForStudy('st-1');
      expect(all).toHaveLength(12);
      expect(all.filter((c) => c.supersededBy === null)).toHaveLength(1);
      expect(all.filter((c) => c.supersedes === null)).toHaveLength(1);
      // Every link points both ways.
      const byId = new Map(all.map((c) => [c.caseId, c]));
      for (const c of all) if (c.supersededBy !== null) expect(byId.get(c.supersededBy)?.supersedes).toBe(c.caseId);
    });
  });
}
