/**
 * Writes a result SR (domain/results/result-sr.ts) as a DICOM Part 10 file, Explicit VR Little Endian,
 * with dcmjs. dcmjs's writer is fine here, unlike for de-identification: the document is built from
 * scratch, has no private elements to lose, and is written in UTF-8 (ISO_IR 192), which is what dcmjs
 * writes strings in.
 */
import type { ResultSrDocument, SrCode, SrContentItem, SrEvidenceStudy } from '../../domain/results/result-sr.js';
import type { StudyIdentity } from '../../domain/results/result-identity.js';
import { VIGIL_IMPLEMENTATION_CLASS_UID } from './element-deidentifier.js';
import { DicomDict, DicomMetaDictionary } from './internal/libraries.js';
import { EXPLICIT_VR_LITTLE_ENDIAN } from './internal/transfer-syntax.js';

type Naturalized = Record<string, unknown>;

/**
 * @example const bytes = writeResultSr(buildResultSr(caseResult, uids)); // a Part 10 file for C-STORE
 */
export function writeResultSr(document: ResultSrDocument): Uint8Array {
  const meta: Naturalized = {
    FileMetaInformationVersion: new Uint8Array([0, 1]).buffer,
    MediaStorageSOPClassUID: document.sopClassUid,
    MediaStorageSOPInstanceUID: document.sopInstanceUid,
    TransferSyntaxUID: EXPLICIT_VR_LITTLE_ENDIAN,
    ImplementationClassUID: VIGIL_IMPLEMENTATION_CLASS_UID,
    ImplementationVersionName: 'VIGIL',
  };
  const file = new DicomDict(DicomMetaDictionary.denaturalizeDataset(meta));
  file.dict = DicomMetaDictionary.denaturalizeDataset(toNaturalized(document));
  return new Uint8Array(file.write());
}

/**
 * The same dataset in DICOM JSON (PS3.18 F.2), as WADO-RS metadata answers it: the elements of
 * `writeResultSr`'s file without its File Meta Information.
 */
export function resultSrDicomJson(document: ResultSrDocument): Record<string, unknown> {
  return DicomMetaDictionary.denaturalizeDataset(toNaturalized(document));
}

function toNaturalized(d: ResultSrDocument): Naturalized {
  const root = d.content;
  return {
    // SOP Common
    SpecificCharacterSet: 'ISO_IR 192',
    SOPClassUID: d.sopClassUid,
    SOPInstanceUID: d.sopInstanceUid,
    InstanceCreationDate: d.contentDate,
    InstanceCreationTime: d.contentTime,
    TimezoneOffsetFromUTC: '+0000',
    CodingSchemeIdentificationSequence: d.privateSchemes.map((s) => ({
      CodingSchemeDesignator: s.designator,
      CodingSchemeName: s.name,
      CodingSchemeResponsibleOrganization: s.responsibleOrganization,
    })),
    // Patient and General Study (Type 2: present, empty when unknown)
    ...patientAndStudy(d.study),
    StudyInstanceUID: d.studyInstanceUid,
    // SR Document Series
    Modality: 'SR',
    SeriesInstanceUID: d.seriesInstanceUid,
    SeriesNumber: String(d.seriesNumber),
    SeriesDescription: d.seriesDescription,
    ReferencedPerformedProcedureStepSequence: [],
    // General Equipment
    Manufacturer: d.manufacturer,
    ManufacturerModelName: d.manufacturer,
    SoftwareVersions: d.softwareVersion,
    // SR Document General
    InstanceNumber: String(d.instanceNumber),
    ContentDate: d.contentDate,
    ContentTime: d.contentTime,
    PreliminaryFlag: d.preliminaryFlag,
    CompletionFlag: d.completionFlag,
    CompletionFlagDescription: d.completionFlagDescription,
    VerificationFlag: d.verificationFlag,
    PerformedProcedureCodeSequence: [],
    CurrentRequestedProcedureEvidenceSequence: d.evidence.map(evidenceItem),
    // Type 1C: present only when the document replaces an earlier one.
    ...(d.predecessors.length === 0 ? {} : { PredecessorDocumentsSequence: d.predecessors.map(evidenceItem) }),
    // SR Document Content: the root container
    ValueType: 'CONTAINER',
    ConceptNameCodeSequence: [codeItem(root.concept)],
    ContinuityOfContent: 'SEPARATE',
    ContentSequence: root.children.map(contentItem),
  };
}

function patientAndStudy(s: StudyIdentity): Naturalized {
  const pn = (value: string | undefined): unknown => (value === undefined ? '' : [{ Alphabetic: value }]);
  return {
    PatientName: pn(s.patientName),
    PatientID: s.patientId ?? '',
    PatientBirthDate: s.patientBirthDate ?? '',
    PatientSex: s.patientSex ?? '',
    StudyDate: s.studyDate ?? '',
    StudyTime: s.studyTime ?? '',
    ReferringPhysicianName: pn(s.referringPhysicianName),
    StudyID: s.studyId ?? '',
    AccessionNumber: s.accessionNumber ?? '',
  };
}

function evidenceItem(study: SrEvidenceStudy): Naturalized {
  return {
    StudyInstanceUID: study.studyInstanceUid,
    ReferencedSeriesSequence: study.series.map((series) => ({
      SeriesInstanceUID: series.seriesInstanceUid,
      ReferencedSOPSequence: series.instances.map((i) => ({ ReferencedSOPClassUID: i.sopClassUid, ReferencedSOPInstanceUID: i.sopInstanceUid })),
    })),
  };
}

/** PS3.3 Table 8.8-1: Code Value holds 16 characters; a longer code goes in Long Code Value. */
function codeItem(code: SrCode): Naturalized {
  return {
    ...(code.value.length > 16 ? { LongCodeValue: code.value } : { CodeValue: code.value }),
    CodingSchemeDesignator: code.scheme,
    CodeMeaning: code.meaning,
  };
}

function contentItem(item: SrContentItem): Naturalized {
  const head: Naturalized = {
    ...(item.relationship === undefined ? {} : { RelationshipType: item.relationship }),
    ValueType: item.valueType,
    ...(item.concept === undefined ? {} : { ConceptNameCodeSequence: [codeItem(item.concept)] }),
  };
  switch (item.valueType) {
    case 'CONTAINER':
      return { ...head, ContinuityOfContent: 'SEPARATE', ContentSequence: item.children.map(contentItem) };
    case 'TEXT':
      return { ...head, TextValue: item.text };
    case 'CODE':
      return {
        ...head,
        ConceptCodeSequence: [codeItem(item.code)],
        ...(item.children === undefined || item.children.length === 0 ? {} : { ContentSequence: item.children.map(contentItem) }),
      };
    case 'NUM':
      return {
        ...head,
        MeasuredValueSequence: [
          {
            MeasurementUnitsCodeSequence: [codeItem(item.units)],
            // DS holds 16 characters; the exact double goes in Floating Point Value (PS3.3 Table C.18.1-1).
            NumericValue: String(Number(item.value.toFixed(6))),
            FloatingPointValue: item.value,
          },
        ],
      };
    case 'UIDREF':
      return { ...head, UID: item.uid };
    case 'IMAGE':
      return {
        ...head,
        ReferencedSOPSequence: [
          {
            ReferencedSOPClassUID: item.sopClassUid,
            ReferencedSOPInstanceUID: item.sopInstanceUid,
            ...(item.frameNumber === undefined ? {} : { ReferencedFrameNumber: String(item.frameNumber) }),
          },
        ],
      };
  }
}
