import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { isPlatformError } from '../errors.js';
import { canonicalJson } from './canonical-json.js';

function shuffledKeys(value: unknown, seed: number): unknown {
  if (Array.isArray(value)) return value.map((v) => shuffledKeys(v, seed));
  if (value !== null && typeof value === 'object') {
    const keys = Object.keys(value);
    const rotated = [...keys.slice(seed % Math.max(keys.length, 1)), ...keys.slice(0, seed % Math.max(keys.length, 1))].reverse();
    const out: Record<string, unknown> = {};
    for (const key of rotated)
      Object.defineProperty(out, key, {
        value: shuffledKeys((value as Record<string, unknown>)[key], seed),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    return out;
  }
  return value;
}

function failure(value: unknown): unknown {
  try {
    canonicalJson(value);
  } catch (error) {
    if (isPlatformError(error)) return { code: error.code, details: error.details };
    throw error;
  }
  throw new Error('expected canonicalJson to throw');
}

describe('canonicalJson', () => {
  it('sorts keys at every depth and writes no whitespace', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: null, y: true }], c: 'x' } })).toBe('{"a":{"c":"x","d":[3,{"y":true,"z":null}]},"b":1}');
  });

  it('sorts keys by UTF-16 code units, as RFC 8785 does', () => {
    // U+FB33 sorts after U+1F600 (surrogates D83D DE00) by code units, before it by code points.
    expect(canonicalJson({ '\uFB33': 1, '\u{1F600}': 2, '\u00E9': 3, Z: 4, a: 5, '': 6 })).toBe('{"":6,"Z":4,"a":5,"\u00E9":3,"\u{1F600}":2,"\uFB33":1}');
  });

  it('leaves out undefined properties, so an absent optional field and an undefined one are the same entry', () => {
    expect(canonicalJson({ a: undefined, b: 2 })).toBe(canonicalJson({ b: 2 }));
  });

  it('prints numbers as ECMAScript does (JCS §3.2.2.3)', () => {
    expect(canonicalJson([0, -0, 1.5, 1e21, 1e-7, -12, 0.1 + 0.2, Number.MAX_SAFE_INTEGER])).toBe(
      '[0,0,1.5,1e+21,1e-7,-12,0.30000000000000004,9007199254740991]',
    );
  });

  it('escapes strings as JSON.stringify does, including lone surrogates', () => {
    expect(canonicalJson(['"\\\n\u0001', '\uD800', 'é'])).toBe('["\\"\\\\\\n\\u0001","\\ud800","é"]');
  });

  it('throws on NaN and ±Infinity, naming where', () => {
    expect(failure({ outputs: [{ probability: Number.NaN }] })).toEqual({
      code: 'INTERNAL',
      details: { path: '$.outputs[0].probability', reason: 'non_finite_number' },
    });
    expect(failure([Infinity])).toMatchObject({ details: { path: '$[0]', reason: 'non_finite_number' } });
    expect(failure({ a: -Infinity })).toMatchObject({ details: { reason: 'non_finite_number' } });
  });

  it('throws on values JSON would silently change or drop', () => {
    expect(failure([undefined])).toMatchObject({ details: { path: '$[0]', reason: 'undefined' } });
    expect(failure(undefined)).toMatchObject({ details: { reason: 'undefined' } });
    expect(failure({ a: 1n })).toMatchObject({ details: { path: '$.a', reason: 'bigint' } });
    expect(failure({ f: () => 1 })).toMatchObject({ details: { reason: 'function' } });
    expect(failure({ s: Symbol('s') })).toMatchObject({ details: { reason: 'symbol' } });
    expect(failure({ when: new Date(0) })).toMatchObject({ details: { path: '$.when', reason: 'not_plain_object' } });
    expect(failure(new Map())).toMatchObject({ details: { reason: 'not_plain_object' } });
    expect(failure(new Uint8Array(2))).toMatchObject({ details: { reason: 'not_plain_object' } });
  });

  it('throws on a cycle but accepts the same object twice side by side', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    expect(failure(cyclic)).toMatchObject({ details: { path: '$.self', reason: 'cycle' } });
    const shared = { x: 1 };
    expect(canonicalJson([shared, shared])).toBe('[{"x":1},{"x":1}]');
  });

  it('accepts objects without a prototype', () => {
    const bare = Object.create(null) as Record<string, unknown>;
    bare['b'] = 1;
    bare['a'] = 2;
    expect(canonicalJson(bare)).toBe('{"a":2,"b":1}');
  });

  test.prop([fc.jsonValue()])('is a fixed point of parse: canonical(parse(canonical(x))) = canonical(x)', (value) => {
    const text = canonicalJson(value);
    expect(canonicalJson(JSON.parse(text))).toBe(text);
  });

  test.prop([fc.jsonValue(), fc.nat()])('does not depend on key insertion order', (value, seed) => {
    expect(canonicalJson(shuffledKeys(value, seed))).toBe(canonicalJson(value));
  });

  test.prop([fc.jsonValue()])('parses back to the same value', (value) => {
    expect(JSON.parse(canonicalJson(value))).toEqual(JSON.parse(JSON.stringify(value)));
  });

  test.prop([fc.jsonValue()])('matches a straightforward sorted-key serialiser', (value) => {
    // Written independently of the implementation; JSON.stringify alone would not do as the oracle,
    // because objects put integer-like keys ("0") before others ("") whatever the sort.
    const oracle = (v: unknown): string =>
      Array.isArray(v)
        ? `[${v.map(oracle).join(',')}]`
        : v !== null && typeof v === 'object'
          ? `{${Object.entries(v)
              .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
              .map(([k, m]) => `${JSON.stringify(k)}:${oracle(m)}`)
              .join(',')}}`
          : JSON.stringify(v);
    expect(canonicalJson(value)).toBe(oracle(value));
  });
});
