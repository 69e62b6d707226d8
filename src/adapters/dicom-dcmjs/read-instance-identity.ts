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
import {
  DEFAULT_INFLATE_LIMITS,
  correctVrEncoding,
  locateDataset,
  readPart10Header,
  type InflateLimits,
  type LocatedDataset,
  type Part10Header,
} from './internal/part10.js';

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

/**
 * @throws PlatformError DICOM_PARSE_FAILED when the header cannot be read or lacks a Study, Series,
 *   SOP Instance or SOP Class UID (a result could not reference the instance); DICOM_INFLATE_LIMIT_EXCEEDED
 *   when a Deflated dataset inflates beyond `inflate`.
 */
export async function readInstanceIdentity(bytes: Uint8Array, inflate: InflateLimits = DEFAULT_INFLATE_LIMITS): Promise<InstanceIdentity> {
  let located: LocatedDataset;
  try {
    located = await locateDataset(bytes, inflate);
  } catch (error) {
    throw toDicomError(error, 'DICOM_PARSE_FAILED', 'The DICOM header could not be read');
  }
  return identityOfDataset(located.dataset, located.syntax, located.mediaStorageSopInstanceUid);
}

/** What a sender said an instance is, to answer it (a STOW-RS response names them); both absent when unknown. */
export interface SentIdentity {
  readonly sopClassUid?: string;
  readonly sopInstanceUid?: string;
}

/**
 * The SOP Class and Instance UIDs of an instance as received, never inflating it: from the dataset's
 * header when it is not deflated, else (and for what the header lacks) from the File Meta Information,
 * whose (0002,0002) and (0002,0003) PS3.10 7.1 requires to be the same. A deflated instance is inflated
 * once, by the de-identification that ingests it, not a second time just to name it. Never throws.
 */
export function readSentIdentity(bytes: Uint8Array): SentIdentity {
  let header: Part10Header;
  try {
    header = readPart10Header(bytes);
  } catch {
    return {};
  }
  let values: ReadonlyMap<number, readonly unknown[]> = new Map();
  if (!header.transferSyntax.deflated) {
    try {
      const syntax = correctVrEncoding(header.body, header.transferSyntax);
      const top = scanDataset(header.body, {
        syntax,
        keepSequences: new Set(),
        dictionaryVr,
        maxSequenceDepth: 32,
        maxFragments: 1 << 20,
        stopAfterTag: PIXEL_DATA_TAG,
      });
      values = decodeElements(header.body, top, [TAGS.SOPClassUID, TAGS.SOPInstanceUID]);
    } catch {
      // A dataset that cannot be read is refused by ingest; the meta group may still name it.
    }
  }
  const sopClassUid = firstString(values.get(TAGS.SOPClassUID)) ?? header.mediaStorageSopClassUid;
  const sopInstanceUid = firstString(values.get(TAGS.SOPInstanceUID)) ?? header.mediaStorageSopInstanceUid;
  return {
    ...(sopClassUid === undefined || sopClassUid === '' ? {} : { sopClassUid }),
    ...(sopInstanceUid === undefined || sopInstanceUid === '' ? {} : { sopInstanceUid }),
  };
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
