import { describe, expect, it } from 'vitest';
import { hasPermission, PERMISSIONS, ROLE_PERMISSIONS, ROLES, studyScopeOf } from './roles.js';

describe('roles', () => {
  it('gives every permission to someone, and only known permissions', () => {
    const granted = new Set(Object.values(ROLE_PERMISSIONS).flat());
    expect([...PERMISSIONS].filter((p) => !granted.has(p))).toEqual([]);
    for (const role of ROLES) for (const p of ROLE_PERMISSIONS[role]) expect(PERMISSIONS).toContain(p);
  });
  it('keeps clinical reading away from the administrator and everything but the trail and the monitors (read only) away from the auditor', () => {
    expect(hasPermission('admin', 'studies:read')).toBe(false);
    // account:self is one's own password only; releases:read is the change-control part of the trail (requests, evidence packs), no clinical data.
    expect(ROLE_PERMISSIONS.auditor).toEqual(['audit:read', 'audit:verify', 'account:self', 'releases:read', 'monitoring:read']);
    expect(hasPermission('clinician-reviewer', 'reviews:write')).toBe(true);
  });
  it('lets an integration read studies, but only those its own user sent', () => {
    expect(hasPermission('integration', 'studies:read')).toBe(true);
    expect(studyScopeOf({ userId: 'u-7', role: 'integration', tokenId: 't-1' })).toEqual({ kind: 'sent', userId: 'u-7' });
    for (const role of ROLES.filter((r) => r !== 'integration')) expect(studyScopeOf({ userId: 'u-7', role, tokenId: 't-1' })).toEqual({ kind: 'all' });
  });
});
