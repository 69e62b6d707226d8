/**
 * The behaviour every `StudyRegistry` store must show, written once and run against each store
 * (STYLE.md, "Contract suites"). The factory gets a clock the suite moves by hand, and may give a
 * second registry on the same store (another process) to check that concurrent recording counts
 * each instance once.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createManualClock, type ManualClock } from './job-queue.contract.js';
import type { StudyRegistry } from './study-registry.js';

export interface StudyRegistryFixture {
  readonly studies: StudyRegistry;
  readonly second?: StudyRegistry;
  dispose(): void | Promise<void>;
}

export function describeStudyRegistry(name: string, factory: (clock: ManualClock) => StudyRegistryFixture | Promise<StudyRegistryFixture>): void {
  describe(`StudyRegistry contract: ${name}`, () => {
    let fixture: StudyRegistryFixture | undefined;
    let clock: ManualClock;
    const open = async (): Promise<StudyRegistry> => {
      clock = createManualClock();
      fixture = await factory(clock);
      return fixture.studies;
    };
    afterEach(async () => {
      await fixture?.dispose();
      fixture = undefined;
    });

    it('counts each instance once, and finds a study complete after its quiet period', async () => {
      const studies = await open();
      expect(await studies.recordInstance('st-1', '2.25.1', '2.25.11')).toBe(true);
      clock.advance(1_000);
      expect(await studies.recordInstance('st-1', '2.25.1', '2.25.12')).toBe(true);
      expect(await studies.recordInstance('st-1', '2.25.1', '2.25.12'), 'a resend').toBe(false);
      expect(await studies.get('st-1')).toEqual({
        studyKey: 'st-1',
        studyUid: '2.25.1',
        instances: 2,
        firstReceivedAt: '2026-01-01T00:00:00.000Z',
        lastReceivedAt: '2026-01-01T00:00:01.000Z',
        state: 'receiving',
        studyDate: null,
        modalities: [],
        site: null,
      });
      clock.advance(4_999);
      expect(await studies.quietStudies(5_000)).toEqual([]);
      clock.advance(1);
      expect((await studies.quietStudies(5_000)).map((s) => s.studyKey)).toEqual(['st-1']);
      expect(await studies.get('st-unknown')).toBeUndefined();
    });

    it('does not mark a study queued when an instance arrived after it was counted, and reopens a queued study', async () => {
      const studies = await open();
      await studies.recordInstance('st-1', '2.25.1', '2.25.11');
      await studies.recordInstance('st-1', '2.25.1', '2.25.12');
      expect(await studies.markQueued('st-1', 1)).toBe(false);
      expect(await studies.markQueued('st-1', 2)).toBe(true);
      expect(await studies.markQueued('st-1', 2), 'already queued').toBe(false);
      expect(await studies.markQueued('st-unknown', 0)).toBe(false);
      expect((await studies.get('st-1'))?.state).toBe('queued');
      clock.advance(60_000);
      expect(await studies.quietStudies(5_000), 'a queued study is not quiet-listed').toEqual([]);
      await studies.recordInstance('st-1', '2.25.1', '2.25.13');
      expect(await studies.get('st-1')).toMatchObject({ state: 'receiving', instances: 3 });
    });

    it('restarts the quiet period of studies still receiving (a server start), and of one study resent to', async () => {
      const studies = await open();
      await studies.recordInstance('st-a', '2.25.1', '2.25.11');
      await studies.recordInstance('st-b', '2.25.2', '2.25.21');
      await studies.recordInstance('st-q', '2.25.3', '2.25.31');
      await studies.markQueued('st-q', 1);
      clock.advance(60_000);
      // The server was down for a minute: nobody could send. It starts again.
      expect(await studies.restartQuietPeriods(), 'the two studies still receiving').toBe(2);
      expect(await studies.quietStudies(5_000), 'quiet again only 5 s after the start').toEqual([]);
      clock.advance(3_000);
      // st-a's sender resends an instance it had sent (it never heard back): no new instance, but st-a is
      // still arriving, so its quiet period starts again; st-b's does not.
      expect(await studies.recordInstance('st-a', '2.25.1', '2.25.11')).toBe(false);
      clock.advance(2_000);
      expect((await studies.quietStudies(5_000)).map((s) => s.studyKey)).toEqual(['st-b']);
      clock.advance(3_000);
      expect((await studies.quietStudies(5_000)).map((s) => s.studyKey)).toEqual(['st-b', 'st-a']);
      // A resend to a study no longer receiving changes nothing: it is not reopened.
      expect(await studies.recordInstance('st-q', '2.25.3', '2.25.31')).toBe(false);
      expect(await studies.get('st-q')).toMatchObject({ state: 'queued', instances: 1 });
      // The last arrival stays what it was: the restart moved only the quiet period.
      expect((await studies.get('st-b'))?.lastReceivedAt).toBe('2026-01-01T00:00:00.000Z');
      expect(await studies.restartQuietPeriods(), 'a second start: the two still receiving').toBe(2);
    });

    it('moves a study through judging to judged or failed only while it has the instances it was assembled with', async () => {
      const studies = await open();
      await studies.recordInstance('st-1', '2.25.1', '2.25.11');
      await studies.recordInstance('st-1', '2.25.1', '2.25.12');
      expect(await studies.markProgress('st-1', 2, 'judging'), 'never assembled').toBe(false);
      expect(await studies.markQueued('st-1', 2)).toBe(true);
      expect(await studies.markProgress('st-1', 1, 'judging'), 'a job for an earlier, smaller state').toBe(false);
      expect(await studies.markProgress('st-1', 2, 'judging')).toBe(true);
      expect((await studies.get('st-1'))?.state).toBe('judging');
      expect(await studies.markProgress('st-1', 2, 'queued'), 'a failed attempt, retried later').toBe(true);
      expect(await studies.markProgress('st-1', 2, 'judging')).toBe(true);
      expect(await studies.markProgress('st-1', 2, 'judged')).toBe(true);
      expect(await studies.markProgress('st-1', 2, 'judged'), 'no change').toBe(false);
      expect((await studies.get('st-1'))?.state).toBe('judged');
      // An instance arrives after the study was judged: receiving again, and the old job can no longer move it.
      await studies.recordInstance('st-1', '2.25.1', '2.25.13');
      expect((await studies.get('st-1'))?.state).toBe('receiving');
      expect(await studies.markProgress('st-1', 3, 'judged'), 'receiving is left only by assembly').toBe(false);
      expect(await studies.markProgress('st-1', 2, 'failed')).toBe(false);
      expect(await studies.markQueued('st-1', 3)).toBe(true);
      expect(await studies.markProgress('st-1', 3, 'failed')).toBe(true);
      expect((await studies.get('st-1'))?.state).toBe('failed');
      expect(await studies.markProgress('st-1', 3, 'judging'), 'an operator retried the dead job').toBe(true);
      expect(await studies.markProgress('st-unknown', 0, 'judged')).toBe(false);
    });

    it('lists studies by latest arrival, newest first, up to the limit', async () => {
      const studies = await open();
      for (const key of ['st-a', 'st-b', 'st-c']) {
        await studies.recordInstance(key, `2.25.${key.length}`, `2.25.${key.charCodeAt(3)}`);
        clock.advance(1_000);
      }
      await studies.recordInstance('st-a', '2.25.5', '2.25.99');
      expect((await studies.list(10)).map((s) => s.studyKey)).toEqual(['st-a', 'st-c', 'st-b']);
      expect((await studies.list(2)).map((s) => s.studyKey)).toEqual(['st-a', 'st-c']);
      clock.advance(5_000);
      expect(
        (await studies.quietStudies(5_000)).map((s) => s.studyKey),
        'oldest quiet first',
      ).toEqual(['st-b', 'st-c', 'st-a']);
    });

    it('counts instances recorded at once by two writers exactly once each', async () => {
      const studies = await open();
      const other = fixture?.second ?? studies;
      const writes: Promise<boolean>[] = [];
      for (let i = 0; i < 20; i++) {
        writes.push((i % 2 === 0 ? studies : other).recordInstance('st-1', '2.25.1', `2.25.${100 + i}`));
        writes.push((i % 2 === 0 ? other : studies).recordInstance('st-1', '2.25.1', `2.25.${100 + i}`));
      }
      const added = await Promise.all(writes);
      expect(added.filter(Boolean)).toHaveLength(20);
      expect((await studies.get('st-1'))?.instances).toBe(20);
    });

    it('records who sent a study and what finds it, and searches by each, within limit and offset', async () => {
      const studies = await open();
      await studies.recordInstance('st-a', '2.25.1', '2.25.11', { senderId: 'u-1', accessionKey: 'acc-1', studyDate: '20200102', modality: 'CR' });
      clock.advance(1_000);
      // A second instance: another modality, another date (the first date is kept), the same sender.
      await studies.recordInstance('st-a', '2.25.1', '2.25.12', { senderId: 'u-1', studyDate: '20300101', modality: 'DX' });
      // A resend by a second sender makes it a sender of the study too.
      await studies.recordInstance('st-a', '2.25.1', '2.25.12', { senderId: 'u-2' });
      clock.advance(1_000);
      await studies.recordInstance('st-b', '2.25.2', '2.25.21', { senderId: 'u-2', accessionKey: 'acc-2', studyDate: '20210615', modality: 'CR' });
      clock.advance(1_000);
      await studies.recordInstance('st-c', '2.25.3', '2.25.31');

      expect(await studies.get('st-a')).toMatchObject({ studyDate: '20200102', modalities: ['CR', 'DX'], instances: 2 });
      expect(await studies.wasSentBy('st-a', 'u-1')).toBe(true);
      expect(await studies.wasSentBy('st-a', 'u-2')).toBe(true);
      expect(await studies.wasSentBy('st-b', 'u-1')).toBe(false);
      expect(await studies.wasSentBy('st-c', 'u-1')).toBe(false);

      const keys = async (query: Parameters<StudyRegistry['search']>[0]) => (await studies.search(query)).map((st) => st.studyKey);
      expect(await keys({ limit: 10 })).toEqual(['st-c', 'st-b', 'st-a']);
      expect(await keys({ limit: 1, offset: 1 })).toEqual(['st-b']);
      expect(await keys({ limit: 10, sentBy: 'u-1' })).toEqual(['st-a']);
      expect(await keys({ limit: 10, sentBy: 'u-2' })).toEqual(['st-b', 'st-a']);
      expect(await keys({ limit: 10, accessionKey: 'acc-2' })).toEqual(['st-b']);
      expect(await keys({ limit: 10, accessionKey: 'acc-2', sentBy: 'u-1' })).toEqual([]);
      expect(await keys({ limit: 10, studyKey: 'st-a' })).toEqual(['st-a']);
      expect(await keys({ limit: 10, modality: 'CR' })).toEqual(['st-b', 'st-a']);
      expect(await keys({ limit: 10, modality: 'DX' })).toEqual(['st-a']);
      expect(await keys({ limit: 10, studyDateFrom: '20210101' })).toEqual(['st-b']);
      expect(await keys({ limit: 10, studyDateFrom: '20200102', studyDateTo: '20200102' })).toEqual(['st-a']);
      expect(await keys({ limit: 10, studyDateTo: '20211231' })).toEqual(['st-b', 'st-a']);
      expect((await studies.list(10)).map((st) => st.modalities)).toEqual([[], ['CR'], ['CR', 'DX']]);
    });

    it('records the site a study came from at its first instance, and keeps it', async () => {
      const studies = await open();
      await studies.recordInstance('st-s', '2.25.5', '2.25.51', { site: 'north' });
      await studies.recordInstance('st-s', '2.25.5', '2.25.52', { site: 'south' });
      await studies.recordInstance('st-t', '2.25.6', '2.25.61');
      expect(await studies.get('st-s')).toMatchObject({ site: 'north', instances: 2 });
      expect(await studies.get('st-t')).toMatchObject({ site: null });
      expect((await studies.list(10)).map((st) => st.site).sort()).toEqual(['north', null].sort());
    });
  });
}
