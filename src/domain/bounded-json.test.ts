import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { jsonNestingDepth, parseBoundedJson } from './bounded-json.js';

const depthOf = (v: unknown): number =>
  Array.isArray(v) ? 1 + Math.max(0, ...v.map(depthOf)) : typeof v === 'object' && v !== null ? 1 + Math.max(0, ...Object.values(v).map(depthOf)) : 0;

describe('bounded JSON', () => {
  it('refuses a 10,000-deep nesting by its depth, naming the limit, and parses what is within it', () => {
    expect(parseBoundedJson(`{"a":${'['.repeat(10_000)}${']'.repeat(10_000)}}`, { maxDepth: 32 })).toEqual({
      ok: false,
      problem: 'nests arrays and objects deeper than 32 levels, the most it may',
    });
    expect(parseBoundedJson('{"a":[[1]]}', { maxDepth: 3 })).toEqual({ ok: true, value: { a: [[1]] } });
    expect(parseBoundedJson('{"a":[[[1]]]}', { maxDepth: 3 })).toMatchObject({ ok: false });
    expect(parseBoundedJson('{"a":', { maxDepth: 3 })).toEqual({ ok: false, problem: 'is not valid JSON' });
  });

  it('does not count brackets inside strings, escaped quotes included', () => {
    expect(jsonNestingDepth('{"a":"[[[{{{\\"[[["}')).toBe(1);
  });

  test.prop([fc.json({ depthSize: 'large', maxDepth: 12 })])('measures the depth JSON.parse builds', (text) => {
    expect(jsonNestingDepth(text)).toBe(depthOf(JSON.parse(text)));
  });
});
