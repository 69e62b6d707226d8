import { describe, expect, it } from 'vitest';
import { isUnsafeMethod, rateVerdict, sessionExpiry } from './session-policy.js';

const MIN = 60_000;
const limits = { idleTimeoutMs: 30 * MIN, absoluteTimeoutMs: 12 * 60 * MIN };

describe('sessionExpiry', () => {
  it('keeps a session alive while used, ending it after 30 idle minutes', () => {
    expect(sessionExpiry({ createdAtMs: 0, lastSeenAtMs: 0 }, 29 * MIN, limits)).toEqual({
      expired: false,
      expiresAtMs: 59 * MIN,
      absoluteExpiresAtMs: 12 * 60 * MIN,
    });
    expect(sessionExpiry({ createdAtMs: 0, lastSeenAtMs: 0 }, 30 * MIN, limits)).toEqual({ expired: true, reason: 'idle' });
    expect(sessionExpiry({ createdAtMs: 0, lastSeenAtMs: 20 * MIN }, 49 * MIN, limits).expired).toBe(false);
  });

  it('ends a session at the absolute limit however active, and never promises past it', () => {
    const created = { createdAtMs: 0, lastSeenAtMs: 12 * 60 * MIN - 1 };
    expect(sessionExpiry(created, 12 * 60 * MIN - 10 * MIN, limits)).toMatchObject({ expired: false, expiresAtMs: 12 * 60 * MIN });
    expect(sessionExpiry(created, 12 * 60 * MIN, limits)).toEqual({ expired: true, reason: 'absolute' });
  });
});

describe('rateVerdict', () => {
  const limit = { maxFailures: 5, windowMs: 15 * MIN };

  it('allows four failures and limits at the fifth, until the oldest of those five leaves the window', () => {
    expect(rateVerdict([0, 1, 2, 3], 10, limit)).toEqual({ limited: false });
    expect(rateVerdict([0, MIN, 2 * MIN, 3 * MIN, 4 * MIN], 5 * MIN, limit)).toEqual({ limited: true, retryAfterMs: 10 * MIN });
    expect(rateVerdict([0, MIN, 2 * MIN, 3 * MIN, 4 * MIN], 15 * MIN, limit)).toEqual({ limited: false });
  });

  it('counts only the window, and the most recent failures decide when it lifts', () => {
    const times = [0, 20 * MIN, 21 * MIN, 22 * MIN, 23 * MIN, 24 * MIN, 25 * MIN];
    expect(rateVerdict(times, 26 * MIN, limit)).toEqual({ limited: true, retryAfterMs: 15 * MIN - 5 * MIN });
    expect(rateVerdict(times, 36 * MIN, limit)).toEqual({ limited: false });
    expect(rateVerdict([...times].reverse(), 26 * MIN, limit)).toEqual({ limited: true, retryAfterMs: 10 * MIN });
  });
});

describe('isUnsafeMethod', () => {
  it('marks state-changing methods', () => {
    expect(['POST', 'PUT', 'PATCH', 'DELETE'].map(isUnsafeMethod)).toEqual([true, true, true, true]);
    expect(['GET', 'HEAD', 'OPTIONS'].map(isUnsafeMethod)).toEqual([false, false, false]);
  });
});
