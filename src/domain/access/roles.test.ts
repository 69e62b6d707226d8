import { describe, expect, it } from 'vitest';
import { hasPermission, PERMISSIONS, ROLE_PERMISSIONS, ROLES } from './roles.js';

describe('roles', () => {
  it('gives every permission to someone, and only known permissions', () => {
    const granted = new Set(Object.values(ROLE_PERMISSIONS).flat());
    expect([...PERMISSIONS].filter((p) => !granted.has(p))).toEqual([]);
    for (const role of ROLES) for (const p of ROLE_PERMISSIONS[role]) expect(PERMISSIONS).toContain(p);
  });
  it('keeps clinical reading away from the administrator and everything but the log away from the auditor', () => {
    expect(hasPermission('admin', 'studies:read')).toBe(false);
    // account:self is one's own password only.
    expect(ROLE_PERMISSIONS.auditor).toEqual(['audit:read', 'audit:verify', 'account:self']);
    expect(hasPermission('integration', 'studies:read')).toBe(false);
    expect(hasPermission('clinician-reviewer', 'reviews:write')).toBe(true);
  });
});
