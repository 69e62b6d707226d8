import { describe, expect, it } from 'vitest';
import { pickUniqueId } from './id-prefix.js';

describe('pickUniqueId', () => {
  const what = { code: 'RELEASE_NOT_FOUND', noun: 'release request' } as const;

  it('names the one id a prefix matches', () => {
    expect(pickUniqueId(['r-5d1e0a7c-0000-4000-8000-000000000001'], what)).toBe('r-5d1e0a7c-0000-4000-8000-000000000001');
  });

  it('refuses none and several, coded, with how many matched', () => {
    expect(() => pickUniqueId([], what)).toThrow(
      expect.objectContaining({ code: 'RELEASE_NOT_FOUND', message: 'No release request has this id', details: { matches: 0 } }),
    );
    expect(() => pickUniqueId(['r-5d1e0a7c-1', 'r-5d1e0a7c-2'], what)).toThrow(
      expect.objectContaining({
        code: 'RELEASE_NOT_FOUND',
        message: 'Several release requests start with this prefix: give more of the id',
        details: { matches: 2 },
      }),
    );
  });
});
