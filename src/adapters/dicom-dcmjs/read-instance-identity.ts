/**
 * Reads what a result needs to name an instance and its study (domain/results/result-identity.ts): the
 * header only, up to Pixel Data, with the same structural checks and limits as the reader. Strings are
 * decoded in the file's character set (Specific Character Set), so a name in Latin-1 or UTF-8 comes back
 * as the same text. Used at ingest on the bytes as received (for the re-identification vault) and on
 * stored, de-identified instances (for pseudonymous results). Never logs; errors carry no value.
 */
import type { DeidDataset } from '../../domain/deidentification/deid-dataset.js';
import type { InstanceIdentity, StudyIdentity } from '../../domain/results/result-identity.js';
import { PIXEL_DATA_TAG, scanDataset, type ElementSyntax } from './internal/dataset-scanner.js';
import { writeDataset } from './internal/deid-codec.js';
import { dicomError, toDicomError } from './internal/dicom-error.js';
import { dictionaryVr } from './internal/dictionary.js';
import { decodeElements, firstString } from './internal/element-values.js';
import { locateDataset } from './internal/part10.js';

const TAGS = {
  SpecificCharacterSet: 0x00080005,
  StudyDate: 0x00080020,
  StudyTime: 0x00080030,
  AccessionNumber: 0x00080050,
  SOPClassUID: 0x00080016,
  SOPInstanceUID: 0x00080018,
  ReferringPhysicianName: 0x00080090,
  PatientName: 0x00100010,
  PatientID: 0x00100020,
  PatientBirthDate: 0x00100030,
  PatientSex: 0x00100040,
  StudyInstanceUID: 0x0020000d,
  SeriesInstanceUID: 0x0020000e,
  StudyID: 0x00200010,
} as const;

/** Header bytes are bounded by the file; a deflated dataset may inflate to at most this. */
const MAX_INFLATED_BYTES = 1024 ** 3;

/**
 * @throws PlatformError DICOM_PARSE_FAILED when the header cannot be read or lacks a Study, Series,
 *   SOP Instance or SOP Class UID (a result could not reference the instance).
 */
export function readInstanceIdentity(bytes: Uint8Array): InstanceIdentity {
  let located: ReturnType<typeof locateDataset>;
  try {
    located = locateDataset(bytes, MAX_INFLATED_BYTES);
  } catch (error) {
    throw toDicomError(error, 'DICOM_PARSE_FAILED', 'The DICOM header could not be read');
  }
  return identityOfDataset(located.dataset, located.syntax, located.mediaStorageSopInstanceUid);
}

const IDENTITY_TAGS: ReadonlySet<number> = new Set(Object.values(TAGS));

/**
 * The same, from a dataset the de-identifier has already walked (internal/deid-codec.ts) before it
 * changed anything, so that ingest reads each instance once. Only the few identity elements are
 * written back (their values are carried byte for byte) and decoded exactly as above.
 *
 * @throws PlatformError DICOM_PARSE_FAILED as `readInstanceIdentity`.
 */
export function readInstanceIdentityOfParsed(parsed: {
  readonly dataset: DeidDataset;
  readonly syntax: ElementSyntax;
  readonly mediaStorageSopInstanceUid?: string;
}): InstanceIdentity {
  let header: Uint8Array;
  try {
    header = writeDataset(
      parsed.dataset.filter((e) => IDENTITY_TAGS.has(e.tag) && e.value.kind !== 'sequence'),
      parsed.syntax,
    );
  } catch (error) {
    throw toDicomError(error, 'DICOM_PARSE_FAILED', 'The DICOM header could not be read');
  }
  return identityOfDataset(header, parsed.syntax, parsed.mediaStorageSopInstanceUid);
}

function identityOfDataset(dataset: Uint8Array, syntax: ElementSyntax, mediaStorageSopInstanceUid: string | undefined): InstanceIdentity {
  let values: ReadonlyMap<number, readonly unknown[]>;
  try {
    const top = scanDataset(dataset, {
      syntax,
      keepSequences: new Set(),
      dictionaryVr,
      maxSequenceDepth: 32,
      maxFragments: 1 << 20,
      stopAfterTag: PIXEL_DATA_TAG,
    });
    values = decodeElements(dataset, top, Object.values(TAGS));
  } catch (error) {
    throw toDicomError(error, 'DICOM_PARSE_FAILED', 'The DICOM header could not be read');
  }
  const text = (tag: number): string | undefined => firstString(values.get(tag));
  const studyInstanceUid = text(TAGS.StudyInstanceUID);
  const seriesInstanceUid = text(TAGS.SeriesInstanceUID);
  const sopInstanceUid = text(TAGS.SOPInstanceUID) ?? mediaStorageSopInstanceUid;
  const sopClassUid = text(TAGS.SOPClassUID);
  if (studyInstanceUid === undefined || seriesInstanceUid === undefined || sopInstanceUid === undefined || sopClassUid === undefined) {
    throw dicomError('DICOM_PARSE_FAILED', 'The instance lacks a Study, Series, SOP Instance or SOP Class UID');
  }
  const study: Record<keyof StudyIdentity, string | undefined> = {
    patientName: personName(values.get(TAGS.PatientName)),
    patientId: text(TAGS.PatientID),
    patientBirthDate: text(TAGS.PatientBirthDate),
    patientSex: text(TAGS.PatientSex),
    accessionNumber: text(TAGS.AccessionNumber),
    studyId: text(TAGS.StudyID),
    studyDate: text(TAGS.StudyDate),
    studyTime: text(TAGS.StudyTime),
    referringPhysicianName: personName(values.get(TAGS.ReferringPhysicianName)),
  };
  return {
    reference: { studyInstanceUid, seriesInstanceUid, sopInstanceUid, sopClassUid },
    study: Object.fromEntries(Object.entries(study).filter(([, v]) => v !== undefined)),
  };
}

/** dcmjs gives a PN as { Alphabetic, Ideographic, Phonetic }; DICOM writes the groups joined by '='. */
function personName(values: readonly unknown[] | undefined): string | undefined {
  const value = values?.[0];
  if (typeof value === 'string') return firstString([value]);
  if (value === null || typeof value !== 'object') return undefined;
  const { Alphabetic, Ideographic, Phonetic } = value as Record<string, unknown>;
  const groups = [Alphabetic, Ideographic, Phonetic].map((g) => (typeof g === 'string' ? g : ''));
  while (groups.length > 1 && groups[groups.length - 1] === '') groups.pop();
  return firstString([groups.join('=')]);
}
