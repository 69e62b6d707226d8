/**
 * The drill-down behind a chart point pages by cursor through every case of the point, however many
 * (the page asks 50 at a time; the API allows 200 a page): no case twice, none skipped, none past the
 * point's last case, and no `next` after the last page.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SeededRandom } from '../../src/domain/evaluation/random.js';
import { createSteppingClock } from '../../src/ports/audit-log.contract.js';
import { imageMeasures, openMonitoring, SITE, V2, type MonitoringStores } from '../fixtures/monitoring/open-monitoring.js';
import { sqliteMonitoringStores } from '../fixtures/monitoring/sqlite-monitoring-stores.js';

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('the cases behind a chart point', () => {
  it('pages through 450 cases by cursor, stopping at the point’s last case', async () => {
    const stores: MonitoringStores = sqliteMonitoringStores(cleanups, 'vigil-monitoring-paging-');
    const { monitoring } = await openMonitoring(stores, createSteppingClock(Date.UTC(2026, 11, 7, 12), 1_000));
    const random = new SeededRandom(3);
    for (let n = 0; n < 500; n++) {
      await monitoring.recordJudged({
        site: SITE,
        versionId: V2,
        origin: 'production',
        caseId: `case-${n}`,
        studyKey: `sk-${n}`,
        images: [{ imageRef: `s${n}/i${n}.dcm`, measures: imageMeasures(random), device: null }],
      });
    }
    const all = await stores.monitor.readCases({ site: SITE, versionId: V2 }, 0, 1_000);
    expect(all).toHaveLength(500);
    // A "point" of 450 cases: the 21st to the 470th.
    const firstSeq = all[20]!.seq;
    const lastSeq = all[469]!.seq;
    for (const limit of [200, 50, 7]) {
      const seen: number[] = [];
      let after: number | null = firstSeq - 1;
      let pages = 0;
      while (after !== null) {
        const page = await monitoring.cases(SITE, { signal: 'noise', afterSeq: after, throughSeq: lastSeq, limit });
        expect(page.cases.length).toBeLessThanOrEqual(limit);
        expect(page.cases.length, 'no empty page').toBeGreaterThan(0);
        seen.push(...page.cases.map((c) => c.seq));
        after = page.next;
        pages++;
      }
      expect(seen).toEqual(all.slice(20, 470).map((c) => c.seq));
      expect(pages).toBe(Math.ceil(450 / limit));
    }
    // Without a last seq, the cursor runs to the deployment's newest case.
    const tail = await monitoring.cases(SITE, { afterSeq: all[449]!.seq, limit: 50 });
    expect([tail.cases.length, tail.next]).toEqual([50, null]);
  });
});
