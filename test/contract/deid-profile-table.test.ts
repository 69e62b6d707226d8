/**
 * PS3.15 Table E.1-1, every row: a dataset holding the attribute (at the top level and inside a sequence) is
 * de-identified under the Basic Profile and under each option that changes the row, and the result is
 * checked against the Standard's meaning of the action. The expected action is read here from the JSON the
 * Standard publishes, independently of the generated table and of resolve-action.ts.
 */
import { createHmac } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { dictionaryVr } from '../../src/adapters/dicom-dcmjs/internal/dictionary.js';
import { TEXT_VRS, type DeidDataset, type DeidElement } from '../../src/domain/deidentification/deid-dataset.js';
import { deidentifyDataset } from '../../src/domain/deidentification/deidentify-dataset.js';
import type { KeyedDigest } from '../../src/domain/deidentification/keyed-pseudonyms.js';
import type { ProfileOption } from '../../src/domain/deidentification/profile-attribute.js';
import { findProfileAttribute } from '../../src/domain/deidentification/resolve-action.js';
import { REPO_ROOT, SAMPLE_DATA } from '../helpers/sample-data.js';

const TABLE_JSON = `${SAMPLE_DATA}/dicom-standard/confidentiality_profile_attributes.json`;
interface Row {
  readonly name: string;
  readonly tag: string;
  readonly basicProfile: string;
  readonly [column: string]: string;
}
// The standard's table is public data beside the repo (../shared/data), not in it: without it, this suite skips and says so.
const hasTable = existsSync(TABLE_JSON);
const rows = hasTable ? (JSON.parse(readFileSync(TABLE_JSON, 'utf8')) as Row[]) : [];
const digest: KeyedDigest = (purpose, value) => createHmac('sha256', 'table-test-secret').update(`${purpose}\0${value}`).digest();

const COLUMN: Record<string, ProfileOption> = {
  rtnSafePrivOpt: 'retain-safe-private',
  rtnUIDsOpt: 'retain-uids',
  rtnDevIdOpt: 'retain-device-identity',
  rtnInstIdOpt: 'retain-institution-identity',
  rtnPatCharsOpt: 'retain-patient-characteristics',
  rtnLongFullDatesOpt: 'retain-longitudinal-full-dates',
  rtnLongModifDatesOpt: 'retain-longitudinal-modified-dates',
  cleanDescOpt: 'clean-descriptors',
  cleanStructContOpt: 'clean-structured-content',
  cleanGraphOpt: 'clean-graphics',
};

/** A concrete tag for a row: repeating groups take their first group, the private row a block of creator "ACME". */
function concreteTag(tag: string): number {
  if (/GGGG/i.test(tag)) return 0x00091010;
  const hex = tag.replace(/[(),]/g, '').toLowerCase();
  // (50xx,xxxx): the first curve group and Curve Data (50xx,3000); (60xx,eeee): group 6000.
  if (hex === '50xxxxxx') return 0x50003000;
  return parseInt(hex.replace(/x/g, '0'), 16) >>> 0;
}

const IDENTIFIER = 'SYNTHETIC^PATIENT';
function elementFor(tag: number): DeidElement {
  const vr = tag === 0x00091010 ? 'LO' : (dictionaryVr(tag) ?? 'LO');
  const text = (t: string): DeidElement => ({ tag, vr, value: { kind: 'text', text: t } });
  switch (vr) {
    case 'SQ':
      return { tag, vr, value: { kind: 'sequence', items: [[{ tag: 0x00100010, vr: 'PN', value: { kind: 'text', text: IDENTIFIER } }]] } };
    case 'UI':
      return text('1.2.826.0.1.3680043.10.543.77');
    case 'DA':
      return text('20200315');
    case 'DT':
      return text('20200315101500');
    case 'TM':
      return text('101500');
    case 'DS':
    case 'IS':
      return text('42');
    case 'AS':
      return text('042Y');
    case 'CS':
      return text('SYNTHVALUE');
    case 'AE':
      return text('SYNTHAE');
    case 'PN':
      return text(IDENTIFIER);
    default:
      if (TEXT_VRS.has(vr)) return text(`SYNTHETIC ${IDENTIFIER} note`);
      return { tag, vr, value: { kind: 'bytes', bytes: Uint8Array.of(1, 2, 3, 4) } };
  }
}

/** The Standard's action for the row under one option (or none), combined codes resolved to what Vigil promises. */
function expectedAction(row: Row, option: ProfileOption | undefined): string {
  if (option !== undefined) {
    const column = Object.entries(COLUMN).find(([, o]) => o === option)?.[0];
    const value = column === undefined ? undefined : row[column];
    if (value === 'K' || value === 'C') return value;
  }
  return row.basicProfile;
}

function check(action: string, before: DeidElement, after: DeidElement | undefined, label: string): void {
  const v = before.value;
  switch (action) {
    case 'X':
      expect(after, `${label}: removed`).toBeUndefined();
      return;
    case 'K':
      expect(after, `${label}: kept`).toBeDefined();
      if (v.kind !== 'sequence') expect(after?.value, label).toEqual(v);
      return;
    case 'Z':
    case 'X/Z':
      expect(after, `${label}: present (Z)`).toBeDefined();
      if (after?.value.kind === 'sequence') expect(after.value.items, label).toEqual([]);
      else expect(after?.value, `${label}: zero length or a dummy`).not.toEqual(v);
      return;
    case 'D':
    case 'X/D':
    case 'Z/D':
    case 'X/Z/D':
      expect(after, `${label}: present (D)`).toBeDefined();
      if (after?.value.kind === 'sequence') checkItemsCleaned(after, label);
      else {
        expect(after?.value, `${label}: replaced`).not.toEqual(v);
        if (after?.value.kind === 'text') expect(after.value.text.length, `${label}: non-zero dummy`).toBeGreaterThan(0);
      }
      return;
    case 'U':
    case 'X/Z/U*':
      expect(after, `${label}: present (U)`).toBeDefined();
      if (after?.value.kind === 'sequence') checkItemsCleaned(after, label);
      else if (after?.value.kind === 'text') expect(after.value.text, label).toMatch(/^2\.25\.\d+$/);
      return;
    case 'C':
      if (v.kind === 'bytes') {
        expect(after, `${label}: binary graphics cannot be cleaned, so removed`).toBeUndefined();
        return;
      }
      expect(after, `${label}: present (C)`).toBeDefined();
      if (after?.value.kind === 'sequence') checkItemsCleaned(after, label);
      else if (after?.value.kind === 'text') {
        if (before.vr === 'DA') expect(after.value.text, `${label}: shifted`).toMatch(/^\d{8}$/);
        if (before.vr === 'DA') expect(after.value.text, label).not.toBe('20200315');
        expect(after.value.text, `${label}: no identifier`).not.toContain('SYNTHETIC');
      }
      return;
    default:
      throw new Error(`unexpected action ${action}`);
  }
}

/** Inside a kept sequence the table still applies: the Patient's Name there is replaced. */
function checkItemsCleaned(element: DeidElement, label: string): void {
  if (element.value.kind !== 'sequence') return;
  for (const item of element.value.items) {
    const name = item.find((e) => e.tag === 0x00100010);
    if (name?.value.kind === 'text') expect(name.value.text, `${label}: identifier inside sequence`).not.toContain('SYNTHETIC');
  }
}

const CONTAINER = 0x52009229; // Shared Functional Groups Sequence: not in Table E.1-1, so kept and recursed into.

function run(dataset: DeidDataset, options: ReadonlySet<ProfileOption>): DeidDataset {
  return deidentifyDataset(dataset, { profile: { name: 'basic', options }, digest }).dataset;
}

describe.skipIf(!hasTable)('PS3.15 Table E.1-1, every attribute (needs ../shared/data/dicom-standard)', () => {
  it('has the Standard’s 621 rows, and the container sequence is not one of them', () => {
    expect(rows.length).toBe(621);
    expect(findProfileAttribute(CONTAINER)).toBeUndefined();
  });

  const cases: [string, Row, ProfileOption | undefined][] = [];
  for (const row of rows) {
    cases.push([`${row.tag} ${row.name} basic`, row, undefined]);
    for (const [column, option] of Object.entries(COLUMN)) if (row[column] !== undefined) cases.push([`${row.tag} ${row.name} ${option}`, row, option]);
  }

  it.each(cases)('%s', (_label, row, option) => {
    const tag = concreteTag(row.tag);
    const element = elementFor(tag);
    const creator: DeidElement[] = tag === 0x00091010 ? [{ tag: 0x00090010, vr: 'LO', value: { kind: 'text', text: 'ACME' } }] : [];
    const options = new Set<ProfileOption>(option === undefined ? [] : [option]);
    // retain-longitudinal-modified-dates needs a patient to key the offset on.
    // The patient's name is also in the dataset: cleaned text must not keep an identifier the dataset names.
    const patient: DeidElement[] = [
      { tag: 0x00100010, vr: 'PN', value: { kind: 'text', text: IDENTIFIER } },
      { tag: 0x00100020, vr: 'LO', value: { kind: 'text', text: 'SYNTH-PID-0001' } },
    ];
    const patientElements = patient.filter((e) => e.tag !== tag);
    let action = expectedAction(row, option);
    // Vigil's documented choices for C where cleaning cannot be done in place: an overlay (60xx) is removed whole
    // (its bitmap cannot be cleaned of text, so its comments go with it), and a private attribute not on the
    // safe-private list is removed (the list is tested below).
    if (action === 'C' && (tag >>> 16 === 0x6000 || tag === 0x00091010)) action = 'X';

    const top = run(
      [...creator, element, ...patientElements].sort((a, b) => a.tag - b.tag),
      options,
    );
    check(
      action,
      element,
      top.find((e) => e.tag === tag),
      `${row.tag} top level`,
    );

    const nested = run([...patientElements, { tag: CONTAINER, vr: 'SQ', value: { kind: 'sequence', items: [[...creator, element]] } }], options);
    const container = nested.find((e) => e.tag === CONTAINER);
    const item = container?.value.kind === 'sequence' ? container.value.items[0] : undefined;
    expect(item, 'the container item survives').toBeDefined();
    check(
      action,
      element,
      item?.find((e) => e.tag === tag),
      `${row.tag} in a sequence`,
    );
  });

  it('keeps a private attribute on the safe list under Retain Safe Private, removes it otherwise', () => {
    const dataset: DeidDataset = [
      { tag: 0x00190010, vr: 'LO', value: { kind: 'text', text: 'SIEMENS MR HEADER' } },
      { tag: 0x0019100c, vr: 'IS', value: { kind: 'text', text: '1000' } },
      { tag: 0x00191010, vr: 'LO', value: { kind: 'text', text: IDENTIFIER } },
    ];
    const kept = run(dataset, new Set(['retain-safe-private']));
    expect(kept.map((e) => e.tag)).toEqual(expect.arrayContaining([0x00190010, 0x0019100c]));
    expect(kept.some((e) => e.tag === 0x00191010)).toBe(false);
    expect(run(dataset, new Set()).some((e) => e.tag >>> 16 === 0x0019)).toBe(false);
  });
});

describe.skipIf(!hasTable)('the generated table (needs ../shared/data/dicom-standard)', () => {
  it('is what scripts/generate-deid-table.mjs produces from the Standard (integrity check)', () => {
    const out = execFileSync(process.execPath, ['scripts/generate-deid-table.mjs', '--check', TABLE_JSON], { cwd: REPO_ROOT, encoding: 'utf8' });
    expect(out).toContain('621 rows, up to date');
  });
});
