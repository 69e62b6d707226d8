import { PlatformError } from '../errors.js';

/**
 * Deterministic JSON: the bytes an audit leaf hashes, so the same entry always gives the same leaf.
 *
 * - Object keys are sorted by UTF-16 code units (plain `Array#sort`), as RFC 8785 (JCS) §3.2.3 does.
 * - A property whose value is `undefined` is left out (an absent optional field and an explicit
 *   `undefined` are the same entry); `undefined` inside an array has no JSON form and throws.
 * - Numbers must be finite; they print as ECMAScript `Number#toString`, as JCS §3.2.2.3 does
 *   (`-0` prints as `0`). NaN and ±Infinity throw instead of silently becoming `null`.
 * - Strings are escaped by `JSON.stringify` (well-formed since ES2019: lone surrogates become `\u` escapes).
 * - Only plain objects and arrays nest. A `Date`, `Map`, typed array, class instance, `bigint`,
 *   function, symbol or cycle throws, because `JSON.stringify` would turn each into something lossy.
 * - No whitespace.
 *
 * Throws `PlatformError('INTERNAL')` with the JSON path of the offending value: reaching it means a
 * caller built an entry that cannot be audited, which is a bug in the caller.
 *
 * @example canonicalJson({ b: 1, a: [true, null] }) === '{"a":[true,null],"b":1}'
 */
export function canonicalJson(value: unknown): string {
  return write(value, []);
}

/**
 * `trail` holds the containers and keys above `value` ([container, key, container, key, …]): for
 * cycle detection, and to name the path in an error. The path string is only built on failure; this
 * runs once per entry on every append and on every `verify()`.
 */
function write(value: unknown, trail: (object | string | number)[]): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) fail(trail, 'non_finite_number');
      return JSON.stringify(value);
    case 'object':
      if (value === null) return 'null';
      return writeContainer(value, trail);
    case 'undefined':
      return fail(trail, 'undefined');
    case 'bigint':
    case 'function':
    case 'symbol':
      return fail(trail, typeof value);
  }
}

function writeContainer(value: object, trail: (object | string | number)[]): string {
  for (let i = 0; i < trail.length; i += 2) if (trail[i] === value) fail(trail, 'cycle');
  let out: string;
  if (Array.isArray(value)) {
    out = '[';
    for (let i = 0; i < value.length; i++) {
      trail.push(value, i);
      out += (i === 0 ? '' : ',') + write(value[i] as unknown, trail);
      trail.length -= 2;
    }
    out += ']';
  } else {
    const proto: unknown = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) fail(trail, 'not_plain_object');
    const record = value as Record<string, unknown>;
    out = '{';
    let first = true;
    for (const key of Object.keys(record).sort()) {
      const member = record[key];
      if (member === undefined) continue;
      trail.push(value, key);
      out += (first ? '' : ',') + JSON.stringify(key) + ':' + write(member, trail);
      trail.length -= 2;
      first = false;
    }
    out += '}';
  }
  return out;
}

function fail(trail: readonly (object | string | number)[], reason: string): never {
  let path = '$';
  for (let i = 1; i < trail.length; i += 2) {
    const key = trail[i];
    if (typeof key === 'number') path += `[${key}]`;
    else if (typeof key === 'string') path += `.${key}`;
  }
  throw new PlatformError('INTERNAL', 'Value has no canonical JSON form', { path, reason });
}
