/**
 * The behaviour every `AccessStore` must show, written once and run against each store (STYLE.md,
 * "Contract suites"). Two things the port cannot do are the fixture's: disabling a user (an operator
 * does it in the store) and dumping the stored token rows (to check no secret is kept).
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { AccessStore } from './access-store.js';
import { createManualClock, type ManualClock } from './job-queue.contract.js';

export interface AccessStoreFixture {
  readonly store: AccessStore;
  readonly disableUser: (userId: string) => Promise<void>;
  /** Every stored token row, as text. */
  readonly dumpTokens: () => Promise<string>;
  dispose(): void | Promise<void>;
}

export function describeAccessStore(name: string, factory: (clock: ManualClock) => AccessStoreFixture | Promise<AccessStoreFixture>): void {
  describe(`AccessStore contract: ${name}`, () => {
    let fixture: AccessStoreFixture | undefined;
    let clock: ManualClock;
    const open = async (): Promise<AccessStoreFixture> => {
      clock = createManualClock();
      fixture = await factory(clock);
      return fixture;
    };
    afterEach(async () => {
      await fixture?.dispose();
      fixture = undefined;
    });

    it('authenticates an issued token as its user and role, and stores only its hash', async () => {
      const { store, dumpTokens } = await open();
      const user = await store.createUser('reader-1', 'clinician-reviewer');
      expect(user).toMatchObject({ name: 'reader-1', role: 'clinician-reviewer', disabled: false });
      const token = await store.issueToken(user.userId, 'laptop');
      expect(token.secret).toMatch(/^vgl_[A-Za-z0-9_-]{43}$/);
      expect(await store.authenticate(token.secret)).toEqual({ userId: user.userId, role: 'clinician-reviewer', tokenId: token.tokenId });
      expect(await dumpTokens()).not.toContain(token.secret.slice(4));
    });

    it('refuses unknown, malformed and revoked tokens, and tokens of disabled users', async () => {
      const { store, disableUser } = await open();
      const user = await store.createUser('svc', 'integration');
      const token = await store.issueToken(user.userId, 'pacs');
      expect(await store.authenticate('vgl_' + 'A'.repeat(43))).toBeUndefined();
      expect(await store.authenticate('Bearer nonsense')).toBeUndefined();
      expect(await store.authenticate('')).toBeUndefined();
      expect(await store.revokeToken(token.tokenId)).toBe(true);
      expect(await store.authenticate(token.secret)).toBeUndefined();
      expect(await store.revokeToken(token.tokenId)).toBe(false);
      const second = await store.issueToken(user.userId, 'pacs-2');
      await disableUser(user.userId);
      expect(await store.authenticate(second.secret)).toBeUndefined();
      expect((await store.listUsers()).map((u) => u.disabled)).toEqual([true]);
    });

    it('keeps user names unique, lists users in creation order, and refuses a token for an unknown user', async () => {
      const { store } = await open();
      const admin = await store.createUser('admin', 'admin');
      expect(admin.createdAt).toBe('2026-01-01T00:00:00.000Z');
      clock.advance(1_000);
      await expect(store.createUser('admin', 'auditor')).rejects.toMatchObject({ code: 'STORE_WRITE_FAILED' });
      clock.advance(1_000);
      await store.createUser('auditor-1', 'auditor');
      expect(await store.countUsers()).toBe(2);
      expect((await store.listUsers()).map((u) => u.name)).toEqual(['admin', 'auditor-1']);
      await expect(store.issueToken('u-unknown', 'x')).rejects.toMatchObject({ code: 'STORE_WRITE_FAILED' });
    });
  });
}
