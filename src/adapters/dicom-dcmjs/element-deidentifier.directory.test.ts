/**
 * Identifiers outside the attributes Table E.1-1 names: a DICOMDIR (Basic Directory IOD: records naming
 * every patient, Referenced File IDs made of their IDs, byte offsets) is refused with a code, never
 * "de-identified"; Directory Structuring Elements (group 0004) left in any other object are removed; an
 * object without a SOP Instance UID gets a name of its own, not one shared by every such object.
 * Built in code with SYNTHETIC identifiers only.
 */
import { createHmac } from 'node:crypto';
import { DEFAULT_INFLATE_LIMITS } from './internal/part10.js';
import { describe, expect, it } from 'vitest';
import { DEID_TAG, textOf } from '../../domain/deidentification/deid-dataset.js';
import { remapUid } from '../../domain/deidentification/keyed-pseudonyms.js';
import { ElementDeidentifier } from './element-deidentifier.js';
import { parseForDeid } from './internal/deid-codec.js';
import { EXPLICIT_LE, buildPart10, concat, el, encodeDataset, encodeElement, imageDataset, sampleBytes, type ElementSpec } from './internal/test-builders.js';

const digest = (purpose: string, value: string): Uint8Array => createHmac('sha256', 'directory-secret').update(`${purpose}\0${value}`).digest();
const request = { profile: { name: 'basic' as const, options: new Set<never>() }, digest, pixelRules: [] };
const deidentifier = new ElementDeidentifier();
const EXPLICIT = '1.2.840.10008.1.2.1';
const CT_IMAGE = '1.2.840.10008.5.1.4.1.1.2';
/** A media writer's folder named after the Patient ID, as in the field report. */
const FILE_ID = 'SYNTHPID\\IM000001';

function meta(sopClassUid: string, sopInstanceUid: string | undefined): Uint8Array {
  const elements = encodeDataset(
    [
      el(0x00020001, 'OB', new Uint8Array([0, 1])),
      el(0x00020002, 'UI', sopClassUid),
      ...(sopInstanceUid === undefined ? [] : [el(0x00020003, 'UI', sopInstanceUid)]),
      el(0x00020010, 'UI', EXPLICIT),
      el(0x00020012, 'UI', '1.2.826.0.1.3680043.10.543.99'),
    ],
    EXPLICIT_LE,
  );
  return concat([encodeElement(el(0x00020000, 'UL', [elements.length]), EXPLICIT_LE), elements]);
}

/** PS3.3 F.3: a file-set directory with one PATIENT and one IMAGE record (offsets as a writer leaves them). */
function directoryDataset(): ElementSpec[] {
  const patient: ElementSpec[] = [
    el(0x00041400, 'UL', [0]),
    el(0x00041410, 'US', [0xffff]),
    el(0x00041420, 'UL', [300]),
    el(0x00041430, 'CS', 'PATIENT'),
    el(0x00100010, 'PN', 'SYNTHETIC^PATIENT'),
    el(0x00100020, 'LO', 'SYNTHPID'),
  ];
  const image: ElementSpec[] = [
    el(0x00041400, 'UL', [0]),
    el(0x00041410, 'US', [0xffff]),
    el(0x00041420, 'UL', [0]),
    el(0x00041430, 'CS', 'IMAGE'),
    el(0x00041500, 'CS', FILE_ID),
    el(0x00041510, 'UI', CT_IMAGE),
    el(0x00041511, 'UI', '1.2.826.0.1.3680043.10.543.1.2.3'),
    el(0x00041512, 'UI', EXPLICIT),
    el(0x00200013, 'IS', '1'),
  ];
  return [
    el(0x00041130, 'CS', 'SYNTHPID'),
    el(0x00041200, 'UL', [150]),
    el(0x00041202, 'UL', [150]),
    el(0x00041212, 'US', [0]),
    el(0x00041220, 'SQ', [patient, image]),
  ];
}

function ctImage(extra: ElementSpec[], sopInstanceUid?: string): ElementSpec[] {
  const base = imageDataset({ rows: 2, columns: 2, bitsAllocated: 16, modality: 'CT', pixelData: el(0x7fe00010, 'OW', sampleBytes([1, 2, 3, 4], 16)) });
  const tags = new Set(extra.map((e) => e.tag));
  return [
    ...base
      .filter((e) => !tags.has(e.tag) && (e.tag !== DEID_TAG.SOPInstanceUID || sopInstanceUid !== ''))
      .map((e) =>
        e.tag === DEID_TAG.SOPClassUID ? el(e.tag, 'UI', CT_IMAGE) : e.tag === DEID_TAG.SOPInstanceUID && sopInstanceUid ? el(e.tag, 'UI', sopInstanceUid) : e,
      ),
    ...extra,
  ].sort((a, b) => a.tag - b.tag);
}

const latin1 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('latin1');

describe('ElementDeidentifier and DICOMDIR', () => {
  it('refuses a DICOMDIR (Media Storage Directory Storage) with DEID_DICOMDIR_UNSUPPORTED', async () => {
    const file = buildPart10(directoryDataset(), { transferSyntaxUid: EXPLICIT, meta: meta('1.2.840.10008.1.3.10', '1.2.826.0.1.3680043.10.543.77') });
    await expect(deidentifier.deidentify(file, request)).rejects.toMatchObject({ code: 'DEID_DICOMDIR_UNSUPPORTED' });
    // Whatever the message says, it names no patient and no file.
    await expect(deidentifier.deidentify(file, request)).rejects.not.toThrow(/SYNTHPID|SYNTHETIC/);
  });

  it('refuses a directory dataset whose File Meta is missing or says otherwise', async () => {
    const disguised = buildPart10(directoryDataset(), { transferSyntaxUid: EXPLICIT, meta: meta(CT_IMAGE, '1.2.826.0.1.3680043.10.543.78') });
    await expect(deidentifier.deidentify(disguised, request)).rejects.toMatchObject({ code: 'DEID_DICOMDIR_UNSUPPORTED' });
    // Without any meta group (it then starts with group 0004), it is not even taken for DICOM: nothing is made of it.
    const bare = encodeDataset(directoryDataset(), { explicitVR: false, littleEndian: true });
    await expect(deidentifier.deidentify(bare, request)).rejects.toMatchObject({
      code: expect.stringMatching(/^(DEID_DICOMDIR_UNSUPPORTED|DICOM_PARSE_FAILED)$/) as unknown,
    });
  });

  it('removes Directory Structuring Elements (group 0004) from any other object, at any depth', async () => {
    const item: ElementSpec[] = [el(0x00041500, 'CS', FILE_ID), el(0x00081150, 'UI', CT_IMAGE), el(0x00081155, 'UI', '1.2.826.0.1.3680043.10.543.9')];
    const file = buildPart10(ctImage([el(0x00041130, 'CS', 'SYNTHPID'), el(0x00041500, 'CS', FILE_ID), el(0x00081140, 'SQ', [item])]), {
      transferSyntaxUid: EXPLICIT,
      meta: meta(CT_IMAGE, '1.2.826.0.1.3680043.10.543.1.2.3'),
    });
    const outcome = await deidentifier.deidentify(file, request);
    if (outcome.status !== 'deidentified') throw new Error('expected deidentified');
    expect(latin1(outcome.bytes)).not.toContain('SYNTHPID');
    const { dataset } = await parseForDeid(outcome.bytes, DEFAULT_INFLATE_LIMITS);
    const tags = (ds: typeof dataset): number[] => ds.flatMap((e) => [e.tag, ...(e.value.kind === 'sequence' ? e.value.items.flatMap(tags) : [])]);
    expect(tags(dataset).filter((t) => t >>> 16 === 0x0004)).toEqual([]);
    // The reference itself survives, remapped.
    expect(tags(dataset)).toContain(0x00081155);
  });
});

describe('ElementDeidentifier without a SOP Instance UID', () => {
  it("names the output by the File Meta's Media Storage SOP Instance UID, remapped", async () => {
    const file = buildPart10(ctImage([], ''), { transferSyntaxUid: EXPLICIT, meta: meta(CT_IMAGE, '1.2.826.0.1.3680043.10.543.55') });
    const outcome = await deidentifier.deidentify(file, request);
    expect(outcome.sopInstanceUid).toBe(remapUid(digest, '1.2.826.0.1.3680043.10.543.55'));
  });

  it('without either, names it by its content: identical inputs share the name, different ones do not', async () => {
    const build = (description: string): Uint8Array =>
      buildPart10(ctImage([el(0x0008103e, 'LO', description)], ''), { transferSyntaxUid: EXPLICIT, meta: meta(CT_IMAGE, undefined) });
    const a = await deidentifier.deidentify(build('SERIES A'), request);
    const again = await deidentifier.deidentify(build('SERIES A'), request);
    const b = await deidentifier.deidentify(build('SERIES B'), request);
    expect(a.sopInstanceUid).toMatch(/^2\.25\.\d+$/);
    expect(again.sopInstanceUid).toBe(a.sopInstanceUid);
    expect(b.sopInstanceUid).not.toBe(a.sopInstanceUid);
    if (a.status !== 'deidentified') throw new Error('expected deidentified');
    expect(textOf((await parseForDeid(a.bytes, DEFAULT_INFLATE_LIMITS)).meta, 0x00020003)).toBe(a.sopInstanceUid);
  });
});
