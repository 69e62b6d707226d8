import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PERMISSIONS, ROLE_PERMISSIONS, ROLES } from '../../src/domain/access/roles.js';

const doc = readFileSync(new URL('../../docs/api.md', import.meta.url), 'utf8');

describe('docs/api.md', () => {
  it('shows exactly the permissions each role has in code', () => {
    const header = /^\| permission \|(.+)\|$/m
      .exec(doc)?.[1]
      ?.split('|')
      .map((c) => c.trim());
    expect(header).toEqual([...ROLES]);
    const documented = new Map<string, string[]>();
    for (const match of doc.matchAll(/^\| `([a-z]+:[a-z]+)`[^|]*\|(.+)\|$/gm)) {
      const cells = (match[2] as string).split('|').map((c) => c.trim());
      documented.set(
        match[1] as string,
        ROLES.filter((_, i) => cells[i] === '✓'),
      );
    }
    expect([...documented.keys()].sort()).toEqual([...PERMISSIONS].sort());
    for (const permission of PERMISSIONS) {
      expect(documented.get(permission), permission).toEqual(ROLES.filter((role) => ROLE_PERMISSIONS[role].includes(permission)));
    }
  });
});
