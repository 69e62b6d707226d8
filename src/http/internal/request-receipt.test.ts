import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { boundBodyReceipt, checkIntervalMs, expiredReceipt, receiveBytes, startReceipt, type ReceiveLimits } from './request-receipt.js';

const LIMITS: ReceiveLimits = { headersTimeoutMs: 30_000, idleTimeoutMs: 30_000, bodyTimeoutMs: 60_000, bodyMinBytesPerSecond: 4096 };

/** Feeds `chunks` (bytes, ms since the previous chunk) and returns the first expiry and when, if any. */
function replay(chunks: readonly (readonly [number, number])[], limits = LIMITS): { readonly reason: string; readonly atMs: number } | undefined {
  let now = 0;
  let state = startReceipt(now, limits);
  for (const [bytes, afterMs] of chunks) {
    // Looked at every millisecond of the wait, as the timer would (coarser, but never earlier).
    for (let t = now + 1; t <= now + afterMs; t += 1) {
      const reason = expiredReceipt(state, t, limits);
      if (reason !== undefined) return { reason, atMs: t };
    }
    now += afterMs;
    state = receiveBytes(state, bytes, now, limits);
  }
  return undefined;
}

describe('a request body’s receipt', () => {
  test.prop([fc.integer({ min: 4096, max: 1_000_000 }), fc.integer({ min: 1, max: 10_000 }), fc.integer({ min: 1, max: 200 })])(
    'never expires while the body keeps the minimum rate and never falls silent for the idle timeout',
    (bytesPerSecond, everyMs, chunks) => {
      const everyMsBounded = Math.min(everyMs, LIMITS.idleTimeoutMs - 1);
      const perChunk = Math.ceil((bytesPerSecond * everyMsBounded) / 1000);
      expect(replay(Array.from({ length: chunks }, () => [perChunk, everyMsBounded] as const))).toBeUndefined();
    },
  );

  it('expires a silent body at the idle timeout', () => {
    expect(
      replay([
        [100, 1000],
        [0, 40_000],
      ]),
    ).toEqual({ reason: 'idle', atMs: 1000 + LIMITS.idleTimeoutMs });
  });

  it('expires a body trickled a byte a second (never idle) once its allowance runs out, a 4096th of a second later per byte', () => {
    const result = replay(Array.from({ length: 200 }, () => [1, 1000] as const));
    expect(result?.reason).toBe('slow');
    expect(result?.atMs).toBe(60_015);
  });

  it('gives a fast start no more than the allowance to trickle afterwards (the credit is capped)', () => {
    // 100 MiB in 10 s, then a byte every 20 s: at most bodyTimeoutMs after the last fast byte.
    const fast = Array.from({ length: 10 }, () => [10 * 2 ** 20, 1000] as const);
    const result = replay([...fast, ...Array.from({ length: 100 }, () => [1, 20_000] as const)]);
    expect(result?.reason).toBe('slow');
    expect(result?.atMs).toBeLessThanOrEqual(10_000 + LIMITS.bodyTimeoutMs + 20_000);
  });

  test.prop([fc.integer({ min: 1, max: 2 ** 31 }), fc.integer({ min: 1, max: 10 ** 6 })])(
    'bounds the whole body by bodyTimeoutMs + bytes / rate, however it arrives',
    (limitBytes, rate) => {
      const limits = { ...LIMITS, bodyMinBytesPerSecond: rate };
      // The most allowance any arrival earns: every byte at once, at the start.
      const state = receiveBytes(startReceipt(0, limits), limitBytes, 0, limits);
      expect(state.deadlineMs).toBeLessThanOrEqual(limits.bodyTimeoutMs + (limitBytes * 1000) / rate);
    },
  );

  it('looks at the clocks a tenth of the bound apart, between 10 ms and 1 s', () => {
    expect([checkIntervalMs(50), checkIntervalMs(400), checkIntervalMs(30_000)]).toEqual([10, 40, 1000]);
  });
});

describe('boundBodyReceipt', () => {
  it('passes the body through unchanged and fails with the caller’s error when it stalls', async () => {
    const limits = { ...LIMITS, idleTimeoutMs: 100, bodyTimeoutMs: 1000 };
    const stream = boundBodyReceipt(
      limits,
      () => performance.now(),
      (reason) => new Error(`expired: ${reason}`),
    );
    const seen: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => seen.push(chunk));
    const failed = new Promise<Error>((resolve) => stream.once('error', resolve));
    stream.write(Buffer.from('{"a":'));
    const started = performance.now();
    expect((await failed).message).toBe('expired: idle');
    expect(performance.now() - started).toBeGreaterThanOrEqual(90);
    expect(Buffer.concat(seen).toString()).toBe('{"a":');
  });

  it('stops its clock when the body ends', async () => {
    const stream = boundBodyReceipt(
      { ...LIMITS, idleTimeoutMs: 50, bodyTimeoutMs: 50 },
      () => performance.now(),
      () => new Error('expired'),
    );
    let failed = false;
    stream.on('error', () => (failed = true)).resume();
    stream.end(Buffer.from('{}'));
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(failed).toBe(false);
  });
});
