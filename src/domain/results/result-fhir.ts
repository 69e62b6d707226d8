/**
 * A decided case as FHIR R4: a Bundle (type `collection`) with one DiagnosticReport and one Observation
 * per judged image and finding. Pure: ids are passed in (the caller derives them from the case, so the
 * same case always gives the same Bundle and a receiver can recognise a resend).
 *
 * - DiagnosticReport.status is `preliminary` until a human has read the case, then `final`, and `amended`
 *   when the case replaced an earlier result of the study (`reportStatus`, case-result.ts). A replaced
 *   or re-read report keeps its `id` and its report identifier (`urn:vigil:report-id`: the first case
 *   whose result was issued), so a receiver replaces the version it holds; `issued` tells versions apart.
 *   Observation.status is `preliminary` until the case is read, then `final`.
 * - Observation.interpretation uses v3 ObservationInterpretation: POS, NEG, IND (indeterminate: referred).
 * - The subject is referenced by identifier (no Patient resource is sent): the DICOM Patient ID, in the
 *   identifier system the site configures (VIGIL_FHIR_PATIENT_ID_SYSTEM); a pseudonymous result uses
 *   Vigil's pseudonym system instead, so it can never be mistaken for a hospital identifier.
 * - imagingStudy references the study by its DICOM Study Instance UID (`urn:dicom:uid`, `urn:oid:<uid>`).
 */
import type { CaseResult, JudgedOutput, ResultDecision } from './case-result.js';
import { DECISION_TEXT, formatProbability, issuedAt, readNotice, reportStatus, summarizeOutputs } from './case-result.js';

export const PSEUDONYMOUS_PATIENT_ID_SYSTEM = 'urn:vigil:pseudonymous-patient-id';
export const CASE_ID_SYSTEM = 'urn:vigil:case-id';
/** The report's identity across its versions (a case that supersedes another, a read): the first case whose result was issued. */
export const REPORT_ID_SYSTEM = 'urn:vigil:report-id';

export interface FhirCoding {
  readonly system: string;
  readonly code: string;
  readonly display: string;
}

export interface FhirCodeableConcept {
  readonly coding?: readonly FhirCoding[];
  readonly text?: string;
}

export interface FhirReference {
  readonly reference?: string;
  readonly identifier?: { readonly system: string; readonly value: string };
  readonly display?: string;
}

export interface FhirObservation {
  readonly resourceType: 'Observation';
  readonly id: string;
  readonly status: 'preliminary' | 'final';
  readonly category: readonly FhirCodeableConcept[];
  readonly code: FhirCodeableConcept;
  readonly subject?: FhirReference;
  readonly issued: string;
  readonly valueQuantity: { readonly value: number; readonly unit: string; readonly system: string; readonly code: string };
  readonly interpretation: readonly FhirCodeableConcept[];
  readonly method: FhirCodeableConcept;
  readonly device: FhirReference;
  readonly derivedFrom?: readonly FhirReference[];
  readonly note: readonly { readonly text: string }[];
}

export interface FhirDiagnosticReport {
  readonly resourceType: 'DiagnosticReport';
  readonly id: string;
  readonly identifier: readonly { readonly system: string; readonly value: string }[];
  readonly status: ReturnType<typeof reportStatus>;
  readonly category: readonly FhirCodeableConcept[];
  readonly code: FhirCodeableConcept;
  readonly subject?: FhirReference;
  readonly issued: string;
  readonly performer: readonly FhirReference[];
  readonly result: readonly FhirReference[];
  readonly imagingStudy: readonly FhirReference[];
  readonly conclusion: string;
}

export interface FhirBundle {
  readonly resourceType: 'Bundle';
  readonly id: string;
  readonly type: 'collection';
  readonly timestamp: string;
  readonly entry: readonly { readonly fullUrl: string; readonly resource: FhirDiagnosticReport | FhirObservation }[];
}

export interface FhirMappingOptions {
  /** Identifier system of the hospital's Patient ID (used only for re-identified results). */
  readonly patientIdSystem: string;
  /**
   * A UUID (RFC 4122 text) for a name the builder gives (`<report case id>:diagnostic-report`,
   * `<case id>:observation:<image>:<output>`, `<case id>:bundle[:read]`); the caller derives it by hashing.
   */
  readonly uuid: (name: string) => string;
}

const RADIOLOGY: FhirCodeableConcept = {
  coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0074', code: 'RAD', display: 'Radiology' }],
};
const IMAGING: FhirCodeableConcept = {
  coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'imaging', display: 'Imaging' }],
};
const INTERPRETATION: Readonly<Record<ResultDecision, FhirCoding>> = {
  positive: { system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation', code: 'POS', display: 'Positive' },
  negative: { system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation', code: 'NEG', display: 'Negative' },
  refer: { system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation', code: 'IND', display: 'Indeterminate' },
};

/**
 * @example buildFhirBundle(caseResult, { patientIdSystem: 'urn:oid:1.2.3.4', uuid: (name) => uuidFromHash(caseId, name) })
 */
export function buildFhirBundle(result: CaseResult, options: FhirMappingOptions): FhirBundle {
  const subject = subjectOf(result, options.patientIdSystem);
  const device: FhirReference = { display: `${result.model.id} ${result.model.version} (Vigil ${result.vigilVersion})` };
  const method: FhirCodeableConcept = { text: `${result.model.id} ${result.model.version}, model sha256 ${result.model.sha256}` };
  const notice = readNotice(result);
  const issued = issuedAt(result);
  const observationStatus = result.read === undefined ? 'preliminary' : 'final';
  const imagingStudy: FhirReference = { identifier: { system: 'urn:dicom:uid', value: `urn:oid:${result.studyInstanceUid}` } };

  const observations: { fullUrl: string; resource: FhirObservation }[] = [];
  result.images.forEach((image, imageIndex) => {
    image.outputs.forEach((output, outputIndex) => {
      const id = options.uuid(`${result.caseId}:observation:${imageIndex}:${outputIndex}`);
      observations.push({
        fullUrl: `urn:uuid:${id}`,
        resource: {
          resourceType: 'Observation',
          id,
          status: observationStatus,
          category: [IMAGING],
          code: findingConcept(output),
          ...(subject === undefined ? {} : { subject }),
          issued,
          valueQuantity: { value: Number(formatProbability(output.probability)), unit: 'probability', system: 'http://unitsofmeasure.org', code: '1' },
          interpretation: [{ coding: [INTERPRETATION[output.decision]], text: DECISION_TEXT[output.decision] }],
          method,
          device,
          derivedFrom: [imagingStudy],
          note: [{ text: `${notice}.` }],
        },
      });
    });
  });

  // The report's id is the first issued case's, whichever version this is: a receiver replaces what it holds.
  const reportId = options.uuid(`${result.reportCaseId}:diagnostic-report`);
  const report: FhirDiagnosticReport = {
    resourceType: 'DiagnosticReport',
    id: reportId,
    identifier: [
      { system: REPORT_ID_SYSTEM, value: result.reportCaseId },
      { system: CASE_ID_SYSTEM, value: result.caseId },
    ],
    status: reportStatus(result),
    category: [RADIOLOGY],
    code: { coding: [{ system: 'http://loinc.org', code: '18748-4', display: 'Diagnostic imaging study' }], text: 'AI result' },
    ...(subject === undefined ? {} : { subject }),
    issued,
    performer: [device],
    result: observations.map((o) => ({ reference: o.fullUrl })),
    imagingStudy: [imagingStudy],
    conclusion:
      `${summarizeOutputs(result).join('; ')}. ${notice}.` +
      (result.amends === undefined ? '' : ' This report replaces an earlier result for the study: instances arrived after it was made.'),
  };
  return {
    resourceType: 'Bundle',
    // One Bundle per version of the content: the result as judged, and again once read.
    id: options.uuid(`${result.caseId}:bundle${result.read === undefined ? '' : ':read'}`),
    type: 'collection',
    timestamp: issued,
    entry: [{ fullUrl: `urn:uuid:${reportId}`, resource: report }, ...observations],
  };
}

function subjectOf(result: CaseResult, patientIdSystem: string): FhirReference | undefined {
  const id = result.study.patientId;
  if (id === undefined) return undefined;
  return { identifier: { system: result.reidentified ? patientIdSystem : PSEUDONYMOUS_PATIENT_ID_SYSTEM, value: id } };
}

function findingConcept(output: JudgedOutput): FhirCodeableConcept {
  return output.code === undefined ? { text: output.finding } : { coding: [output.code], text: output.finding };
}
