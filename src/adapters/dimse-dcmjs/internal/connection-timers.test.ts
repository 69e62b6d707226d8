import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ConnectionTimers } from './connection-timers.js';

describe('ConnectionTimers', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'clearImmediate', 'Date'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  /** Expiries are judged in the next turn (setImmediate), which the fake clock runs 1 ms later. */
  const nextTurn = (): void => void vi.advanceTimersByTime(1);

  const create = () => {
    const fired: string[] = [];
    const timers = new ConnectionTimers({
      artimMs: 1_000,
      idleMs: 500,
      onArtimExpired: () => fired.push(`artim@${Date.now()}`),
      onIdleExpired: () => fired.push(`idle@${Date.now()}`),
    });
    return { timers, fired };
  };

  it('ARTIM is a deadline: activity does not move it', () => {
    vi.setSystemTime(0);
    const { timers, fired } = create();
    timers.startArtim();
    for (let t = 0; t < 900; t += 100) {
      vi.advanceTimersByTime(100);
      timers.pduReceived();
    }
    vi.advanceTimersByTime(100);
    nextTurn();
    expect(fired).toEqual(['artim@1001']);
  });

  it('stopping ARTIM (association accepted) cancels it; restarting it (reject, release) counts from then', () => {
    vi.setSystemTime(0);
    const { timers, fired } = create();
    timers.startArtim();
    vi.advanceTimersByTime(900);
    timers.stopArtim();
    vi.advanceTimersByTime(5_000);
    expect(fired).toEqual([]);
    timers.startArtim();
    vi.advanceTimersByTime(1_000);
    nextTurn();
    expect(fired).toEqual(['artim@6901']);
  });

  it('idle restarts at each PDU and fires after a silence as long as the idle time', () => {
    vi.setSystemTime(0);
    const { timers, fired } = create();
    timers.startIdle();
    for (let t = 0; t < 2_000; t += 400) {
      vi.advanceTimersByTime(400);
      timers.pduReceived();
    }
    expect(fired).toEqual([]);
    vi.advanceTimersByTime(500);
    nextTurn();
    expect(fired).toEqual(['idle@2501']);
  });

  it('idle waits while held (Vigil owes the peer) and restarts in full when the last hold is released', () => {
    vi.setSystemTime(0);
    const { timers, fired } = create();
    timers.startIdle();
    const first = timers.hold();
    const second = timers.hold();
    vi.advanceTimersByTime(10_000);
    first();
    first();
    vi.advanceTimersByTime(10_000);
    expect(fired).toEqual([]);
    second();
    vi.advanceTimersByTime(499);
    expect(fired).toEqual([]);
    vi.advanceTimersByTime(1);
    nextTurn();
    expect(fired).toEqual(['idle@20501']);
  });

  it('judges an expiry one turn late: a PDU read in the same turn (a stalled loop catching up) wins', () => {
    vi.setSystemTime(0);
    const { timers, fired } = create();
    timers.startIdle();
    timers.startArtim();
    vi.advanceTimersByTime(499);
    vi.advanceTimersToNextTimer(); // the idle timeout: its expiry is now waiting for the next turn
    timers.pduReceived();
    timers.stopArtim();
    vi.advanceTimersByTime(499);
    expect(fired).toEqual([]);
    vi.advanceTimersByTime(2_000);
    expect(fired).toEqual(['idle@1001']);
  });

  it('clear() stops both', () => {
    const { timers, fired } = create();
    timers.startArtim();
    timers.startIdle();
    timers.clear();
    vi.advanceTimersByTime(10_000);
    expect(fired).toEqual([]);
  });
});
