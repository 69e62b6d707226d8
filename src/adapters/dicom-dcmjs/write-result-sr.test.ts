import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CaseResult } from '../../domain/results/case-result.js';
import { buildResultSr, COMPREHENSIVE_SR_SOP_CLASS_UID } from '../../domain/results/result-sr.js';
import { readInstanceIdentity } from './read-instance-identity.js';
import { buildPart10, el, imageDataset, SYNTHETIC_IDENTIFIERS } from './internal/test-builders.js';
import { writeResultSr } from './write-result-sr.js';

const run = promisify(execFile);
const hasDciodvfy = existsSync('/usr/bin/dciodvfy');
const hasPydicom = await run('/usr/bin/python3', ['-c', 'import pydicom']).then(
  () => true,
  () => false,
);

/**
 * A synthetic image with the full study identity, in Latin-1 (ISO_IR 100), as a modality sends it;
 * multi-frame (Multi-frame Grayscale Word Secondary Capture) when `frames` is given.
 */
function syntheticInstance(sopInstanceUid: string, frames?: number): Uint8Array {
  const sopClassUid = frames === undefined ? '1.2.840.10008.5.1.4.1.1.7' : '1.2.840.10008.5.1.4.1.1.7.3';
  const latin1 = (text: string): Uint8Array => Uint8Array.from([...text].map((c) => c.charCodeAt(0)));
  const pixels = new Uint8Array(8 * 8 * 2 * (frames ?? 1));
  return buildPart10(
    imageDataset({
      rows: 8,
      columns: 8,
      bitsAllocated: 16,
      modality: 'CR',
      ...(frames === undefined ? {} : { frames }),
      pixelData: el(0x7fe00010, 'OW', pixels),
      extra: [
        el(0x00080005, 'CS', 'ISO_IR 100'),
        el(0x00080020, 'DA', '20240131'),
        el(0x00080030, 'TM', '101500'),
        el(0x00080050, 'SH', 'ACC-SYN-1'),
        el(0x00080090, 'PN', 'REFERRER^SYNTHETIC'),
        el(0x00100010, 'PN', latin1('MÜLLER^SYNTHETIC')),
        el(0x00100030, 'DA', '19700101'),
        el(0x00100040, 'CS', 'O'),
        el(0x00200010, 'SH', 'STUDY-SYN-1'),
      ].filter((e) => e.tag !== 0x00100010),
    })
      .filter((e) => e.tag !== 0x00100010 && e.tag !== 0x00080018 && e.tag !== 0x00080016)
      .concat([el(0x00100010, 'PN', latin1('MÜLLER^SYNTHETIC')), el(0x00080018, 'UI', sopInstanceUid), el(0x00080016, 'UI', sopClassUid)])
      .sort((a, b) => a.tag - b.tag),
    { transferSyntaxUid: '1.2.840.10008.1.2.1' },
  );
}

async function caseResultFor(instances: readonly Uint8Array[]): Promise<CaseResult> {
  const identities = await Promise.all(instances.map((bytes) => readInstanceIdentity(bytes)));
  const [first, second] = identities;
  if (first === undefined || second === undefined) throw new Error('two instances expected');
  return {
    caseId: 'infer:st-0123456789abcdef0123456789abcdef:2:abc',
    judgedAt: '2024-02-01T08:30:15.123Z',
    model: { id: 'pneumonia-demo', version: '1.0.0', sha256: 'ab'.repeat(32) },
    vigilVersion: '0.1.0',
    studyInstanceUid: first.reference.studyInstanceUid,
    study: first.study,
    evidence: identities.map((i) => i.reference),
    images: [
      {
        source: first.reference,
        outputs: [
          {
            finding: 'pneumonia',
            code: { system: 'http://snomed.info/sct', code: '233604007', display: 'Pneumonia' },
            probability: 0.9931234,
            decision: 'positive',
          },
        ],
      },
      { source: second.reference, frameNumber: 2, outputs: [{ finding: 'pneumonia', probability: 0.41, decision: 'refer' }] },
    ],
    notJudged: 1,
    reidentified: true,
    reportCaseId: 'infer:st-0123456789abcdef0123456789abcdef:2:abc',
  };
}

describe('result SR (Comprehensive SR)', () => {
  let dir: string;
  let file: string;
  let bytes: Uint8Array;
  const sources = [syntheticInstance(SYNTHETIC_IDENTIFIERS.sopInstanceUid), syntheticInstance(`${SYNTHETIC_IDENTIFIERS.sopInstanceUid}.2`, 3)];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-sr-'));
    const document = buildResultSr(await caseResultFor(sources), {
      sopInstanceUid: '2.25.1234',
      seriesInstanceUid: '2.25.5678',
      deviceObserverUid: '2.25.999',
    });
    bytes = writeResultSr(document);
    file = join(dir, 'sr.dcm');
    writeFileSync(file, bytes);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads the originals in their character set', async () => {
    const identity = await readInstanceIdentity(sources[0] as Uint8Array);
    expect(identity.reference).toEqual({
      studyInstanceUid: SYNTHETIC_IDENTIFIERS.studyInstanceUid,
      seriesInstanceUid: SYNTHETIC_IDENTIFIERS.seriesInstanceUid,
      sopInstanceUid: SYNTHETIC_IDENTIFIERS.sopInstanceUid,
      sopClassUid: '1.2.840.10008.5.1.4.1.1.7',
    });
    expect(identity.study).toEqual({
      patientName: 'MÜLLER^SYNTHETIC',
      patientId: SYNTHETIC_IDENTIFIERS.patientId,
      patientBirthDate: '19700101',
      patientSex: 'O',
      accessionNumber: 'ACC-SYN-1',
      studyId: 'STUDY-SYN-1',
      studyDate: '20240131',
      studyTime: '101500',
      referringPhysicianName: 'REFERRER^SYNTHETIC',
    });
  });

  it('is deterministic: the same case gives the same bytes', async () => {
    const again = writeResultSr(
      buildResultSr(await caseResultFor(sources), { sopInstanceUid: '2.25.1234', seriesInstanceUid: '2.25.5678', deviceObserverUid: '2.25.999' }),
    );
    expect(Buffer.from(again).equals(Buffer.from(bytes))).toBe(true);
  });

  it('reads back as an instance of the original study', async () => {
    const identity = await readInstanceIdentity(bytes);
    expect(identity.reference).toEqual({
      studyInstanceUid: SYNTHETIC_IDENTIFIERS.studyInstanceUid,
      seriesInstanceUid: '2.25.5678',
      sopInstanceUid: '2.25.1234',
      sopClassUid: COMPREHENSIVE_SR_SOP_CLASS_UID,
    });
    expect(identity.study.patientName).toBe('MÜLLER^SYNTHETIC');
    expect(identity.study.accessionNumber).toBe('ACC-SYN-1');
  });

  it.skipIf(!hasDciodvfy)('validates with dciodvfy with no errors (needs dicom3tools)', async () => {
    const { stderr, stdout } = await run('dciodvfy', [file]).catch((e: { stdout: string; stderr: string }) => e);
    const output = `${stdout}${stderr}`;
    const errors = output.split('\n').filter((line) => line.startsWith('Error'));
    expect(errors, output).toEqual([]);
    expect(output).toContain('ComprehensiveSR');
  });

  it.skipIf(!hasDciodvfy || !hasPydicom)(
    'names the SR it replaces in the Predecessor Documents Sequence, and still validates (needs dicom3tools and python3-pydicom)',
    async () => {
      const amending = join(dir, 'amending.dcm');
      const result = { ...(await caseResultFor(sources)), caseId: 'infer:st-0123456789abcdef0123456789abcdef:3:abc', amends: 'earlier' };
      writeFileSync(
        amending,
        writeResultSr(
          buildResultSr(result, {
            sopInstanceUid: '2.25.4321',
            seriesInstanceUid: '2.25.8765',
            deviceObserverUid: '2.25.999',
            predecessor: { sopInstanceUid: '2.25.1234', seriesInstanceUid: '2.25.5678' },
          }),
        ),
      );
      const { stderr, stdout } = await run('dciodvfy', [amending]).catch((e: { stdout: string; stderr: string }) => e);
      const output = `${stdout}${stderr}`;
      expect(
        output.split('\n').filter((line) => line.startsWith('Error')),
        output,
      ).toEqual([]);
      const script = `
import sys, pydicom
ds = pydicom.dcmread(sys.argv[1])
for study in ds.PredecessorDocumentsSequence:
    for series in study.ReferencedSeriesSequence:
        for sop in series.ReferencedSOPSequence:
            print(study.StudyInstanceUID, series.SeriesInstanceUID, sop.ReferencedSOPClassUID, sop.ReferencedSOPInstanceUID)
print(ds.SeriesDescription)
`;
      const { stdout: read } = await run('/usr/bin/python3', ['-c', script, amending]);
      expect(read).toBe(
        `${SYNTHETIC_IDENTIFIERS.studyInstanceUid} 2.25.5678 ${COMPREHENSIVE_SR_SOP_CLASS_UID} 2.25.1234\nAI result pneumonia-demo 1.0.0 (amended)\n`,
      );
      // The first SR of a study has no such sequence (Type 1C: only when content comes from another document).
      const { stdout: first } = await run('/usr/bin/python3', [
        '-c',
        'import sys, pydicom; print("PredecessorDocumentsSequence" in pydicom.dcmread(sys.argv[1]))',
        file,
      ]);
      expect(first.trim()).toBe('False');
    },
  );

  it.skipIf(!hasPydicom)('parses with pydicom, which finds the model, the decision and the source images (needs python3-pydicom)', async () => {
    const script = `
import sys, pydicom
ds = pydicom.dcmread(sys.argv[1])
def walk(items, depth=0):
    for item in items:
        name = item.ConceptNameCodeSequence[0].CodeMeaning if 'ConceptNameCodeSequence' in item else '-'
        value = ''
        if item.ValueType == 'TEXT': value = item.TextValue
        elif item.ValueType == 'CODE': value = item.ConceptCodeSequence[0].CodeMeaning
        elif item.ValueType == 'NUM': value = item.MeasuredValueSequence[0].NumericValue
        elif item.ValueType == 'IMAGE': value = item.ReferencedSOPSequence[0].ReferencedSOPInstanceUID + ('#' + str(item.ReferencedSOPSequence[0].ReferencedFrameNumber) if 'ReferencedFrameNumber' in item.ReferencedSOPSequence[0] else '')
        elif item.ValueType == 'UIDREF': value = item.UID
        print('  ' * depth + f'{item.RelationshipType} {item.ValueType} {name} = {value}')
        if 'ContentSequence' in item: walk(item.ContentSequence, depth + 1)
print(ds.PatientName, ds.CompletionFlag, ds.VerificationFlag, ds.PreliminaryFlag)
print(ds.CurrentRequestedProcedureEvidenceSequence[0].StudyInstanceUID)
walk(ds.ContentSequence)
`;
    const { stdout } = await run('/usr/bin/python3', ['-c', script, file]);
    expect(stdout).toContain('MÜLLER^SYNTHETIC PARTIAL UNVERIFIED PRELIMINARY');
    expect(stdout).toContain(SYNTHETIC_IDENTIFIERS.studyInstanceUid);
    expect(stdout).toContain('HAS CONCEPT MOD TEXT Algorithm Name = pneumonia-demo');
    expect(stdout).toContain('HAS CONCEPT MOD TEXT Algorithm Version = 1.0.0');
    expect(stdout).toContain('CONTAINS CODE Finding = Pneumonia');
    expect(stdout).toContain('HAS PROPERTIES NUM Calibrated probability of the finding = 0.993123');
    expect(stdout).toContain('HAS PROPERTIES CODE Decision = Positive');
    expect(stdout).toContain('HAS PROPERTIES CODE Decision = Refer to human review');
    expect(stdout).toContain(`INFERRED FROM IMAGE - = ${SYNTHETIC_IDENTIFIERS.sopInstanceUid}\n`);
    expect(stdout).toContain(`INFERRED FROM IMAGE - = ${SYNTHETIC_IDENTIFIERS.sopInstanceUid}.2#2`);
  });
});
