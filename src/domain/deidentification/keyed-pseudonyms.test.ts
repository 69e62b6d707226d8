import { createHmac } from 'node:crypto';
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import {
  accessionLookupKey,
  dateOffsetDays,
  isRemappedUid,
  pseudonymousStudyKey,
  pseudonymToken,
  remapUid,
  shiftDate,
  shiftDateTime,
  type KeyedDigest,
} from './keyed-pseudonyms.js';

const digest: KeyedDigest = (purpose, value) => createHmac('sha256', 'k').update(`${purpose}\0${value}`).digest();
const other: KeyedDigest = (purpose, value) => createHmac('sha256', 'another site').update(`${purpose}\0${value}`).digest();

describe('keyed pseudonyms', () => {
  test.prop([fc.stringMatching(/^[1-9][0-9]{0,5}(\.[1-9][0-9]{0,8}){1,8}$/)])('UIDs map to valid 2.25 UIDs, deterministically, and are recognised', (uid) => {
    const mapped = remapUid(digest, uid);
    expect(mapped).toMatch(/^2\.25\.[1-9]\d*$/);
    expect(mapped.length).toBeLessThanOrEqual(64);
    expect(remapUid(digest, uid)).toBe(mapped);
    expect(remapUid(digest, mapped)).toBe(mapped);
    expect(isRemappedUid(other, mapped)).toBe(false);
  });

  it('makes the UUID a version 8, RFC variant UUID', () => {
    const hex = BigInt(remapUid(digest, '1.2.3').slice(5)).toString(16).padStart(32, '0');
    expect(hex[12]).toBe('8');
    expect(['8', '9', 'a', 'b']).toContain(hex[16]);
  });

  test.prop([fc.string({ minLength: 1, maxLength: 40 }), fc.constantFrom(16, 64)])('tokens fit the VR and are recognised as ours', (value, max) => {
    const token = pseudonymToken(digest, 'patient-id', value, max);
    expect(token.length).toBeLessThanOrEqual(max);
    expect(token).toMatch(/^V[0-9A-F]+$/);
    expect(pseudonymToken(digest, 'patient-id', token, max)).toBe(token);
  });

  it('shifts dates by a per-patient offset in [-3652, -1] days, keeping intervals', () => {
    const offset = dateOffsetDays(digest, 'SYNTH-PID-0001');
    expect(offset).toBeGreaterThanOrEqual(-3652);
    expect(offset).toBeLessThanOrEqual(-1);
    expect(shiftDate('20200301', -1)).toBe('20200229');
    expect(shiftDate('20200301', 0)).toBe('20200301');
    const a = Date.parse(shiftDate('20200101', offset).replace(/(\d{4})(\d{2})(\d{2})/, '$1-$2-$3'));
    const b = Date.parse(shiftDate('20200311', offset).replace(/(\d{4})(\d{2})(\d{2})/, '$1-$2-$3'));
    expect((b - a) / 86_400_000).toBe(70);
    expect(shiftDateTime('20200301101500.123+0100', -1)).toBe('20200229101500.123+0100');
    expect(shiftDate('garbage', -5)).toBe('19000101');
  });
});

describe('the study key of predict and the audit log', () => {
  it('names the same study as the de-identified Study Instance UID', () => {
    const studyUid = '1.2.826.0.1.3680043.10.543.1';
    const key = pseudonymousStudyKey(digest, studyUid);
    expect(key).toMatch(/^st-[0-9a-f]{32}$/);
    expect(`2.25.${BigInt('0x' + key.slice(3)).toString(10)}`).toBe(remapUid(digest, studyUid));
    expect(pseudonymousStudyKey(digest, remapUid(digest, studyUid))).toBe(key);
  });

  it('keys an Accession Number without its padding, per site, and never quotes it', () => {
    const key = accessionLookupKey(digest, 'ACC12345');
    expect(key).toMatch(/^acc-[0-9a-f]{32}$/);
    expect(accessionLookupKey(digest, ' ACC12345 \0')).toBe(key);
    expect(accessionLookupKey(digest, 'ACC12346')).not.toBe(key);
    expect(accessionLookupKey(other, 'ACC12345')).not.toBe(key);
    expect(key).not.toContain('12345');
    expect(accessionLookupKey(digest, '  ')).toBeUndefined();
  });
});
