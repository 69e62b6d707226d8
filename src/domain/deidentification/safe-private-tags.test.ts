import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { DeidElement } from './deid-dataset.js';
import { deidentifyDataset } from './deidentify-dataset.js';
import type { KeyedDigest } from './keyed-pseudonyms.js';
import { findSafePrivate, hasSafeValue } from './safe-private-tags.js';

const digest: KeyedDigest = (purpose, value) => createHmac('sha256', 'k').update(`${purpose}\0${value}`).digest();
const text = (tag: number, vr: string, value: string): DeidElement => ({ tag, vr, value: { kind: 'text', text: value } });
const bytes = (tag: number, vr: string, value: Uint8Array): DeidElement => ({ tag, vr, value: { kind: 'bytes', bytes: value } });
const latin1 = (value: string): Uint8Array => Uint8Array.from(value, (c) => c.charCodeAt(0));

describe('safe private attributes', () => {
  const bValue = findSafePrivate(' siemens mr header ', 0x0019100c);
  const gradient = findSafePrivate('SIEMENS MR HEADER', 0x0019100e);

  it('are found by creator, group and element byte, with the VR of PS3.15 Table E.3.10-1', () => {
    expect(bValue?.vr).toBe('IS');
    expect(gradient?.vr).toBe('FD');
    expect(findSafePrivate('SIEMENS MR HEADER', 0x0019100f)).toBeUndefined();
    expect(findSafePrivate(undefined, 0x0019100c)).toBeUndefined();
  });

  it('keep a value only when it is of that VR, written so or of unknown VR and parsing as it', () => {
    if (bValue === undefined || gradient === undefined) throw new Error('safe list');
    expect(hasSafeValue(bValue, text(0x0019100c, 'IS', '1000 '))).toBe(true);
    expect(hasSafeValue(bValue, bytes(0x0019100c, 'UN', latin1('-50\\1000')))).toBe(true);
    expect(hasSafeValue(bValue, bytes(0x0019100c, 'UN', latin1('DOE^JOHN')))).toBe(false);
    expect(hasSafeValue(bValue, text(0x0019100c, 'LO', '1000'))).toBe(false); // another VR
    expect(hasSafeValue(gradient, bytes(0x0019100e, 'FD', new Uint8Array(24)))).toBe(true);
    expect(hasSafeValue(gradient, bytes(0x0019100e, 'UN', new Uint8Array(24)))).toBe(true);
    expect(hasSafeValue(gradient, bytes(0x0019100e, 'UN', new Uint8Array(23)))).toBe(false);
    expect(hasSafeValue(gradient, { tag: 0x0019100e, vr: 'UN', value: { kind: 'sequence', items: [] } })).toBe(false);
  });
});

describe('an element the adapter could not inspect', () => {
  it('is removed and counted, whatever the table says of its tag (here: not listed, so K)', () => {
    const result = deidentifyDataset(
      [
        text(0x00080060, 'CS', 'CT'),
        { tag: 0x300c0002, vr: 'UN', value: { kind: 'uninspectable' } },
        { tag: 0x00181234, vr: 'UN', value: { kind: 'uninspectable' } },
      ],
      { profile: { name: 'basic', options: new Set(['retain-safe-private']) }, digest },
    );
    expect(result.dataset.map((e) => e.tag)).not.toContain(0x300c0002);
    expect(result.dataset.map((e) => e.tag)).not.toContain(0x00181234);
    expect(result.counts.removed).toBe(2);
  });
});
