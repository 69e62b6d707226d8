/**
 * Properties of de-identification on synthetic Part 10 files (built in code, SYNTHETIC identifiers only):
 * - twice equals once: deid(deid(x)) is byte-identical to deid(x) with the same secret and options. Every
 *   replacement is keyed and carries a keyed check, so a value this site already replaced is recognised and
 *   kept; dates already shifted by this site (Patient Identity Removed YES + our key fingerprint) are not
 *   shifted again. (With a different secret the second run would remap again: that is by design.)
 * - no value of an attribute marked X, Z, D or U survives anywhere in the output bytes;
 * - UID referential integrity across a study: shared Study/Series UIDs map to one value each, and Referenced
 *   SOP Instance UIDs inside sequences map to the referenced instance's new SOP Instance UID;
 * - every output parses again with Vigil's reader and decodes to the same pixels.
 */
import { createHmac } from 'node:crypto';
import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import { DEID_TAG, textOf } from '../../domain/deidentification/deid-dataset.js';
import { CONFIDENTIALITY_PROFILE_ATTRIBUTES } from '../../domain/deidentification/confidentiality-profile-table.js';
import type { ProfileOption } from '../../domain/deidentification/profile-attribute.js';
import { resolveBasic } from '../../domain/deidentification/resolve-action.js';
import { DcmjsDicomReader } from './dcmjs-dicom-reader.js';
import { ElementDeidentifier } from './element-deidentifier.js';
import { parseForDeid } from './internal/deid-codec.js';
import { DEFAULT_INFLATE_LIMITS } from './internal/part10.js';
import { dictionaryVr } from './internal/dictionary.js';
import { buildPart10, el, imageDataset, sampleBytes, type ElementSpec } from './internal/test-builders.js';

const digest = (purpose: string, value: string): Uint8Array => createHmac('sha256', 'property-secret').update(`${purpose}\0${value}`).digest();
const deidentifier = new ElementDeidentifier();
const reader = new DcmjsDicomReader();
const SYNTAXES = ['1.2.840.10008.1.2', '1.2.840.10008.1.2.1', '1.2.840.10008.1.2.2', '1.2.840.10008.1.2.1.99'] as const;
const CT_IMAGE = '1.2.840.10008.5.1.4.1.1.2';

/** Table attributes with a simple string VR that the builder can write, and a value of the right shape. */
const TEXT_ATTRIBUTES = CONFIDENTIALITY_PROFILE_ATTRIBUTES.filter((a) => /^[0-9a-f]{8}$/.test(a.tag) && !a.tag.startsWith('0002') && !a.tag.startsWith('0000'))
  .map((a) => ({ attribute: a, tag: parseInt(a.tag, 16), vr: dictionaryVr(parseInt(a.tag, 16)) }))
  .filter((a): a is { attribute: (typeof CONFIDENTIALITY_PROFILE_ATTRIBUTES)[number]; tag: number; vr: string } =>
    ['LO', 'SH', 'PN', 'LT', 'ST', 'UT', 'DA', 'DT', 'TM', 'UI', 'CS', 'AE'].includes(a.vr ?? ''),
  )
  .filter((a) => ![0x00080016, 0x00080018, 0x0020000d, 0x0020000e, 0x00100010, 0x00100020, 0x00080060].includes(a.tag));

function valueFor(vr: string, n: number): string {
  const id = String(100000 + n);
  switch (vr) {
    case 'DA':
      return `19${String(10 + (n % 80)).padStart(2, '0')}0${1 + (n % 9)}1${n % 10}`;
    case 'DT':
      return `19${String(10 + (n % 80)).padStart(2, '0')}0${1 + (n % 9)}1${n % 10}123456`;
    case 'TM':
      return `1${n % 10}3000`;
    case 'UI':
      return `1.2.826.0.1.3680043.10.543.${id}`;
    case 'CS':
    case 'AE':
      return `QZ${id}`;
    case 'PN':
      return `QZ${id}^SYNTHETIC`;
    default:
      return `QZ${id} SYNTHETIC`;
  }
}

function image(extra: ElementSpec[], ids: { study: string; series: string; sop: string }): ElementSpec[] {
  const base = imageDataset({
    rows: 4,
    columns: 4,
    bitsAllocated: 16,
    modality: 'CT',
    pixelData: el(0x7fe00010, 'OW', sampleBytes([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16], 16)),
  });
  const replaced = new Map<number, ElementSpec>([
    [0x00080016, el(0x00080016, 'UI', CT_IMAGE)],
    [0x00080018, el(0x00080018, 'UI', ids.sop)],
    [0x0020000d, el(0x0020000d, 'UI', ids.study)],
    [0x0020000e, el(0x0020000e, 'UI', ids.series)],
  ]);
  const tags = new Set(extra.map((e) => e.tag));
  return [...base.filter((e) => !tags.has(e.tag)).map((e) => replaced.get(e.tag) ?? e), ...extra].sort((a, b) => a.tag - b.tag);
}

const optionsArbitrary = fc
  .subarray([
    'retain-device-identity',
    'retain-longitudinal-modified-dates',
    'retain-uids',
    'clean-descriptors',
    'retain-institution-identity',
    'retain-patient-characteristics',
  ] as ProfileOption[])
  .map((o) => new Set<ProfileOption>(o));

const datasetArbitrary = fc.record({
  picks: fc.uniqueArray(fc.integer({ min: 0, max: TEXT_ATTRIBUTES.length - 1 }), { minLength: 1, maxLength: 25 }),
  nested: fc.uniqueArray(fc.integer({ min: 0, max: TEXT_ATTRIBUTES.length - 1 }), { maxLength: 6 }),
  privateText: fc.boolean(),
  syntax: fc.constantFrom(...SYNTAXES),
  undefinedLength: fc.boolean(),
});

interface DatasetSpec {
  readonly picks: readonly number[];
  readonly nested: readonly number[];
  readonly privateText: boolean;
  readonly syntax: string;
  readonly undefinedLength: boolean;
}

function build(spec: DatasetSpec): {
  bytes: Uint8Array;
  planted: { tag: number; value: string }[];
} {
  const planted: { tag: number; value: string }[] = [];
  const spec2 = (index: number, n: number): ElementSpec => {
    const a = TEXT_ATTRIBUTES[index];
    if (a === undefined) throw new Error('index');
    const value = valueFor(a.vr, n);
    planted.push({ tag: a.tag, value });
    return el(a.tag, a.vr, value);
  };
  const extra = spec.picks.map((i, k) => spec2(i, k));
  const inner = spec.nested.map((i, k) => spec2(i, 50 + k));
  const used = new Set(extra.map((e) => e.tag));
  const all = [...extra];
  if (inner.length > 0 && !used.has(0x52009229))
    all.push(el(0x52009229, 'SQ', [inner.sort((a, b) => a.tag - b.tag)], { undefinedLength: spec.undefinedLength }));
  if (spec.privateText) all.push(el(0x00091010, 'LO', 'QZ999999 SYNTHETIC PRIVATE'), el(0x00090010, 'LO', 'ACME'));
  if (spec.privateText) planted.push({ tag: 0x00091010, value: 'QZ999999 SYNTHETIC PRIVATE' });
  const ids = { study: '1.2.826.0.1.3680043.10.543.1', series: '1.2.826.0.1.3680043.10.543.1.2', sop: '1.2.826.0.1.3680043.10.543.1.2.3' };
  return { bytes: buildPart10(image(all, ids), { transferSyntaxUid: spec.syntax }), planted };
}

async function deid(bytes: Uint8Array, options: ReadonlySet<ProfileOption>): Promise<Uint8Array> {
  const outcome = await deidentifier.deidentify(bytes, { profile: { name: 'basic', options }, digest, pixelRules: [] });
  if (outcome.status !== 'deidentified') throw new Error(`unexpected ${outcome.status}`);
  return outcome.bytes;
}

const latin1 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('latin1');

describe('de-identification properties', () => {
  test.prop([datasetArbitrary, optionsArbitrary], { numRuns: 60 })('twice equals once (same secret, same options)', async (spec, options) => {
    const once = await deid(build(spec).bytes, options);
    const twice = await deid(once, options);
    expect(Buffer.from(twice).equals(Buffer.from(once))).toBe(true);
  });

  test.prop([datasetArbitrary], { numRuns: 60 })('no value of an attribute marked X, Z, D or U survives (Basic Profile)', async (spec) => {
    const { bytes, planted } = build(spec);
    const out = latin1(await deid(bytes, new Set()));
    for (const { tag, value } of planted) {
      const row = CONFIDENTIALITY_PROFILE_ATTRIBUTES.find((a) => parseInt(a.tag, 16) === tag);
      const action = row === undefined ? 'X' : resolveBasic(row.basic);
      if (action === 'K' || action === 'C') continue;
      expect(out.includes(value), `${tag.toString(16)} ${action}`).toBe(false);
    }
  });

  test.prop([datasetArbitrary, optionsArbitrary], { numRuns: 40 })('outputs parse again and keep their pixels', async (spec, options) => {
    const { bytes } = build(spec);
    const out = await deid(bytes, options);
    const [a, b] = [await (await reader.readInstance(bytes)).decodeFrame(0), await (await reader.readInstance(out)).decodeFrame(0)];
    expect([...b.pixels]).toEqual([...a.pixels]);
    expect((await parseForDeid(out, DEFAULT_INFLATE_LIMITS)).dataset.length).toBeGreaterThan(0);
  });

  test.prop([fc.integer({ min: 2, max: 6 }), fc.constantFrom(...SYNTAXES)], { numRuns: 20 })(
    'UID referential integrity across a study, references inside sequences included',
    async (count, syntax) => {
      const study = '1.2.826.0.1.3680043.10.543.7';
      const series = `${study}.1`;
      const sops = Array.from({ length: count }, (_, i) => `${series}.${i + 1}`);
      const outs = [];
      for (let i = 0; i < count; i++) {
        const reference = el(0x00081140, 'SQ', [[el(0x00081150, 'UI', CT_IMAGE), el(0x00081155, 'UI', sops[(i + count - 1) % count] ?? '')]]);
        const bytes = buildPart10(image([reference], { study, series, sop: sops[i] ?? '' }), { transferSyntaxUid: syntax });
        outs.push(await parseForDeid(await deid(bytes, new Set(['retain-device-identity'])), DEFAULT_INFLATE_LIMITS));
      }
      const newStudy = new Set(outs.map((o) => textOf(o.dataset, DEID_TAG.StudyInstanceUID)));
      expect(newStudy.size).toBe(1);
      expect([...newStudy][0]).toMatch(/^2\.25\.\d+$/);
      expect(new Set(outs.map((o) => textOf(o.dataset, 0x0020000e))).size).toBe(1);
      const newSops = outs.map((o) => textOf(o.dataset, DEID_TAG.SOPInstanceUID));
      expect(new Set(newSops).size).toBe(count);
      outs.forEach((o, i) => {
        expect(textOf(o.meta, 0x00020003)).toBe(newSops[i]);
        const ref = o.dataset.find((e) => e.tag === 0x00081140);
        const item = ref?.value.kind === 'sequence' ? ref.value.items[0] : undefined;
        expect(item === undefined ? undefined : textOf(item, 0x00081155)).toBe(newSops[(i + count - 1) % count]);
        expect(item === undefined ? undefined : textOf(item, 0x00081150)).toBe(CT_IMAGE); // a SOP Class UID is not an identifier
      });
    },
  );
});
