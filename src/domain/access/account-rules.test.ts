import { describe, expect, it } from 'vitest';
import { removesLastAdministrator, rotatedTokenEndsAtMs, tokenExpiresAtMs, tokenStateAt, type AccountState } from './account-rules.js';

const admin = (userId: string, disabled = false): AccountState => ({ userId, role: 'admin', disabled });

describe('removesLastAdministrator', () => {
  it('refuses disabling or demoting the only enabled administrator', () => {
    const users = [admin('a'), admin('b', true), { userId: 'r', role: 'clinician-reviewer', disabled: false } as const];
    expect(removesLastAdministrator(users, 'a', { disabled: true })).toBe(true);
    expect(removesLastAdministrator(users, 'a', { role: 'auditor' })).toBe(true);
    expect(removesLastAdministrator(users, 'a', { role: 'admin', disabled: false })).toBe(false);
    expect(removesLastAdministrator(users, 'b', { disabled: true })).toBe(false);
    expect(removesLastAdministrator(users, 'r', { disabled: true })).toBe(false);
  });

  it('allows it while another enabled administrator remains, and never blocks other accounts when none is left', () => {
    expect(removesLastAdministrator([admin('a'), admin('b')], 'a', { disabled: true })).toBe(false);
    expect(removesLastAdministrator([admin('a', true), { userId: 'r', role: 'auditor', disabled: false }], 'r', { disabled: true })).toBe(false);
    expect(removesLastAdministrator([admin('a')], 'unknown', { disabled: true })).toBe(false);
  });
});

describe('token times', () => {
  it('expires after whole days, or never', () => {
    expect(tokenExpiresAtMs(1_000, 2)).toBe(1_000 + 2 * 86_400_000);
    expect(tokenExpiresAtMs(1_000, undefined)).toBeUndefined();
  });
  it('ends a rotated token after the overlap, never later than its own expiry', () => {
    expect(rotatedTokenEndsAtMs(1_000, 0, undefined)).toBe(1_000);
    expect(rotatedTokenEndsAtMs(1_000, 60_000, undefined)).toBe(61_000);
    expect(rotatedTokenEndsAtMs(1_000, 60_000, 30_000)).toBe(30_000);
  });
});

describe('tokenStateAt', () => {
  const at = Date.parse('2026-03-01T12:00:00.000Z');
  it('is live until the expiry instant, expired from it on, and revoked whenever revoked', () => {
    expect(tokenStateAt({ revokedAt: null, expiresAt: null }, at)).toBe('live');
    expect(tokenStateAt({ revokedAt: null, expiresAt: '2026-03-01T12:00:00.001Z' }, at)).toBe('live');
    expect(tokenStateAt({ revokedAt: null, expiresAt: '2026-03-01T12:00:00.000Z' }, at)).toBe('expired');
    expect(tokenStateAt({ revokedAt: '2026-02-01T00:00:00.000Z', expiresAt: '2026-03-01T11:00:00.000Z' }, at)).toBe('revoked');
    expect(tokenStateAt({ revokedAt: '2026-02-01T00:00:00.000Z', expiresAt: null }, at)).toBe('revoked');
  });
});
