/**
 * The behaviour every `AccessStore` must show, written once and run against each store (STYLE.md,
 * "Contract suites"). What the port cannot do is the fixture's: dumping the stored token rows (to
 * check no secret is kept).
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { AccessStore } from './access-store.js';
import { createManualClock, type ManualClock } from './job-queue.contract.js';

export interface AccessStoreFixture {
  readonly store: AccessStore;
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
      expect(token.expiresAt).toBeNull();
      expect(await store.authenticate(token.secret)).toEqual({ userId: user.userId, role: 'clinician-reviewer', tokenId: token.tokenId });
      expect(await dumpTokens()).not.toContain(token.secret.slice(4));
    });

    it('refuses unknown, malformed and revoked tokens, and tokens of disabled users', async () => {
      const { store } = await open();
      const user = await store.createUser('svc', 'integration');
      const token = await store.issueToken(user.userId, 'pacs');
      expect(await store.authenticate('vgl_' + 'A'.repeat(43))).toBeUndefined();
      expect(await store.authenticate('Bearer nonsense')).toBeUndefined();
      expect(await store.authenticate('')).toBeUndefined();
      expect(await store.revokeToken(token.tokenId)).toBe(true);
      expect(await store.authenticate(token.secret)).toBeUndefined();
      expect(await store.revokeToken(token.tokenId)).toBe(false);
      const second = await store.issueToken(user.userId, 'pacs-2');
      expect(await store.updateUser(user.userId, { disabled: true })).toMatchObject({ outcome: 'updated' });
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
    it('lists a user’s tokens newest first with label, times and state, never the secret; records the last use to the minute', async () => {
      const { store } = await open();
      const user = await store.createUser('svc', 'integration');
      const other = await store.createUser('other', 'integration');
      const first = await store.issueToken(user.userId, 'pacs');
      clock.advance(1_000);
      const second = await store.issueToken(user.userId, 'ci', { expiresAtMs: clock.now().getTime() + 86_400_000 });
      await store.issueToken(other.userId, 'not mine');
      expect(await store.listTokens(user.userId)).toEqual([
        {
          tokenId: second.tokenId,
          userId: user.userId,
          label: 'ci',
          createdAt: '2026-01-01T00:00:01.000Z',
          lastUsedAt: null,
          expiresAt: '2026-01-02T00:00:01.000Z',
          revokedAt: null,
        },
        {
          tokenId: first.tokenId,
          userId: user.userId,
          label: 'pacs',
          createdAt: '2026-01-01T00:00:00.000Z',
          lastUsedAt: null,
          expiresAt: null,
          revokedAt: null,
        },
      ]);
      expect(second.expiresAt).toBe('2026-01-02T00:00:01.000Z');
      expect(JSON.stringify(await store.listTokens(user.userId))).not.toContain(first.secret.slice(4));
      clock.advance(1_000);
      await store.authenticate(first.secret);
      const used = (await store.listTokens(user.userId)).find((t) => t.tokenId === first.tokenId);
      expect(used?.lastUsedAt).toBe('2026-01-01T00:00:02.000Z');
      // Within the minute: not written again; after it: written.
      clock.advance(30_000);
      await store.authenticate(first.secret);
      expect((await store.listTokens(user.userId)).find((t) => t.tokenId === first.tokenId)?.lastUsedAt).toBe('2026-01-01T00:00:02.000Z');
      clock.advance(31_000);
      await store.authenticate(first.secret);
      expect((await store.listTokens(user.userId)).find((t) => t.tokenId === first.tokenId)?.lastUsedAt).toBe('2026-01-01T00:01:03.000Z');
      expect(await store.listTokens('u-unknown')).toEqual([]);
    });

    it('refuses an expired token, and revokes only a live token of the named user', async () => {
      const { store } = await open();
      const user = await store.createUser('svc', 'integration');
      const other = await store.createUser('other', 'auditor');
      const token = await store.issueToken(user.userId, 'short', { expiresAtMs: clock.now().getTime() + 60_000 });
      expect(await store.authenticate(token.secret)).toBeDefined();
      clock.advance(60_000);
      expect(await store.authenticate(token.secret)).toBeUndefined();
      expect(await store.revokeToken(token.tokenId, user.userId)).toBe(false);
      const live = await store.issueToken(user.userId, 'live');
      expect(await store.revokeToken(live.tokenId, other.userId)).toBe(false);
      expect(await store.authenticate(live.secret)).toBeDefined();
      expect(await store.revokeToken(live.tokenId, user.userId)).toBe(true);
      expect((await store.listTokens(user.userId)).find((t) => t.tokenId === live.tokenId)?.revokedAt).toBe('2026-01-01T00:01:00.000Z');
    });

    it('rotates a token: the successor works at once, the old one ends at once or after the overlap, and a dead token is not rotated', async () => {
      const { store } = await open();
      const user = await store.createUser('svc', 'integration');
      const old = await store.issueToken(user.userId, 'pacs', { expiresAtMs: clock.now().getTime() + 10 * 86_400_000 });
      clock.advance(86_400_000);
      const rotated = await store.rotateToken(user.userId, old.tokenId, { label: 'pacs (rotated)', overlapMs: 0 });
      if (rotated.outcome !== 'rotated') throw new Error(rotated.outcome);
      expect(await store.authenticate(old.secret)).toBeUndefined();
      expect(await store.authenticate(rotated.issued.secret)).toEqual({ userId: user.userId, role: 'integration', tokenId: rotated.issued.tokenId });
      // The successor gets the lifetime its predecessor was issued with (10 days from now).
      expect(rotated.issued.expiresAt).toBe('2026-01-12T00:00:00.000Z');
      expect(rotated.previousEndsAt).toBe('2026-01-02T00:00:00.000Z');
      expect(await store.rotateToken(user.userId, old.tokenId, { label: 'again', overlapMs: 0 })).toEqual({ outcome: 'not_found' });

      // A second later, so that the listing's newest-first order does not rest on a tie.
      clock.advance(1_000);
      const overlapping = await store.rotateToken(user.userId, rotated.issued.tokenId, { label: 'overlap', overlapMs: 600_000 });
      if (overlapping.outcome !== 'rotated') throw new Error(overlapping.outcome);
      expect(overlapping.previousEndsAt).toBe('2026-01-02T00:10:01.000Z');
      clock.advance(599_000);
      expect(await store.authenticate(rotated.issued.secret)).toBeDefined();
      expect(await store.authenticate(overlapping.issued.secret)).toBeDefined();
      clock.advance(1_000);
      expect(await store.authenticate(rotated.issued.secret)).toBeUndefined();
      expect(await store.authenticate(overlapping.issued.secret)).toBeDefined();
      const other = await store.createUser('other', 'integration');
      expect(await store.rotateToken(other.userId, overlapping.issued.tokenId, { label: 'theft', overlapMs: 0 })).toEqual({ outcome: 'not_found' });
      expect((await store.listTokens(user.userId)).map((t) => t.label)).toEqual(['overlap', 'pacs (rotated)', 'pacs']);
    });

    it('changes role and disabled state, and never disables or demotes the last enabled administrator', async () => {
      const { store } = await open();
      const admin = await store.createUser('admin', 'admin');
      const reader = await store.createUser('reader', 'clinician-reviewer');
      const token = await store.issueToken(admin.userId, 'bootstrap');
      expect(await store.updateUser(admin.userId, { disabled: true })).toEqual({ outcome: 'last_administrator' });
      expect(await store.updateUser(admin.userId, { role: 'auditor' })).toEqual({ outcome: 'last_administrator' });
      expect(await store.updateUser('u-unknown', { disabled: true })).toEqual({ outcome: 'not_found' });
      // A disabled administrator does not count.
      expect(await store.updateUser(reader.userId, { role: 'admin', disabled: true })).toMatchObject({
        outcome: 'updated',
        user: { role: 'admin', disabled: true },
      });
      expect(await store.updateUser(admin.userId, { disabled: true })).toEqual({ outcome: 'last_administrator' });
      const enabled = await store.updateUser(reader.userId, { disabled: false });
      expect(enabled).toMatchObject({ outcome: 'updated', before: { disabled: true }, user: { disabled: false }, sessionsEnded: 0 });
      expect(await store.updateUser(admin.userId, { disabled: true })).toMatchObject({ outcome: 'updated', user: { disabled: true } });
      expect(await store.authenticate(token.secret)).toBeUndefined();
      expect(await store.userById(admin.userId)).toMatchObject({ disabled: true, role: 'admin' });
      expect(await store.userByName('reader')).toMatchObject({ userId: reader.userId, role: 'admin' });
      expect(await store.userByName('READER')).toBeUndefined();
      expect(await store.updateUser(reader.userId, { role: 'ml-engineer' })).toEqual({ outcome: 'last_administrator' });
      // Enabled again, the administrator's token works again (it was never revoked).
      expect(await store.updateUser(admin.userId, { disabled: false })).toMatchObject({ outcome: 'updated' });
      expect(await store.authenticate(token.secret)).toMatchObject({ role: 'admin' });
    });

    it('lets only one of two concurrent changes disable the last two administrators', async () => {
      const { store } = await open();
      const a = await store.createUser('admin-a', 'admin');
      const b = await store.createUser('admin-b', 'admin');
      const outcomes = await Promise.all([store.updateUser(a.userId, { disabled: true }), store.updateUser(b.userId, { role: 'auditor' })]);
      expect(outcomes.map((o) => o.outcome).sort()).toEqual(['last_administrator', 'updated']);
      expect((await store.listUsers()).filter((u) => u.role === 'admin' && !u.disabled)).toHaveLength(1);
    });
  });
}
