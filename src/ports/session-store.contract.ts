/**
 * The behaviour every `SessionStore` must show, written once and run against each store (STYLE.md,
 * "Contract suites"). Users come from the `AccessStore` on the same store (passwords and sessions
 * belong to them); disabling a user is the fixture's (an operator does it in the store). `second` is
 * another process's store on the same database (its own connection): what one records, the other sees.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { AccessStore } from './access-store.js';
import { createManualClock, type ManualClock } from './job-queue.contract.js';
import type { NewSession, SessionStore } from './session-store.js';

export interface SessionStoreFixture {
  readonly store: SessionStore;
  readonly access: AccessStore;
  readonly second: SessionStore;
  readonly disableUser: (userId: string) => Promise<void>;
  dispose(): void | Promise<void>;
}

const MIN = 60_000;
/** A 32-byte digest filled with one value (the store sees only digests). */
const digest = (fill: number): Uint8Array => new Uint8Array(32).fill(fill);

export function describeSessionStore(name: string, factory: (clock: ManualClock) => SessionStoreFixture | Promise<SessionStoreFixture>): void {
  describe(`SessionStore contract: ${name}`, () => {
    let fixture: SessionStoreFixture | undefined;
    let clock: ManualClock;
    const open = async (): Promise<SessionStoreFixture> => {
      clock = createManualClock();
      fixture = await factory(clock);
      return fixture;
    };
    afterEach(async () => {
      await fixture?.dispose();
      fixture = undefined;
    });
    const sessionOf = (userId: string, secret: number, atMs: number, over: Partial<NewSession> = {}): NewSession => ({
      sessionId: `s-${secret}`,
      secretSha256: digest(secret),
      userId,
      csrfToken: `csrf-${secret}`,
      method: 'password',
      createdAtMs: atMs,
      expiresAtMs: atMs + 720 * MIN,
      ...over,
    });

    it('finds credentials by name and id; a user without a password has a null hash, and setting one replaces it', async () => {
      const { store, access } = await open();
      const user = await access.createUser('reader-1', 'clinician-reviewer');
      expect(await store.credentialByName('nobody')).toBeUndefined();
      expect(await store.credentialById('u-missing')).toBeUndefined();
      expect(await store.credentialByName('reader-1')).toEqual({ user, passwordHash: null });
      expect(await store.setPassword(user.userId, 'scrypt$first', 1_000)).toBe(0);
      expect(await store.credentialById(user.userId)).toEqual({ user, passwordHash: 'scrypt$first' });
      await store.setPassword(user.userId, 'scrypt$second', 2_000);
      expect((await store.credentialByName('reader-1'))?.passwordHash).toBe('scrypt$second');
    });

    it('finds a live session by its secret’s digest with its user as now stored, until it ends', async () => {
      const { store, access, disableUser } = await open();
      const user = await access.createUser('reader-1', 'clinician-reviewer');
      const t0 = clock.now().getTime();
      await store.createSession(sessionOf(user.userId, 1, t0, { method: 'token' }));
      expect(await store.findSession(digest(2))).toBeUndefined();
      expect(await store.findSession(digest(1))).toEqual({
        sessionId: 's-1',
        user,
        csrfToken: 'csrf-1',
        method: 'token',
        createdAtMs: t0,
        lastSeenAtMs: t0,
        expiresAtMs: t0 + 720 * MIN,
      });
      // Touching moves the last use forward only (two servers may touch out of order).
      await store.touchSession('s-1', t0 + 5 * MIN);
      await store.touchSession('s-1', t0 + 2 * MIN);
      expect((await store.findSession(digest(1)))?.lastSeenAtMs).toBe(t0 + 5 * MIN);
      await disableUser(user.userId);
      expect((await store.findSession(digest(1)))?.user.disabled).toBe(true);
      await store.endSession('s-1', t0 + 6 * MIN);
      await store.endSession('s-1', t0 + 7 * MIN);
      expect(await store.findSession(digest(1))).toBeUndefined();
    });

    it('ends a user’s live sessions when the access store disables them, in the same change', async () => {
      const { store, access, second } = await open();
      const user = await access.createUser('reader-1', 'clinician-reviewer');
      const other = await access.createUser('reader-2', 'clinician-reviewer');
      const t0 = clock.now().getTime();
      await store.createSession(sessionOf(user.userId, 1, t0));
      await store.createSession(sessionOf(user.userId, 2, t0, { sessionId: 's-2' }));
      await store.createSession(sessionOf(other.userId, 3, t0, { sessionId: 's-3' }));
      expect(await access.updateUser(user.userId, { disabled: true })).toMatchObject({ outcome: 'updated', sessionsEnded: 2 });
      // Ended, not only refused: enabling the account again does not bring them back.
      expect(await access.updateUser(user.userId, { disabled: false })).toMatchObject({ outcome: 'updated', sessionsEnded: 0 });
      expect(await second.findSession(digest(1))).toBeUndefined();
      expect(await store.findSession(digest(2))).toBeUndefined();
      expect((await store.findSession(digest(3)))?.sessionId).toBe('s-3');
    });

    it('refuses a second session with the same secret, and a session for an unknown user', async () => {
      const { store, access } = await open();
      const user = await access.createUser('reader-1', 'clinician-reviewer');
      await store.createSession(sessionOf(user.userId, 1, 0));
      await expect(store.createSession(sessionOf(user.userId, 1, 0, { sessionId: 's-other' }))).rejects.toThrow();
      await expect(store.createSession(sessionOf('u-missing', 3, 0))).rejects.toThrow();
    });

    it('ends every live session of a user when their password is set, and only theirs', async () => {
      const { store, access } = await open();
      const reader = await access.createUser('reader-1', 'clinician-reviewer');
      const other = await access.createUser('reader-2', 'clinician-reviewer');
      for (const secret of [1, 2, 3]) await store.createSession(sessionOf(reader.userId, secret, 0));
      await store.createSession(sessionOf(other.userId, 4, 0));
      await store.endSession('s-3', 10);
      expect(await store.setPassword(reader.userId, 'scrypt$new', 20)).toBe(2);
      for (const secret of [1, 2, 3]) expect(await store.findSession(digest(secret))).toBeUndefined();
      expect((await store.findSession(digest(4)))?.sessionId).toBe('s-4');
      expect(await store.setPassword(reader.userId, 'scrypt$newer', 30)).toBe(0);
    });

    it('ends sessions idle since before the cut-off or past their absolute end, and says how many', async () => {
      const { store, access } = await open();
      const user = await access.createUser('reader-1', 'clinician-reviewer');
      const t0 = clock.now().getTime();
      await store.createSession(sessionOf(user.userId, 1, t0)); // idle
      await store.createSession(sessionOf(user.userId, 2, t0, { expiresAtMs: t0 + 60 * MIN })); // past its end
      await store.createSession(sessionOf(user.userId, 3, t0)); // in use
      await store.touchSession('s-2', t0 + 50 * MIN);
      await store.touchSession('s-3', t0 + 50 * MIN);
      const now = t0 + 60 * MIN;
      expect(await store.endExpiredSessions(now, now - 30 * MIN)).toBe(2);
      expect(await store.findSession(digest(1))).toBeUndefined();
      expect(await store.findSession(digest(2))).toBeUndefined();
      expect((await store.findSession(digest(3)))?.sessionId).toBe('s-3');
      expect(await store.endExpiredSessions(now, now - 30 * MIN)).toBe(0);
    });

    it('counts failures per key in a window, forgets old ones, and clears one key without touching another', async () => {
      const { store } = await open();
      const [name, address, other] = [digest(0xa1), digest(0xb2), digest(0xc3)];
      for (let i = 0; i < 3; i++) await store.recordFailure([name, address], i * MIN, 0);
      await store.recordFailure([other], 3 * MIN, 0);
      expect(await store.failuresSince(name, 0)).toEqual([0, MIN, 2 * MIN]);
      expect(await store.failuresSince(address, MIN)).toEqual([MIN, 2 * MIN]);
      expect(await store.failuresSince(digest(0xdd), 0)).toEqual([]);
      // A new failure drops every key's failures older than the window, whatever key it is under.
      await store.recordFailure([other], 20 * MIN, 2 * MIN);
      expect(await store.failuresSince(name, 0)).toEqual([2 * MIN]);
      expect(await store.failuresSince(other, 0)).toEqual([3 * MIN, 20 * MIN]);
      await store.clearFailures(name);
      expect(await store.failuresSince(name, 0)).toEqual([]);
      expect(await store.failuresSince(address, 0)).toEqual([2 * MIN]);
    });

    it('shares passwords, sessions and failures with another process on the same store', async () => {
      const { store, access, second } = await open();
      const user = await access.createUser('reader-1', 'clinician-reviewer');
      await store.setPassword(user.userId, 'scrypt$one', 0);
      expect((await second.credentialByName('reader-1'))?.passwordHash).toBe('scrypt$one');
      await second.createSession(sessionOf(user.userId, 1, 0));
      expect((await store.findSession(digest(1)))?.sessionId).toBe('s-1');
      const key = digest(0xa1);
      await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? store : second).recordFailure([key], i, 0)));
      expect(await store.failuresSince(key, 0)).toEqual(Array.from({ length: 10 }, (_, i) => i));
      await second.clearFailures(key);
      expect(await store.failuresSince(key, 0)).toEqual([]);
    });
  });
}
