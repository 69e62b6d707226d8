import { createHash } from 'node:crypto';
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { derivedResultIds, uid225, uuidV8 } from './derived-ids.js';

const sha256Hex = (text: string) => createHash('sha256').update(text).digest('hex');
const ids = derivedResultIds(sha256Hex);

describe('uid225 (PS3.5 B.2)', () => {
  it('is the decimal of the first 128 bits under 2.25', () => {
    expect(uid225('0'.repeat(31) + '1' + 'ff')).toBe('2.25.1');
    expect(uid225('f'.repeat(64))).toBe(`2.25.${(2n ** 128n - 1n).toString()}`);
  });

  test.prop([fc.stringMatching(/^[0-9a-f]{64}$/)])('is a valid UID of at most 64 characters', (hex) => {
    const uid = uid225(hex);
    expect(uid).toMatch(/^2\.25\.(0|[1-9][0-9]*)$/);
    expect(uid.length).toBeLessThanOrEqual(64);
  });
});

describe('uuidV8 (RFC 9562 section 5.8)', () => {
  test.prop([fc.stringMatching(/^[0-9a-f]{64}$/)])('sets version 8 and the 10 variant, and keeps the other bits of the hash', (hex) => {
    const uuid = uuidV8(hex);
    expect(uuid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const digits = uuid.replaceAll('-', '');
    expect(digits.slice(0, 12)).toBe(hex.slice(0, 12));
    expect(digits.slice(13, 16)).toBe(hex.slice(13, 16));
    expect(digits.slice(17, 32)).toBe(hex.slice(17, 32));
    expect(Number.parseInt(digits.charAt(16), 16) & 0x3).toBe(Number.parseInt(hex.charAt(16), 16) & 0x3);
  });
});

describe('derivedResultIds', () => {
  it('derives the same ids as earlier releases did (results already delivered keep their UIDs)', () => {
    expect(ids.uidOf('vigil-result-sr:instance:case-1')).toBe('2.25.138611036890744496546469471582103961764');
    expect(ids.uuidOf('vigil-result-sr:instance:case-1')).toBe('684783c0-9068-8967-871d-233e74ba80a4');
  });

  it('gives different names different ids', () => {
    expect(ids.uidOf('a')).not.toBe(ids.uidOf('b'));
    expect(ids.uuidOf('a')).not.toBe(ids.uuidOf('b'));
  });
});
