/**
 * The behaviour every `JobQueue` store must show, written once and run against each store (STYLE.md,
 * "Contract suites"). The factory gets a clock the suite moves by hand.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Clock } from './clock.js';
import type { JobQueue } from './job-queue.js';

export interface ManualClock extends Clock {
  advance(ms: number): void;
}

export function createManualClock(startMs = Date.UTC(2026, 0, 1)): ManualClock {
  let now = startMs;
  return { now: () => new Date(now), advance: (ms) => void (now += ms) };
}

export interface JobQueueFixture {
  readonly queue: JobQueue;
  /** A second queue on the same store (another worker process), when the store can share. */
  readonly second?: JobQueue;
  dispose(): void | Promise<void>;
}

/** Retry policy the factory must configure: base 1 s, cap 8 s, 3 attempts by default. */
export const CONTRACT_RETRY = { baseDelayMs: 1_000, maxDelayMs: 8_000, defaultMaxAttempts: 3 } as const;

export function describeJobQueue(name: string, factory: (clock: ManualClock) => JobQueueFixture | Promise<JobQueueFixture>): void {
  describe(`JobQueue contract: ${name}`, () => {
    let fixture: JobQueueFixture | undefined;
    let clock: ManualClock;
    const open = async (): Promise<JobQueue> => {
      clock = createManualClock();
      fixture = await factory(clock);
      return fixture.queue;
    };
    afterEach(async () => {
      await fixture?.dispose();
      fixture = undefined;
    });

    it('enqueues durably once per dedupe key', async () => {
      const queue = await open();
      const first = await queue.enqueue({ kind: 'infer', dedupeKey: 'infer:s1', payload: { studyKey: 's1' } });
      const again = await queue.enqueue({ kind: 'infer', dedupeKey: 'infer:s1', payload: { studyKey: 'other' } });
      expect(first.created).toBe(true);
      expect(again).toEqual({ job: first.job, created: false });
      expect(first.job).toMatchObject({ kind: 'infer', state: 'ready', attempts: 0, maxAttempts: 3, payload: { studyKey: 's1' }, lastError: null });
      expect(await queue.counts()).toEqual({ ready: 1, leased: 0, done: 0, dead: 0 });
    });

    it('leases the oldest due job of the asked kinds, one worker at a time', async () => {
      const queue = await open();
      await queue.enqueue({ kind: 'infer', dedupeKey: 'b', payload: {}, runAt: new Date(clock.now().getTime() + 5_000) });
      const a = (await queue.enqueue({ kind: 'infer', dedupeKey: 'a', payload: {} })).job;
      await queue.enqueue({ kind: 'send', dedupeKey: 'c', payload: {} });
      const lease = await queue.lease(['infer'], 60_000);
      expect(lease?.job).toMatchObject({ id: a.id, state: 'leased', attempts: 1 });
      expect(await queue.lease(['infer'], 60_000), 'b is not due yet').toBeUndefined();
      clock.advance(5_000);
      expect((await queue.lease(['infer'], 60_000))?.job.dedupeKey).toBe('b');
      expect(await queue.lease([], 60_000)).toBeUndefined();
    });

    it('completes only with the current lease token', async () => {
      const queue = await open();
      const { job } = await queue.enqueue({ kind: 'infer', dedupeKey: 'a', payload: {} });
      const lease = await queue.lease(['infer'], 60_000);
      expect(await queue.complete(job.id, 'not-the-token')).toBe(false);
      expect(await queue.complete(job.id, lease?.leaseToken as string)).toBe(true);
      expect((await queue.get(job.id))?.state).toBe('done');
      expect(await queue.complete(job.id, lease?.leaseToken as string), 'done is final').toBe(false);
      expect(await queue.lease(['infer'], 60_000)).toBeUndefined();
    });

    it('retries a failed job with exponential back-off, then dead-letters it with its error', async () => {
      const queue = await open();
      const { job } = await queue.enqueue({ kind: 'infer', dedupeKey: 'a', payload: {} });
      const error = { code: 'MODEL_INFERENCE_FAILED', message: 'boom' };
      const first = (await queue.lease(['infer'], 60_000)) as { leaseToken: string };
      expect(await queue.fail(job.id, first.leaseToken, error)).toBe(true);
      expect(await queue.get(job.id)).toMatchObject({ state: 'ready', attempts: 1, lastError: error });
      clock.advance(999);
      expect(await queue.lease(['infer'], 60_000), 'back-off: 1 s after the first failure').toBeUndefined();
      clock.advance(1);
      const second = (await queue.lease(['infer'], 60_000)) as { leaseToken: string };
      expect(await queue.fail(job.id, second.leaseToken, error)).toBe(true);
      clock.advance(1_999);
      expect(await queue.lease(['infer'], 60_000), 'back-off: 2 s after the second').toBeUndefined();
      clock.advance(1);
      const third = (await queue.lease(['infer'], 60_000)) as { leaseToken: string };
      expect(await queue.fail(job.id, third.leaseToken, error)).toBe(true);
      expect(await queue.get(job.id)).toMatchObject({ state: 'dead', attempts: 3, lastError: error });
      expect((await queue.deadLetters(10)).map((j) => j.id)).toEqual([job.id]);
      expect(await queue.counts()).toEqual({ ready: 0, leased: 0, done: 0, dead: 1 });
      expect(await queue.retryDead(job.id)).toBe(true);
      expect(await queue.get(job.id)).toMatchObject({ state: 'ready', attempts: 0 });
    });

    it('gives an expired lease to another worker and ignores the first worker afterwards', async () => {
      const queue = await open();
      const other = fixture?.second ?? queue;
      const { job } = await queue.enqueue({ kind: 'infer', dedupeKey: 'a', payload: {} });
      const stale = (await queue.lease(['infer'], 10_000)) as { leaseToken: string };
      clock.advance(9_999);
      expect(await other.lease(['infer'], 10_000), 'the lease still holds').toBeUndefined();
      clock.advance(1);
      const fresh = (await other.lease(['infer'], 10_000)) as { leaseToken: string; job: { attempts: number } };
      expect(fresh.job.attempts).toBe(2);
      expect(await queue.complete(job.id, stale.leaseToken)).toBe(false);
      expect(await queue.fail(job.id, stale.leaseToken, { code: 'X', message: 'late' })).toBe(false);
      expect(await other.complete(job.id, fresh.leaseToken)).toBe(true);
    });

    it('keeps a lease alive while its holder renews it, and not after it ran out', async () => {
      const queue = await open();
      const { job } = await queue.enqueue({ kind: 'infer', dedupeKey: 'a', payload: {} });
      const lease = (await queue.lease(['infer'], 1_000)) as { leaseToken: string };
      for (let i = 0; i < 5; i++) {
        clock.advance(900);
        expect(await queue.extendLease(job.id, lease.leaseToken, 1_000)).toBe(true);
        expect(await queue.lease(['infer'], 1_000), 'still held').toBeUndefined();
      }
      expect(await queue.extendLease(job.id, 'stale', 1_000)).toBe(false);
      clock.advance(1_000);
      expect(await queue.extendLease(job.id, lease.leaseToken, 1_000), 'expired').toBe(false);
      expect((await queue.lease(['infer'], 1_000))?.job.id).toBe(job.id);
    });

    it('dead-letters a job whose last allowed attempt never reported back', async () => {
      const queue = await open();
      const { job } = await queue.enqueue({ kind: 'infer', dedupeKey: 'a', payload: {}, maxAttempts: 1 });
      await queue.lease(['infer'], 1_000);
      clock.advance(1_000);
      expect(await queue.lease(['infer'], 1_000)).toBeUndefined();
      expect(await queue.get(job.id)).toMatchObject({ state: 'dead', lastError: { code: 'JOB_LEASE_EXPIRED' } });
    });

    it('never hands one job to two workers', async () => {
      const queue = await open();
      const other = fixture?.second ?? queue;
      for (let i = 0; i < 20; i++) await queue.enqueue({ kind: 'infer', dedupeKey: `j${i}`, payload: { i } });
      const seen = new Set<number>();
      for (let i = 0; i < 20; i++) {
        for (const worker of [queue, other]) {
          const lease = await worker.lease(['infer'], 60_000);
          if (lease === undefined) continue;
          expect(seen.has(lease.job.id)).toBe(false);
          seen.add(lease.job.id);
        }
      }
      expect(seen.size).toBe(20);
    });
  });
}
