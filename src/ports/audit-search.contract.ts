/**
 * The behaviour every `AuditSearch` must show, written once and run against each store (STYLE.md,
 * "Contract suites"). The fixture gives the store's audit log (under the suite's clock) to write the
 * entries that the search then finds.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AuditLog } from './audit-log.js';
import type { AuditSearch } from './audit-search.js';
import { createManualClock, type ManualClock } from './job-queue.contract.js';

export interface AuditSearchFixture {
  readonly log: AuditLog;
  readonly search: AuditSearch;
  dispose(): void | Promise<void>;
}

const START = Date.UTC(2026, 0, 1);
const at = (minute: number): string => new Date(START + minute * 60_000).toISOString();

export function describeAuditSearch(name: string, factory: (clock: ManualClock) => AuditSearchFixture | Promise<AuditSearchFixture>): void {
  describe(`AuditSearch contract: ${name}`, () => {
    let fixture: AuditSearchFixture | undefined;
    let search: AuditSearch;
    // 25 entries, one a minute: every fifth a login_failed, the others case reads.
    beforeEach(async () => {
      const clock = createManualClock(START);
      fixture = await factory(clock);
      for (let minute = 0; minute < 25; minute++, clock.advance(60_000)) {
        await fixture.log.append(
          minute % 5 === 0
            ? { type: 'login_failed', userId: null, method: 'password', reason: 'unknown_user' }
            : { type: 'case_read', studyKey: 'st-0', caseId: `c-${minute}`, userId: 'u-1', role: 'clinician-reviewer' },
        );
      }
      search = fixture.search;
    });
    afterEach(async () => {
      await fixture?.dispose();
      fixture = undefined;
    });

    it('pages newest first until there is no next, without gaps or repeats', async () => {
      const seen: number[] = [];
      let before: number | undefined;
      let pages = 0;
      do {
        const page = await search.search({ limit: 10, ...(before === undefined ? {} : { beforeIndex: before }) });
        seen.push(...page.entries.map((e) => e.index));
        before = page.nextBeforeIndex;
        pages++;
      } while (before !== undefined);
      expect(pages).toBe(3);
      expect(seen).toEqual(Array.from({ length: 25 }, (_, i) => 24 - i));
    });

    it('filters by type and time, and says there is no next page when the last one is full but final', async () => {
      const failed = await search.search({ type: 'login_failed', limit: 5 });
      expect(failed.entries.map((e) => e.auditId)).toEqual(['a-20', 'a-15', 'a-10', 'a-5', 'a-0']);
      expect(failed.nextBeforeIndex).toBeUndefined();
      const window = await search.search({ since: at(3), until: at(7), limit: 50 });
      expect(window.entries.map((e) => e.index)).toEqual([6, 5, 4, 3]);
      expect(window.entries[0]?.time).toBe(at(6));
      const paged = await search.search({ type: 'case_read', since: at(10), limit: 3 });
      expect(paged.entries.map((e) => e.index)).toEqual([24, 23, 22]);
      const next = await search.search({ type: 'case_read', since: at(10), limit: 3, beforeIndex: paged.nextBeforeIndex ?? -1 });
      expect(next.entries.map((e) => e.index)).toEqual([21, 19, 18]);
      expect((await search.search({ type: 'no_such_type', limit: 5 })).entries).toEqual([]);
    });

    it('returns entries as the log stored them', async () => {
      const page = await search.search({ type: 'case_read', limit: 1 });
      const entry = page.entries[0];
      expect(entry).toEqual(await fixture?.log.get(entry?.auditId ?? ''));
      expect(entry?.event).toEqual({ type: 'case_read', studyKey: 'st-0', caseId: 'c-24', userId: 'u-1', role: 'clinician-reviewer' });
    });
  });
}
