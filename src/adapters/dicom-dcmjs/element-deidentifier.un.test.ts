/**
 * De-identification of values sent with VR UN (field findings I, item 2): a sequence or a value written as UN
 * (as toolkits write unknown or private sequences, and as some implicit→explicit conversions do) is decoded
 * with the VR the data dictionary gives its tag (PS3.5 6.2.2: a UN value is Implicit VR Little Endian, a
 * sequence possibly of undefined length) and then de-identified like the same content written with its real
 * VR; what cannot be inspected is removed. Each case here leaked or was mangled before the fix.
 */
import { createHmac } from 'node:crypto';
import { DEFAULT_INFLATE_LIMITS } from './internal/part10.js';
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEID_TAG, textOf, type DeidDataset, type DeidElement } from '../../domain/deidentification/deid-dataset.js';
import { remapUid } from '../../domain/deidentification/keyed-pseudonyms.js';
import type { ProfileOption } from '../../domain/deidentification/profile-attribute.js';
import { DcmjsDicomReader } from './dcmjs-dicom-reader.js';
import { ElementDeidentifier } from './element-deidentifier.js';
import { parseForDeid } from './internal/deid-codec.js';
import { buildPart10, el, fragmentsValue, imageDataset, implicitItems, sampleBytes, unSequence, type ElementSpec } from './internal/test-builders.js';

const digest = (purpose: string, value: string): Uint8Array => createHmac('sha256', 'un-test-secret').update(`${purpose}\0${value}`).digest();
const deidentifier = new ElementDeidentifier();
const reader = new DcmjsDicomReader();

const EXPLICIT_LE_UID = '1.2.840.10008.1.2.1';
const BIG_ENDIAN_UID = '1.2.840.10008.1.2.2';
const DEFLATED_UID = '1.2.840.10008.1.2.1.99';
const RLE_UID = '1.2.840.10008.1.2.5';
/** Syntaxes that carry explicit VRs, so a sender can write UN (in Implicit VR every VR comes from the dictionary). */
const EXPLICIT_SYNTAXES = [EXPLICIT_LE_UID, BIG_ENDIAN_UID, DEFLATED_UID, RLE_UID] as const;

const RT_DOSE = '1.2.840.10008.5.1.4.1.1.481.2';
const RT_PLAN = '1.2.840.10008.5.1.4.1.1.481.5';
const CT_IMAGE = '1.2.840.10008.5.1.4.1.1.2';
const PLAN_UID = '1.2.826.0.1.3680043.10.543.77.1';
const IMAGE_UID = '1.2.826.0.1.3680043.10.543.77.2';
const SOURCE_UID = '1.2.826.0.1.3680043.10.543.77.3';
const SERIES_UID = '1.2.826.0.1.3680043.10.543.77.4';
const CONTENT_UID = '1.2.826.0.1.3680043.10.543.77.5';
const OPERATOR = 'QZOPERATOR^SYNTHETIC';
const OBSERVER = 'QZOBSERVER^SYNTHETIC';
const UNKNOWN_TEXT = 'QZUNKNOWN SYNTHETIC';
/** Public tags the data dictionary does not know: nothing tells what their bytes are. */
const UNKNOWN_PUBLIC_TAG = 0x00181234;

async function deid(bytes: Uint8Array, options: ReadonlySet<ProfileOption> = new Set()): Promise<{ bytes: Uint8Array; removed: number }> {
  const outcome = await deidentifier.deidentify(bytes, { profile: { name: 'basic', options }, digest, pixelRules: [] });
  if (outcome.status !== 'deidentified') throw new Error(`unexpected ${outcome.status}`);
  return { bytes: outcome.bytes, removed: outcome.counts.removed };
}

/** An RT Dose-like image (native pixels, or fake RLE fragments: the de-identifier never decodes them). */
function file(extra: readonly ElementSpec[], transferSyntaxUid: string, sopClassUid = RT_DOSE): Uint8Array {
  const pixelData =
    transferSyntaxUid === RLE_UID
      ? el(0x7fe00010, 'OB', fragmentsValue([new Uint8Array([1, 2, 3, 4])]), { undefinedLength: true })
      : el(0x7fe00010, 'OW', sampleBytes([1, 2, 3, 4], 16, transferSyntaxUid !== BIG_ENDIAN_UID));
  const tags = new Set(extra.map((e) => e.tag));
  const base = imageDataset({ rows: 2, columns: 2, bitsAllocated: 16, modality: 'RTDOSE', pixelData })
    .filter((e) => !tags.has(e.tag))
    .map((e) => (e.tag === 0x00080016 ? el(0x00080016, 'UI', sopClassUid) : e));
  return buildPart10(
    [...base, ...extra].sort((a, b) => a.tag - b.tag),
    { transferSyntaxUid },
  );
}

const latin1 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('latin1');

function expectAbsent(out: Uint8Array, values: readonly string[]): void {
  const text = latin1(out);
  for (const value of values) expect(text.includes(value), value).toBe(false);
}

function element(dataset: DeidDataset, ...path: number[]): DeidElement | undefined {
  let current: DeidDataset | undefined = dataset;
  let found: DeidElement | undefined;
  for (let i = 0; i < path.length; i += 2) {
    found = current?.find((e) => e.tag === path[i]);
    const index = path[i + 1];
    if (index === undefined) return found;
    current = found?.value.kind === 'sequence' ? found.value.items[index] : undefined;
  }
  return found;
}

const planItem = (): ElementSpec[] => [
  el(0x00081070, 'PN', OPERATOR), // Operators' Name: X/Z/D
  el(0x00081150, 'UI', RT_PLAN),
  el(0x00081155, 'UI', PLAN_UID),
  el(0x300c0020, 'SQ', [[el(0x300c0022, 'IS', '1')]]), // Referenced Fraction Group Sequence, inside the implicit items
];
const imageItem = (uid: string): ElementSpec[] => [el(0x00081150, 'UI', CT_IMAGE), el(0x00081155, 'UI', uid)];
const contentItem = (): ElementSpec[] => [
  el(0x0040a010, 'CS', 'CONTAINS'),
  el(0x0040a040, 'CS', 'PNAME'),
  el(0x0040a123, 'PN', OBSERVER), // Person Name: D
  el(0x0040a124, 'UI', CONTENT_UID), // UID: U
];

describe.each(EXPLICIT_SYNTAXES)('a sequence sent as UN is de-identified like the same sequence sent as SQ (%s)', (syntax) => {
  const cases: readonly { name: string; tag: number; items: () => ElementSpec[][]; planted: readonly string[]; sopClassUid?: string }[] = [
    { name: 'RT Dose: Referenced RT Plan Sequence', tag: 0x300c0002, items: () => [planItem()], planted: [PLAN_UID, OPERATOR] },
    { name: 'Referenced Image Sequence', tag: 0x00081140, items: () => [imageItem(IMAGE_UID)], planted: [IMAGE_UID], sopClassUid: CT_IMAGE },
    { name: 'Source Image Sequence', tag: 0x00082112, items: () => [imageItem(SOURCE_UID)], planted: [SOURCE_UID], sopClassUid: CT_IMAGE },
    { name: 'Content Sequence', tag: 0x0040a730, items: () => [contentItem()], planted: [OBSERVER, CONTENT_UID] },
  ];
  for (const c of cases) {
    for (const undefinedLength of [false, true]) {
      it(`${c.name}${undefinedLength ? ', undefined length' : ''}`, async () => {
        const asSq = await deid(file([el(c.tag, 'SQ', c.items(), { undefinedLength })], syntax, c.sopClassUid));
        const asUn = await deid(file([unSequence(c.tag, c.items(), { undefinedLength })], syntax, c.sopClassUid));
        expectAbsent(asUn.bytes, c.planted);
        // Written back as a normal SQ in the file's syntax: the whole output is the one the SQ input gives.
        expect(Buffer.from(asUn.bytes).equals(Buffer.from(asSq.bytes))).toBe(true);
      });
    }
  }

  it('RT Dose: the plan reference survives as the remapped UID, the operator as a dummy', async () => {
    const out = await parseForDeid((await deid(file([unSequence(0x300c0002, [planItem()])], syntax))).bytes, DEFAULT_INFLATE_LIMITS);
    const sequence = element(out.dataset, 0x300c0002);
    expect(sequence?.vr).toBe('SQ');
    const item = sequence?.value.kind === 'sequence' ? sequence.value.items[0] : undefined;
    expect(item && textOf(item, 0x00081155)).toBe(remapUid(digest, PLAN_UID));
    expect(item && textOf(item, 0x00081150)).toBe(RT_PLAN);
    expect(item && textOf(item, 0x00081070)).not.toContain('QZOPERATOR');
    expect(element(out.dataset, 0x300c0002, 0, 0x300c0020, 0, 0x300c0022)?.value).toEqual({ kind: 'text', text: '1 ' });
  });

  it('nested UN inside UN inside SQ, implicit-VR items, undefined and defined lengths mixed', async () => {
    // SQ (Referenced Series) > item > UN (Referenced Instance, undefined length) > implicit item >
    // Referenced RT Plan (a sequence known only from the dictionary) > item > plan UID and operator;
    // and a UN (Referenced Series) at the top whose implicit item holds a UN-looking nested sequence.
    const inner = implicitItems([planItem()]);
    const deep = unSequence(0x0008114a, [[el(0x300c0002, 'UN', inner)]], { undefinedLength: true });
    const extra = [
      el(0x00081115, 'SQ', [[deep, el(0x0020000e, 'UI', SERIES_UID)]]),
      unSequence(0x0040a730, [
        [
          ...contentItem(),
          unSequence(0x0040a730, [[el(0x00081199, 'UN', implicitItems([imageItem(IMAGE_UID)], true), { undefinedLength: true }), ...contentItem()]]),
        ],
      ]),
    ];
    const out = await deid(file(extra, syntax));
    expectAbsent(out.bytes, [SERIES_UID, PLAN_UID, OPERATOR, OBSERVER, CONTENT_UID, IMAGE_UID]);
    const parsed = await parseForDeid(out.bytes, DEFAULT_INFLATE_LIMITS);
    const plan = element(parsed.dataset, 0x00081115, 0, 0x0008114a, 0, 0x300c0002, 0, 0x00081155);
    expect(plan?.value).toEqual({ kind: 'text', text: remapUid(digest, PLAN_UID) });
    expect(element(parsed.dataset, 0x00081115, 0, 0x0008114a)?.vr).toBe('SQ');
    expect(element(parsed.dataset, 0x0040a730, 0, 0x0040a730, 0, 0x00081199, 0, 0x00081155)?.value).toEqual({
      kind: 'text',
      text: remapUid(digest, IMAGE_UID),
    });
  });

  it('a UN the dictionary does not know, or that does not parse as its dictionary VR, is removed, never passed through', async () => {
    const garbage = new TextEncoder().encode(`${UNKNOWN_TEXT} `);
    const extra = [
      el(UNKNOWN_PUBLIC_TAG, 'UN', garbage), // not in the dictionary: cannot be inspected
      el(0x300c0002, 'UN', garbage), // a sequence by the dictionary, but no items
      el(0x00189938, 'UN', new Uint8Array([1, 2, 3])), // US by the dictionary, odd length
      el(0x00081115, 'SQ', [[el(UNKNOWN_PUBLIC_TAG, 'UN', garbage)]]),
      el(0x00081199, 'OB', implicitItems([imageItem(IMAGE_UID)])), // a sequence sent as OB: not inspectable
    ];
    const before = await deid(file([], syntax));
    const out = await deid(file(extra, syntax));
    expectAbsent(out.bytes, [UNKNOWN_TEXT, IMAGE_UID]);
    expect(out.removed - before.removed).toBe(5);
    const parsed = await parseForDeid(out.bytes, DEFAULT_INFLATE_LIMITS);
    for (const tag of [UNKNOWN_PUBLIC_TAG, 0x300c0002, 0x00189938, 0x00081199]) expect(element(parsed.dataset, tag), tag.toString(16)).toBeUndefined();
    expect(element(parsed.dataset, 0x00081115, 0, UNKNOWN_PUBLIC_TAG)).toBeUndefined();
  });

  it('a binary value sent as UN is written back with its VR, in the syntax byte order', async () => {
    const out = await deid(file([el(0x00189938, 'UN', Uint8Array.of(0x34, 0x12, 0x78, 0x56))], syntax));
    const reference = await deid(file([el(0x00189938, 'US', [0x1234, 0x5678])], syntax));
    expect(Buffer.from(out.bytes).equals(Buffer.from(reference.bytes))).toBe(true);
  });

  it('a value too long for its 16-bit length field is written as UN (PS3.5 6.2.2, CP-1066), byte order kept', async () => {
    const words = Array.from({ length: 40_000 }, (_, i) => i & 0xffff);
    const le = sampleBytes(words, 16, true);
    const out = await parseForDeid((await deid(file([el(0x00189938, 'UN', le)], syntax))).bytes, DEFAULT_INFLATE_LIMITS);
    // Read back as US (the dictionary's VR) in the file's byte order, so the same numbers.
    const back = element(out.dataset, 0x00189938);
    expect(back?.vr).toBe('US');
    const bytes = back?.value.kind === 'bytes' ? back.value.bytes : new Uint8Array();
    expect(Buffer.from(bytes).equals(Buffer.from(sampleBytes(words, 16, syntax !== BIG_ENDIAN_UID)))).toBe(true);
  });
});

/** A real file written as an implicit→explicit conversion writes them: every element UN (pydicom's test data, MIT). */
const PYDICOM_RTDOSE = '/usr/lib/python3/dist-packages/pydicom/data/test_files/rtdose_rle.dcm';
const hasRtDose = existsSync(PYDICOM_RTDOSE);

describe.skipIf(!hasRtDose)(`a real RT Dose whose elements are all UN${hasRtDose ? '' : ' (skipped: python3-pydicom test files not installed)'}`, () => {
  it("loses its plan reference's UID (it was copied byte for byte) and comes out with normal VRs", async () => {
    const input = new Uint8Array(readFileSync(PYDICOM_RTDOSE));
    const planUid = '1.2.123.456.78.9.0123.4567.89012345678901';
    expect(latin1(input).includes(planUid)).toBe(true);
    const out = await deid(input);
    expectAbsent(out.bytes, [planUid, '1.9.999.999.99.9.9999.9999.20030818153516']);
    const parsed = await parseForDeid(out.bytes, DEFAULT_INFLATE_LIMITS);
    const plan = element(parsed.dataset, 0x300c0002);
    expect(plan?.vr).toBe('SQ');
    expect(element(parsed.dataset, 0x300c0002, 0, 0x00081155)?.value).toEqual({ kind: 'text', text: remapUid(digest, planUid) });
  });
});

describe('private values sent as UN', () => {
  const creator = (vr: string): ElementSpec => el(0x00190010, vr, 'SIEMENS MR HEADER');
  const keep = new Set<ProfileOption>(['retain-safe-private']);

  it.each(EXPLICIT_SYNTAXES)('are removed by the Basic Profile, kept under Retain Safe Private only when they parse as the listed VR (%s)', async (syntax) => {
    const direction = sampleBytes([0, 0, 0, 0, 0, 0], 16);
    const extra: ElementSpec[] = [
      creator('UN'),
      el(0x0019100c, 'UN', '1000'), // B_value, IS: kept
      el(0x0019100d, 'UN', UNKNOWN_TEXT), // DiffusionDirectionality, CS: lower case and too long, removed
      el(0x0019100e, 'UN', direction.subarray(0, 23)), // DiffusionGradientDirection, FD: not a multiple of 8, removed
      el(0x00191027, 'UN', implicitItems([[el(0x00100010, 'PN', OPERATOR)]])), // B_matrix, FD: 36 bytes of items, not a multiple of 8, removed
    ];
    const basic = await deid(file(extra, syntax));
    expect((await parseForDeid(basic.bytes, DEFAULT_INFLATE_LIMITS)).dataset.filter((e) => e.tag >>> 16 === 0x0019)).toEqual([]);
    const kept = (await parseForDeid((await deid(file(extra, syntax), keep)).bytes, DEFAULT_INFLATE_LIMITS)).dataset.filter((e) => e.tag >>> 16 === 0x0019);
    expect(kept.map((e) => e.tag.toString(16))).toEqual(['190010', '19100c']);
    expectAbsent((await deid(file(extra, syntax), keep)).bytes, [UNKNOWN_TEXT, OPERATOR]);
  });

  it('a private sequence sent as UN is removed even when its tag is on the safe list', async () => {
    const extra = [creator('LO'), el(0x0019100c, 'UN', implicitItems([[el(0x00100010, 'PN', OPERATOR)]], true), { undefinedLength: true })];
    const out = await deid(file(extra, EXPLICIT_LE_UID), keep);
    expectAbsent(out.bytes, [OPERATOR]);
    expect((await parseForDeid(out.bytes, DEFAULT_INFLATE_LIMITS)).dataset.some((e) => e.tag >>> 16 === 0x0019)).toBe(false);
  });
});

describe('Implicit VR Little Endian files', () => {
  it('remove a public element the dictionary does not know (its VR, hence its content, is unknown)', async () => {
    const extra = [el(UNKNOWN_PUBLIC_TAG, 'LO', UNKNOWN_TEXT), el(0x00081115, 'SQ', [[el(UNKNOWN_PUBLIC_TAG, 'LO', UNKNOWN_TEXT)]])];
    const out = await deid(file(extra, '1.2.840.10008.1.2'));
    expectAbsent(out.bytes, [UNKNOWN_TEXT]);
  });

  it('read a defined-length sequence known only from the dictionary, nested in implicit items', async () => {
    const out = await deid(file([el(0x00081115, 'SQ', [[el(0x300c0002, 'SQ', [planItem()])]])], '1.2.840.10008.1.2'));
    expectAbsent(out.bytes, [PLAN_UID, OPERATOR]);
    const parsed = await parseForDeid(out.bytes, DEFAULT_INFLATE_LIMITS);
    expect(element(parsed.dataset, 0x00081115, 0, 0x300c0002, 0, 0x00081155)?.value).toEqual({ kind: 'text', text: remapUid(digest, PLAN_UID) });
  });
});

describe('the reader', () => {
  it('follows functional groups sent as UN (the scanner records their implicit items)', async () => {
    const pixels = sampleBytes([10, 20, 30, 40], 16);
    const groups = unSequence(0x52009229, [[unSequence(0x00289145, [[el(0x00281052, 'DS', '-1024'), el(0x00281053, 'DS', '2')]])]]);
    const bytes = buildPart10(
      imageDataset({ rows: 2, columns: 2, bitsAllocated: 16, modality: 'CT', pixelData: el(0x7fe00010, 'OW', pixels), extra: [groups] }).map((e) =>
        e.tag === 0x00080016 ? el(0x00080016, 'UI', CT_IMAGE) : e,
      ),
      { transferSyntaxUid: EXPLICIT_LE_UID },
    );
    const instance = await reader.readInstance(bytes);
    expect(instance.attributes.rescaleSlope).toBe(2);
    expect(instance.attributes.rescaleIntercept).toBe(-1024);
    // And after de-identification, the groups are a normal SQ.
    const out = await parseForDeid((await deid(bytes)).bytes, DEFAULT_INFLATE_LIMITS);
    expect(element(out.dataset, 0x52009229)?.vr).toBe('SQ');
    expect(element(out.dataset, 0x52009229, 0, 0x00289145)?.vr).toBe('SQ');
    expect(textOf(out.dataset, DEID_TAG.PatientIdentityRemoved)).toBe('YES');
  });
});
