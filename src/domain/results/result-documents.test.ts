import { describe, expect, it } from 'vitest';
import type { CaseResult } from './case-result.js';
import { buildFhirBundle, PSEUDONYMOUS_PATIENT_ID_SYSTEM, type FhirDiagnosticReport, type FhirObservation } from './result-fhir.js';
import { buildResultSr, dicomDateTime, findingCode, PRIVATE_SCHEME, type SrContentItem } from './result-sr.js';

const source = { studyInstanceUid: '1.2.3', seriesInstanceUid: '1.2.3.4', sopInstanceUid: '1.2.3.4.5', sopClassUid: '1.2.840.10008.5.1.4.1.1.1' };

function caseResult(decisions: readonly ('positive' | 'negative' | 'refer')[], reidentified = true): CaseResult {
  return {
    caseId: 'infer:st-x:1:abc',
    judgedAt: '2024-02-01T08:30:15.123Z',
    model: { id: 'pneumonia-demo', version: '1.0.0', sha256: 'ab'.repeat(32) },
    vigilVersion: '0.1.0',
    studyInstanceUid: '1.2.3',
    study: { patientId: 'PID-1', patientName: 'SYNTHETIC^PATIENT' },
    evidence: [source, { ...source, sopInstanceUid: '1.2.3.4.6' }, { ...source, seriesInstanceUid: '1.2.3.7', sopInstanceUid: '1.2.3.7.1' }],
    images: decisions.map((decision, i) => ({
      source: { ...source, sopInstanceUid: `1.2.3.4.${5 + i}` },
      outputs: [
        { finding: 'pneumonia', code: { system: 'http://snomed.info/sct', code: '233604007', display: 'Pneumonia' }, probability: 0.25 + i / 10, decision },
      ],
    })),
    notJudged: 0,
    reidentified,
    reportCaseId: 'infer:st-x:1:abc',
  };
}

const read = {
  at: '2024-02-01T09:12:00.000Z',
  reads: [
    { findingPresent: true, imageQualityAdequate: true, agreesWithModel: true },
    { findingPresent: false, imageQualityAdequate: false, agreesWithModel: false },
  ],
};

const uids = { sopInstanceUid: '2.25.1', seriesInstanceUid: '2.25.2', deviceObserverUid: '2.25.3' };

function flatten(items: readonly SrContentItem[]): SrContentItem[] {
  return items.flatMap((item) => [item, ...flatten(item.valueType === 'CONTAINER' || item.valueType === 'CODE' ? (item.children ?? []) : [])]);
}

describe('buildResultSr', () => {
  it('names the algorithm, the finding, the probability, the decision and the source image for each output', () => {
    const sr = buildResultSr(caseResult(['positive']), uids);
    const items = flatten(sr.content.children);
    const finding = items.find((i) => i.valueType === 'CODE' && i.concept.value === '121071');
    expect(finding).toMatchObject({ code: { value: '233604007', scheme: 'SCT', meaning: 'Pneumonia' } });
    const children = finding?.valueType === 'CODE' ? (finding.children ?? []) : [];
    expect(children).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ concept: expect.objectContaining({ value: '111001' }), text: 'pneumonia-demo' }),
        expect.objectContaining({ concept: expect.objectContaining({ value: '111003' }), text: '1.0.0' }),
        expect.objectContaining({ valueType: 'NUM', value: 0.25 }),
        expect.objectContaining({ valueType: 'CODE', code: expect.objectContaining({ value: 'POSITIVE', scheme: PRIVATE_SCHEME }) }),
        expect.objectContaining({ valueType: 'IMAGE', relationship: 'INFERRED FROM', sopInstanceUid: '1.2.3.4.5' }),
      ]),
    );
    // An unverified machine result is preliminary, whatever it decided.
    expect(sr).toMatchObject({ completionFlag: 'COMPLETE', verificationFlag: 'UNVERIFIED', preliminaryFlag: 'PRELIMINARY', studyInstanceUid: '1.2.3' });
    expect(sr.predecessors).toEqual([]);
  });

  it('is partial when any output was referred', () => {
    expect(buildResultSr(caseResult(['negative', 'refer']), uids)).toMatchObject({ completionFlag: 'PARTIAL', preliminaryFlag: 'PRELIMINARY' });
  });

  it('names the SR it replaces as its predecessor, in the same study', () => {
    const sr = buildResultSr(
      { ...caseResult(['positive']), amends: 'infer:st-x:0:abc' },
      { ...uids, predecessor: { sopInstanceUid: '2.25.7', seriesInstanceUid: '2.25.8' } },
    );
    expect(sr.predecessors).toEqual([
      {
        studyInstanceUid: '1.2.3',
        series: [{ seriesInstanceUid: '2.25.8', instances: [{ sopClassUid: '1.2.840.10008.5.1.4.1.1.88.33', sopInstanceUid: '2.25.7' }] }],
      },
    ]);
    expect(sr.seriesDescription).toBe('AI result pneumonia-demo 1.0.0 (amended)');
    expect(flatten(sr.content.children).some((i) => i.valueType === 'TEXT' && i.text.startsWith('This result replaces an earlier result'))).toBe(true);
  });

  it('groups the evidence by study and series', () => {
    const sr = buildResultSr(caseResult(['negative']), uids);
    expect(sr.evidence).toEqual([
      {
        studyInstanceUid: '1.2.3',
        series: [
          {
            seriesInstanceUid: '1.2.3.4',
            instances: [expect.objectContaining({ sopInstanceUid: '1.2.3.4.5' }), expect.objectContaining({ sopInstanceUid: '1.2.3.4.6' })],
          },
          { seriesInstanceUid: '1.2.3.7', instances: [expect.objectContaining({ sopInstanceUid: '1.2.3.7.1' })] },
        ],
      },
    ]);
  });

  it('codes a finding without a DICOM scheme in the private scheme, and converts times to DICOM UTC', () => {
    expect(findingCode('nodule', undefined)).toEqual({ value: 'FINDING:nodule', scheme: PRIVATE_SCHEME, meaning: 'nodule' });
    expect(findingCode('x', { system: 'http://example.org/codes', code: '7', display: 'Seven' })).toMatchObject({ scheme: PRIVATE_SCHEME, meaning: 'Seven' });
    expect(dicomDateTime('2024-02-01T08:30:15.123Z')).toEqual(['20240201', '083015.123']);
    expect(dicomDateTime('2024-02-01T08:30:15Z')).toEqual(['20240201', '083015']);
    expect(() => dicomDateTime('2024-02-01 08:30')).toThrow(RangeError);
  });
});

describe('buildFhirBundle', () => {
  const uuid = (name: string) => `00000000-0000-4000-8000-${name.length.toString(16).padStart(12, '0')}`;

  it('maps a case to a DiagnosticReport and one Observation per output, linked by reference', () => {
    const bundle = buildFhirBundle(caseResult(['positive', 'negative']), { patientIdSystem: 'urn:oid:1.2.36.1', uuid: (n) => `id-${n}` });
    expect(bundle).toMatchObject({ resourceType: 'Bundle', type: 'collection', timestamp: '2024-02-01T08:30:15.123Z' });
    const [report, ...observations] = bundle.entry.map((e) => e.resource) as [FhirDiagnosticReport, ...FhirObservation[]];
    expect(report).toMatchObject({
      resourceType: 'DiagnosticReport',
      id: 'id-infer:st-x:1:abc:diagnostic-report',
      identifier: [
        { system: 'urn:vigil:report-id', value: 'infer:st-x:1:abc' },
        { system: 'urn:vigil:case-id', value: 'infer:st-x:1:abc' },
      ],
      // Nobody has read it yet.
      status: 'preliminary',
      issued: '2024-02-01T08:30:15.123Z',
      subject: { identifier: { system: 'urn:oid:1.2.36.1', value: 'PID-1' } },
      imagingStudy: [{ identifier: { system: 'urn:dicom:uid', value: 'urn:oid:1.2.3' } }],
      result: [{ reference: 'urn:uuid:id-infer:st-x:1:abc:observation:0:0' }, { reference: 'urn:uuid:id-infer:st-x:1:abc:observation:1:0' }],
    });
    expect(report.conclusion).toContain('pneumonia: positive (probability 0.25)');
    expect(report.conclusion).toContain('Unverified machine result from pneumonia-demo 1.0.0');
    expect(observations.map((o) => o.interpretation[0]?.coding?.[0]?.code)).toEqual(['POS', 'NEG']);
    expect(observations[0]).toMatchObject({
      valueQuantity: { value: 0.25, system: 'http://unitsofmeasure.org', code: '1' },
      code: { coding: [{ system: 'http://snomed.info/sct', code: '233604007' }] },
      device: { display: 'pneumonia-demo 1.0.0 (Vigil 0.1.0)' },
    });
  });

  it('is final once a human has read the case, issued at the read, stating it', () => {
    const bundle = buildFhirBundle({ ...caseResult(['positive', 'negative']), read }, { patientIdSystem: 'urn:oid:1.2.36.1', uuid: (n) => `id-${n}` });
    const [report, ...observations] = bundle.entry.map((e) => e.resource) as [FhirDiagnosticReport, ...FhirObservation[]];
    expect(report).toMatchObject({ id: 'id-infer:st-x:1:abc:diagnostic-report', status: 'final', issued: '2024-02-01T09:12:00.000Z' });
    expect(observations.map((o) => [o.id, o.status, o.issued])).toEqual([
      ['id-infer:st-x:1:abc:observation:0:0', 'final', '2024-02-01T09:12:00.000Z'],
      ['id-infer:st-x:1:abc:observation:1:0', 'final', '2024-02-01T09:12:00.000Z'],
    ]);
    expect(report.conclusion).toContain('read by a clinician (2 read(s)): agrees with the model on 1, disagrees on 1; finding present on 1, absent on 1');
    expect(report.conclusion).toContain('image quality not adequate on 1');
    expect(report.conclusion).not.toContain('Unverified');
    expect(bundle.id, 'a new Bundle for the new content').toBe('id-infer:st-x:1:abc:bundle:read');
    expect(bundle.timestamp).toBe('2024-02-01T09:12:00.000Z');
  });

  it("is amended when it replaces an earlier case's result: the same report id and report identifier, its own case id", () => {
    const amending = { ...caseResult(['positive']), caseId: 'infer:st-x:2:abc', amends: 'infer:st-x:1:abc', reportCaseId: 'infer:st-x:1:abc' };
    const first = buildFhirBundle(caseResult(['negative']), { patientIdSystem: 'urn:oid:1.2.36.1', uuid: (n) => `id-${n}` });
    const bundle = buildFhirBundle(amending, { patientIdSystem: 'urn:oid:1.2.36.1', uuid: (n) => `id-${n}` });
    const report = bundle.entry[0]?.resource as FhirDiagnosticReport;
    expect(report.id).toBe(first.entry[0]?.resource.id);
    expect(report).toMatchObject({
      status: 'amended',
      identifier: [
        { system: 'urn:vigil:report-id', value: 'infer:st-x:1:abc' },
        { system: 'urn:vigil:case-id', value: 'infer:st-x:2:abc' },
      ],
    });
    expect(report.conclusion).toContain('replaces an earlier result');
    expect(bundle.id).not.toBe(first.id);
    expect((bundle.entry[1]?.resource as FhirObservation).status, 'its observations are unread').toBe('preliminary');
    // Read later: still amended (the report changed after it was issued), its observations final.
    const reread = buildFhirBundle({ ...amending, read }, { patientIdSystem: 'urn:oid:1.2.36.1', uuid: (n) => `id-${n}` });
    expect(reread.entry.map((e) => e.resource.status)).toEqual(['amended', 'final']);
  });

  it("is preliminary when referred, and names a pseudonymous patient in Vigil's own system", () => {
    const bundle = buildFhirBundle(caseResult(['refer'], false), { patientIdSystem: 'urn:oid:1.2.36.1', uuid });
    const [report, observation] = bundle.entry.map((e) => e.resource) as [FhirDiagnosticReport, FhirObservation];
    expect(report.status).toBe('preliminary');
    expect(observation.status).toBe('preliminary');
    expect(observation.interpretation[0]).toMatchObject({ coding: [{ code: 'IND' }], text: 'refer to human review' });
    expect(report.subject?.identifier?.system).toBe(PSEUDONYMOUS_PATIENT_ID_SYSTEM);
  });
});
