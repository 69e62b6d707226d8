import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EXIT_CODES } from '../../src/cli/exit-codes.js';
import { ERROR_CODES } from '../../src/domain/errors.js';

const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
const rows = [...doc.matchAll(/^\| `([A-Z_]+)` \| (\d+) \| (.+?) \| (.+?) \|$/gm)].map((m) => ({
  code: m[1] as string,
  exit: Number(m[2]),
  meaning: m[3] as string,
  fix: m[4] as string,
}));

describe('docs/errors.md', () => {
  it('documents every error code', () => {
    const documented = new Set(rows.map((r) => r.code));
    expect(ERROR_CODES.filter((code) => !documented.has(code))).toEqual([]);
  });
  it('lists no stale code', () => {
    expect(rows.map((r) => r.code).filter((code) => !(ERROR_CODES as readonly string[]).includes(code))).toEqual([]);
  });
  it('lists each code once, with its exit code, a meaning and a fix', () => {
    expect(new Set(rows.map((r) => r.code)).size).toBe(rows.length);
    for (const row of rows) {
      expect(row.exit, row.code).toBe(EXIT_CODES[row.code as keyof typeof EXIT_CODES]);
      expect(row.meaning.length, row.code).toBeGreaterThan(10);
      expect(row.fix.length, row.code).toBeGreaterThan(5);
    }
  });
});
