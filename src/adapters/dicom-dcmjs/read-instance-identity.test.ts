/**
 * The original identity read from the de-identifier's own parse (`readOriginal`, used at ingest) is the one
 * `readInstanceIdentity` reads from the bytes, and asking for it changes no byte of the de-identified
 * output: on every file in ../shared/data/dicom-samples (skipped, with the reason in the name, without
 * them) and on synthetic files in each encoding and character set.
 */
import { createHmac } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ProfileOption } from '../../domain/deidentification/profile-attribute.js';
import type { InstanceIdentity } from '../../domain/results/result-identity.js';
import { ElementDeidentifier } from './element-deidentifier.js';
import { PlatformError } from '../../domain/errors.js';
import { SYNTHETIC_IDENTIFIERS, buildPart10, deflatedBomb, el, encodeDataset, EXPLICIT_LE, imageDataset } from './internal/test-builders.js';
import { readInstanceIdentity, readSentIdentity } from './read-instance-identity.js';

const sampleDir = resolve(process.env['VIGIL_SAMPLE_DATA'] ?? resolve(import.meta.dirname, '../../../../shared/data'), 'dicom-samples');
const samples = existsSync(sampleDir) ? readdirSync(sampleDir).filter((n) => n.endsWith('.dcm')) : [];

const digest = (purpose: string, value: string): Uint8Array => createHmac('sha256', 'identity-test-secret').update(`${purpose}\0${value}`).digest();
const profile = { name: 'basic' as const, options: new Set<ProfileOption>() };
const deidentifier = new ElementDeidentifier();

async function identityOrUndefined(bytes: Uint8Array): Promise<InstanceIdentity | undefined> {
  try {
    return await readInstanceIdentity(bytes);
  } catch {
    return undefined;
  }
}

async function expectSameAsSeparateRead(bytes: Uint8Array): Promise<void> {
  const plain = await deidentifier.deidentify(bytes, { profile, digest, pixelRules: [], headersOnly: true });
  const withOriginal = await deidentifier.deidentify(bytes, { profile, digest, pixelRules: [], headersOnly: true, readOriginal: true });
  if (plain.status !== 'deidentified' || withOriginal.status !== 'deidentified') throw new Error('expected a de-identified outcome');
  expect(Buffer.from(withOriginal.bytes).equals(Buffer.from(plain.bytes)), 'the same de-identified bytes').toBe(true);
  expect(plain.original).toBeUndefined();
  expect(withOriginal.original).toEqual(await identityOrUndefined(bytes));
}

describe('readOriginal: the identity from the de-identifier’s parse', () => {
  it.skipIf(samples.length === 0)(
    `equals readInstanceIdentity on every sample${samples.length === 0 ? ` (skipped: no samples in ${sampleDir})` : ''}`,
    async () => {
      let read = 0;
      for (const name of samples) {
        const bytes = new Uint8Array(readFileSync(join(sampleDir, name)));
        await expectSameAsSeparateRead(bytes);
        if (identityOrUndefined(bytes) !== undefined) read++;
      }
      expect(read, 'most samples carry a full identity').toBeGreaterThan(samples.length / 2);
    },
  );

  const latin1Name = Uint8Array.from([...'M\xfcller^J\xfcrgen'].map((c) => c.charCodeAt(0)));
  const utf8Name = new TextEncoder().encode('Müller^Jürgen=山田^太郎');
  const cases = [
    { label: 'Explicit VR Little Endian, ISO_IR 100', ts: '1.2.840.10008.1.2.1', charset: 'ISO_IR 100', name: latin1Name },
    { label: 'Implicit VR Little Endian, ISO_IR 100', ts: '1.2.840.10008.1.2', charset: 'ISO_IR 100', name: latin1Name },
    { label: 'Explicit VR Big Endian, ISO_IR 100', ts: '1.2.840.10008.1.2.2', charset: 'ISO_IR 100', name: latin1Name },
    { label: 'Deflated, ISO_IR 192', ts: '1.2.840.10008.1.2.1.99', charset: 'ISO_IR 192', name: utf8Name },
  ];
  for (const c of cases) {
    it(`equals readInstanceIdentity: ${c.label}`, async () => {
      const dataset = imageDataset({
        rows: 2,
        columns: 2,
        bitsAllocated: 8,
        pixelData: el(0x7fe00010, 'OB', new Uint8Array(4)),
        extra: [
          el(0x00080005, 'CS', c.charset),
          el(0x00080020, 'DA', '20260102'),
          el(0x00080050, 'SH', 'ACC-1'),
          el(0x00100030, 'DA', '19700101'),
          el(0x00200010, 'SH', 'S1'),
        ],
      })
        .filter((e) => e.tag !== 0x00100010)
        .concat([el(0x00100010, 'PN', c.name)])
        .sort((a, b) => a.tag - b.tag);
      const bytes = buildPart10(dataset, { transferSyntaxUid: c.ts });
      const identity = await readInstanceIdentity(bytes);
      expect(identity.study.patientName).toBe(c.charset === 'ISO_IR 100' ? 'Müller^Jürgen' : 'Müller^Jürgen=山田^太郎');
      await expectSameAsSeparateRead(bytes);
    });
  }

  it('is absent, and the instance still de-identified, when the header lacks a Series Instance UID', async () => {
    const bytes = buildPart10(
      imageDataset({ rows: 1, columns: 1, bitsAllocated: 8, pixelData: el(0x7fe00010, 'OB', new Uint8Array(2)) }).filter((e) => e.tag !== 0x0020000e),
      { transferSyntaxUid: '1.2.840.10008.1.2.1' },
    );
    const outcome = await deidentifier.deidentify(bytes, { profile, digest, pixelRules: [], headersOnly: true, readOriginal: true });
    expect(outcome.status).toBe('deidentified');
    if (outcome.status === 'deidentified') expect(outcome.original).toBeUndefined();
    await expectSameAsSeparateRead(bytes);
  });
});

describe('readSentIdentity (what a STOW-RS response names)', () => {
  const image = (sop: string) =>
    imageDataset({ rows: 1, columns: 1, bitsAllocated: 8, pixelData: el(0x7fe00010, 'OB', new Uint8Array(2)) }).map((e) =>
      e.tag === 0x00080018 ? el(0x00080018, 'UI', sop) : e,
    );

  it("reads the dataset's own UIDs when it is not deflated, and a bare dataset's too", () => {
    const sop = `${SYNTHETIC_IDENTIFIERS.sopInstanceUid}.77`;
    const expected = { sopClassUid: '1.2.840.10008.5.1.4.1.1.7', sopInstanceUid: sop };
    expect(readSentIdentity(buildPart10(image(sop), { transferSyntaxUid: '1.2.840.10008.1.2.1' }))).toEqual(expected);
    expect(readSentIdentity(buildPart10(image(sop), { transferSyntaxUid: '1.2.840.10008.1.2' }))).toEqual(expected);
    expect(readSentIdentity(encodeDataset(image(sop), EXPLICIT_LE))).toEqual(expected);
  });

  it('names a deflated instance from its File Meta Information, without inflating it', () => {
    // 4 GiB of zeros: inflating them would take seconds and gigabytes.
    const started = performance.now();
    expect(readSentIdentity(deflatedBomb(0xfffffffe))).toEqual({
      sopClassUid: '1.2.840.10008.5.1.4.1.1.7',
      sopInstanceUid: SYNTHETIC_IDENTIFIERS.sopInstanceUid,
    });
    expect(performance.now() - started).toBeLessThan(2_000);
  });

  it('gives nothing for what is not DICOM, and never throws', () => {
    expect(readSentIdentity(new TextEncoder().encode('not DICOM at all'))).toEqual({});
    expect(readSentIdentity(new Uint8Array(0))).toEqual({});
  });
});

describe('a deflated instance past the inflate limits', () => {
  it('is refused with DICOM_INFLATE_LIMIT_EXCEEDED by readInstanceIdentity and by the de-identifier', async () => {
    const bomb = deflatedBomb(64 * 1024 ** 2);
    const limits = { maxInflatedBytes: 8 * 1024 ** 2, maxInflateRatio: 100 };
    const codeOf = (promise: Promise<unknown>) =>
      promise.then(
        () => 'resolved',
        (e: unknown) => (e instanceof PlatformError ? e.code : 'not coded'),
      );
    expect(await codeOf(readInstanceIdentity(bomb, limits))).toBe('DICOM_INFLATE_LIMIT_EXCEEDED');
    expect(await codeOf(new ElementDeidentifier({ inflate: limits }).deidentify(bomb, { profile, digest, pixelRules: [] }))).toBe(
      'DICOM_INFLATE_LIMIT_EXCEEDED',
    );
    // Under the default limits too: 64 MiB of zeros is past the 16 MiB grace at about 1,000:1.
    expect(await codeOf(deidentifier.deidentify(bomb, { profile, digest, pixelRules: [] }))).toBe('DICOM_INFLATE_LIMIT_EXCEEDED');
  });
});

describe('keepDeflated: false (ingest)', () => {
  it('writes a Deflated instance back as Explicit VR Little Endian with the same elements', async () => {
    const dataset = imageDataset({
      rows: 4,
      columns: 4,
      bitsAllocated: 8,
      pixelData: el(
        0x7fe00010,
        'OB',
        Uint8Array.from({ length: 16 }, (_, i) => i),
      ),
    });
    const bytes = buildPart10(dataset, { transferSyntaxUid: '1.2.840.10008.1.2.1.99' });
    const request = { profile, digest, pixelRules: [], headersOnly: true };
    const kept = await deidentifier.deidentify(bytes, request);
    const inflated = await deidentifier.deidentify(bytes, { ...request, keepDeflated: false });
    if (kept.status !== 'deidentified' || inflated.status !== 'deidentified') throw new Error('expected de-identified outcomes');
    expect(kept.transferSyntaxUid).toBe('1.2.840.10008.1.2.1.99');
    expect(inflated.transferSyntaxUid).toBe('1.2.840.10008.1.2.1');
    const [a, b] = await Promise.all([readInstanceIdentity(kept.bytes), readInstanceIdentity(inflated.bytes)]);
    expect(b).toEqual(a);
    expect(inflated.sopInstanceUid).toBe(kept.sopInstanceUid);
    // The stored bytes say what they are: no deflate stream after the meta group.
    expect(Buffer.from(inflated.bytes).includes(Buffer.from('1.2.840.10008.1.2.1.99'))).toBe(false);
  });
});
