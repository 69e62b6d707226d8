/**
 * The DICOM Comprehensive SR that carries a decided case back to the hospital (PS3.3 A.35.3), as a
 * content model: which modules, which content tree. adapters/dicom-dcmjs/write-result-sr.ts writes it.
 *
 * The tree states, for each judged image and finding, the finding (coded as the model's manifest
 * declares it), the calibrated probability (NUM), the decision, the algorithm (TID 4019 Algorithm
 * Identification: 111001 Algorithm Name, 111003 Algorithm Version, 111002 Algorithm Parameters) and
 * the image it was inferred from (IMAGE). The observer is a device (TID 1004). It declares no template
 * (no Content Template Sequence): it follows the Comprehensive SR relationship constraints
 * (PS3.3 Table A.35.3-2) and nothing narrower is claimed.
 *
 * A case that supersedes an earlier one (instances arrived after the study was judged) gets a new SR, a
 * new SOP Instance, that names the earlier SR in its Predecessor Documents Sequence (0040,A360; PS3.3
 * C.17.2: "SR SOP Instances ... whose content has been wholly or partially included in this document
 * with or without modification"), so a PACS and a reader can tell the newer result replaces the older.
 *
 * The SR is never verified: Vigil sends it before any human read (Verification Flag UNVERIFIED,
 * Preliminary Flag PRELIMINARY) and does not re-issue it after one. A VERIFIED SR would carry a named
 * Verifying Observer (C.17.2, Type 1C) attesting the model's content, even where the reviewer disagreed;
 * the reviewer's read reaches the hospital in the re-issued FHIR report instead (result-fhir.ts).
 *
 * Concepts that have no standard code the document can use here (the probability, the decision and its
 * values) are in Vigil's private coding scheme 99VIGIL (PS3.16 8.1: "99" schemes are private), declared in
 * the Coding Scheme Identification Sequence.
 */
import type { CaseResult, ConceptCode, ResultDecision } from './case-result.js';
import { DECISION_TEXT, formatProbability, hasReferral, machineResultNotice } from './case-result.js';
import type { InstanceReference, StudyIdentity } from './result-identity.js';

export const COMPREHENSIVE_SR_SOP_CLASS_UID = '1.2.840.10008.5.1.4.1.1.88.33';
export const PRIVATE_SCHEME = '99VIGIL';

export interface SrCode {
  /** Code Value (SH, 16 characters), or Long Code Value when longer. */
  readonly value: string;
  readonly scheme: string;
  /** Code Meaning (LO, at most 64 characters). */
  readonly meaning: string;
}

export type SrRelationship = 'CONTAINS' | 'HAS OBS CONTEXT' | 'HAS CONCEPT MOD' | 'HAS PROPERTIES' | 'INFERRED FROM';

export type SrContentItem =
  | {
      readonly valueType: 'CONTAINER';
      readonly relationship?: SrRelationship;
      readonly concept: SrCode;
      readonly children: readonly SrContentItem[];
    }
  | { readonly valueType: 'TEXT'; readonly relationship: SrRelationship; readonly concept: SrCode; readonly text: string }
  | {
      readonly valueType: 'CODE';
      readonly relationship: SrRelationship;
      readonly concept: SrCode;
      readonly code: SrCode;
      readonly children?: readonly SrContentItem[];
    }
  | { readonly valueType: 'NUM'; readonly relationship: SrRelationship; readonly concept: SrCode; readonly value: number; readonly units: SrCode }
  | { readonly valueType: 'UIDREF'; readonly relationship: SrRelationship; readonly concept: SrCode; readonly uid: string }
  | {
      readonly valueType: 'IMAGE';
      readonly relationship: SrRelationship;
      /** Optional for IMAGE (PS3.3 C.17.3: Concept Name Code Sequence is Type 1C). */
      readonly concept?: SrCode;
      readonly sopClassUid: string;
      readonly sopInstanceUid: string;
      readonly frameNumber?: number;
    };

/** Instances of one study, grouped by series (the Hierarchical SOP Instance Reference Macro, C.17-3). */
export interface SrEvidenceStudy {
  readonly studyInstanceUid: string;
  readonly series: readonly { readonly seriesInstanceUid: string; readonly instances: readonly { sopClassUid: string; sopInstanceUid: string }[] }[];
}

export interface ResultSrDocument {
  readonly sopClassUid: string;
  readonly sopInstanceUid: string;
  readonly seriesInstanceUid: string;
  readonly studyInstanceUid: string;
  /** Patient and General Study modules (Type 2: empty when unknown). */
  readonly study: StudyIdentity;
  readonly seriesNumber: number;
  readonly instanceNumber: number;
  /** DICOM DA and TM in UTC (Timezone Offset From UTC +0000). */
  readonly contentDate: string;
  readonly contentTime: string;
  readonly manufacturer: string;
  readonly softwareVersion: string;
  readonly seriesDescription: string;
  readonly completionFlag: 'PARTIAL' | 'COMPLETE';
  /** Completion Flag Description (LO). */
  readonly completionFlagDescription: string;
  readonly verificationFlag: 'UNVERIFIED';
  /** Always PRELIMINARY: the SR is an unverified machine result (above). */
  readonly preliminaryFlag: 'PRELIMINARY';
  readonly evidence: readonly SrEvidenceStudy[];
  /** The earlier SR this one replaces (Predecessor Documents Sequence); empty for a study's first result. */
  readonly predecessors: readonly SrEvidenceStudy[];
  readonly content: Extract<SrContentItem, { valueType: 'CONTAINER' }>;
  /** Private coding schemes used (Coding Scheme Identification Sequence). */
  readonly privateSchemes: readonly { readonly designator: string; readonly name: string; readonly responsibleOrganization: string }[];
}

const code = (value: string, scheme: string, meaning: string): SrCode => ({ value, scheme, meaning: meaning.slice(0, 64) });

/** Standard concepts used (PS3.16 Annex D, DCM; LOINC). */
export const SR_CODES = {
  diagnosticImagingReport: code('18748-4', 'LN', 'Diagnostic Imaging Report'),
  observerType: code('121005', 'DCM', 'Observer Type'),
  device: code('121007', 'DCM', 'Device'),
  deviceObserverUid: code('121012', 'DCM', 'Device Observer UID'),
  deviceObserverName: code('121013', 'DCM', 'Device Observer Name'),
  deviceObserverManufacturer: code('121014', 'DCM', 'Device Observer Manufacturer'),
  deviceObserverModelName: code('121015', 'DCM', 'Device Observer Model Name'),
  findings: code('121070', 'DCM', 'Findings'),
  finding: code('121071', 'DCM', 'Finding'),
  comment: code('121106', 'DCM', 'Comment'),
  algorithmName: code('111001', 'DCM', 'Algorithm Name'),
  algorithmParameters: code('111002', 'DCM', 'Algorithm Parameters'),
  algorithmVersion: code('111003', 'DCM', 'Algorithm Version'),
  noUnits: code('1', 'UCUM', 'no units'),
  probability: code('PROBABILITY', PRIVATE_SCHEME, 'Calibrated probability of the finding'),
  decision: code('DECISION', PRIVATE_SCHEME, 'Decision'),
} as const;

export const DECISION_CODES: Readonly<Record<ResultDecision, SrCode>> = {
  positive: code('POSITIVE', PRIVATE_SCHEME, 'Positive'),
  negative: code('NEGATIVE', PRIVATE_SCHEME, 'Negative'),
  refer: code('REFER', PRIVATE_SCHEME, 'Refer to human review'),
};

/** FHIR code system URIs for which DICOM has a coding scheme designator (PS3.16 Table 8-1). */
const SCHEME_OF_SYSTEM: Readonly<Record<string, string>> = {
  'http://snomed.info/sct': 'SCT',
  'http://loinc.org': 'LN',
  'http://dicom.nema.org/resources/ontology/DCM': 'DCM',
  'http://radlex.org': 'RADLEX',
  'http://unitsofmeasure.org': 'UCUM',
};

/** The finding as a DICOM code: the manifest's code when its system has a DICOM designator, else a private code. */
export function findingCode(finding: string, concept: ConceptCode | undefined): SrCode {
  const scheme = concept === undefined ? undefined : SCHEME_OF_SYSTEM[concept.system];
  if (concept !== undefined && scheme !== undefined) return code(concept.code, scheme, concept.display);
  return code(`FINDING:${finding}`.slice(0, 64), PRIVATE_SCHEME, concept?.display ?? finding);
}

export interface ResultSrIdentity {
  readonly sopInstanceUid: string;
  readonly seriesInstanceUid: string;
  /** The device observer (this Vigil installation). */
  readonly deviceObserverUid: string;
  /** The SR of the case this one amends (`CaseResult.amends`): Vigil made it in the same study. */
  readonly predecessor?: { readonly sopInstanceUid: string; readonly seriesInstanceUid: string };
}

/**
 * The SR for a decided case. Deterministic: the same case and identity give the same document (the
 * caller derives the UIDs from the case), so a resend after a crash is the same instance.
 *
 * @example buildResultSr(caseResult, { sopInstanceUid, seriesInstanceUid, deviceObserverUid })
 */
export function buildResultSr(result: CaseResult, identity: ResultSrIdentity): ResultSrDocument {
  const [contentDate, contentTime] = dicomDateTime(result.judgedAt);
  const partial = hasReferral(result);
  const algorithm = (): SrContentItem[] => [
    { valueType: 'TEXT', relationship: 'HAS CONCEPT MOD', concept: SR_CODES.algorithmName, text: result.model.id },
    { valueType: 'TEXT', relationship: 'HAS CONCEPT MOD', concept: SR_CODES.algorithmVersion, text: result.model.version },
    { valueType: 'TEXT', relationship: 'HAS CONCEPT MOD', concept: SR_CODES.algorithmParameters, text: `model sha256 ${result.model.sha256}` },
  ];
  const findings: SrContentItem[] = result.images.flatMap((image) =>
    image.outputs.map((output): SrContentItem => ({
      valueType: 'CODE',
      relationship: 'CONTAINS',
      concept: SR_CODES.finding,
      code: findingCode(output.finding, output.code),
      children: [
        ...algorithm(),
        { valueType: 'NUM', relationship: 'HAS PROPERTIES', concept: SR_CODES.probability, value: output.probability, units: SR_CODES.noUnits },
        { valueType: 'CODE', relationship: 'HAS PROPERTIES', concept: SR_CODES.decision, code: DECISION_CODES[output.decision] },
        ...(image.source === undefined
          ? []
          : [
              {
                valueType: 'IMAGE' as const,
                relationship: 'INFERRED FROM' as const,
                sopClassUid: image.source.sopClassUid,
                sopInstanceUid: image.source.sopInstanceUid,
                ...(image.frameNumber === undefined ? {} : { frameNumber: image.frameNumber }),
              },
            ]),
      ],
    })),
  );
  const notice = machineResultNotice(result.model);
  const comments = [
    `${notice}. Decisions: ${result.images.flatMap((i) => i.outputs.map((o) => `${o.finding} ${DECISION_TEXT[o.decision]} (p=${formatProbability(o.probability)})`)).join('; ')}.`,
    ...(result.notJudged > 0 ? [`${result.notJudged} image(s) of the study were not judged (refused by the quality gate or unreadable).`] : []),
    ...(identity.predecessor === undefined
      ? []
      : ['This result replaces an earlier result for the study (see Predecessor Documents): instances arrived after it was made.']),
  ];
  return {
    sopClassUid: COMPREHENSIVE_SR_SOP_CLASS_UID,
    sopInstanceUid: identity.sopInstanceUid,
    seriesInstanceUid: identity.seriesInstanceUid,
    studyInstanceUid: result.studyInstanceUid,
    study: result.study,
    // A fixed high number keeps Vigil's series apart from the modality's in a PACS viewer's list.
    seriesNumber: 9901,
    instanceNumber: 1,
    contentDate,
    contentTime,
    manufacturer: 'Vigil',
    softwareVersion: result.vigilVersion,
    seriesDescription: `AI result ${result.model.id} ${result.model.version}${identity.predecessor === undefined ? '' : ' (amended)'}`.slice(0, 64),
    completionFlag: partial ? 'PARTIAL' : 'COMPLETE',
    completionFlagDescription: 'Unverified machine result; not reviewed by a clinician',
    verificationFlag: 'UNVERIFIED',
    preliminaryFlag: 'PRELIMINARY',
    evidence: groupEvidence(result.evidence),
    predecessors:
      identity.predecessor === undefined
        ? []
        : groupEvidence([{ studyInstanceUid: result.studyInstanceUid, ...identity.predecessor, sopClassUid: COMPREHENSIVE_SR_SOP_CLASS_UID }]),
    content: {
      valueType: 'CONTAINER',
      concept: SR_CODES.diagnosticImagingReport,
      children: [
        { valueType: 'CODE', relationship: 'HAS OBS CONTEXT', concept: SR_CODES.observerType, code: SR_CODES.device },
        { valueType: 'UIDREF', relationship: 'HAS OBS CONTEXT', concept: SR_CODES.deviceObserverUid, uid: identity.deviceObserverUid },
        { valueType: 'TEXT', relationship: 'HAS OBS CONTEXT', concept: SR_CODES.deviceObserverName, text: 'Vigil' },
        { valueType: 'TEXT', relationship: 'HAS OBS CONTEXT', concept: SR_CODES.deviceObserverManufacturer, text: 'Vigil' },
        { valueType: 'TEXT', relationship: 'HAS OBS CONTEXT', concept: SR_CODES.deviceObserverModelName, text: `${result.model.id} ${result.model.version}` },
        ...comments.map((text): SrContentItem => ({ valueType: 'TEXT', relationship: 'CONTAINS', concept: SR_CODES.comment, text })),
        { valueType: 'CONTAINER', relationship: 'CONTAINS', concept: SR_CODES.findings, children: findings },
      ],
    },
    privateSchemes: [{ designator: PRIVATE_SCHEME, name: 'Vigil result concepts', responsibleOrganization: 'Vigil' }],
  };
}

function groupEvidence(references: readonly InstanceReference[]): SrEvidenceStudy[] {
  const studies = new Map<string, Map<string, Map<string, string>>>();
  for (const r of references) {
    const series = studies.get(r.studyInstanceUid) ?? new Map<string, Map<string, string>>();
    studies.set(r.studyInstanceUid, series);
    const instances = series.get(r.seriesInstanceUid) ?? new Map<string, string>();
    series.set(r.seriesInstanceUid, instances);
    instances.set(r.sopInstanceUid, r.sopClassUid);
  }
  return [...studies].map(([studyInstanceUid, series]) => ({
    studyInstanceUid,
    series: [...series].map(([seriesInstanceUid, instances]) => ({
      seriesInstanceUid,
      instances: [...instances].map(([sopInstanceUid, sopClassUid]) => ({ sopClassUid, sopInstanceUid })),
    })),
  }));
}

/** ISO 8601 UTC to DICOM DA and TM (UTC; the document states Timezone Offset From UTC +0000). */
export function dicomDateTime(iso: string): [string, string] {
  const match = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?\d*Z$/.exec(iso);
  if (match === null) throw new RangeError('not an ISO 8601 UTC time');
  const [, y, mo, d, h, mi, s, fraction] = match;
  return [`${y}${mo}${d}`, `${h}${mi}${s}${fraction === undefined ? '' : `.${fraction}`}`];
}
