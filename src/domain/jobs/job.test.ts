import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { retryDelayMs } from './job.js';

describe('retryDelayMs', () => {
  const policy = { baseDelayMs: 1_000, maxDelayMs: 60_000 };
  it('doubles from the base and stops at the cap', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8].map((a) => retryDelayMs(a, policy))).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000]);
  });
  test.prop([fc.integer({ min: 0, max: 10_000 }), fc.integer({ min: 0, max: 10_000 })])('never decreases and never exceeds the cap', (a, b) => {
    const [lo, hi] = a <= b ? [a, b] : [b, a];
    expect(retryDelayMs(lo, policy)).toBeLessThanOrEqual(retryDelayMs(hi, policy));
    expect(retryDelayMs(hi, policy)).toBeLessThanOrEqual(policy.maxDelayMs);
  });
});
