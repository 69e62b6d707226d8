/**
 * DICOM File-set directories (DICOMDIR) and the Directory Structuring Elements of group 0004.
 *
 * A DICOMDIR is the Basic Directory IOD (PS3.3 Annex F, Media Storage Directory Storage), not a composite
 * instance: PS3.15 Annex E's profile does not describe it. It holds the identity of every patient on the
 * medium in its directory records, the file names in Referenced File ID (0004,1500) (media writers often
 * name folders after the Patient ID or name), and byte offsets between records (0004,1200/1202/1400/1420)
 * that break when any value before them changes length. Its File IDs must also name files in PS3.10 8.5
 * form (up to 8 components of 8 characters A-Z, 0-9, _), which the pseudonymous output names are not. So it
 * is refused, never "de-identified" element by element; a new one is built for the released files
 * (docs/deidentification.md, "DICOMDIR").
 */
import { PlatformError } from '../errors.js';
import { DEID_TAG, textOf, type DeidDataset } from './deid-dataset.js';

/** PS3.4 / PS3.6 Annex A: Media Storage Directory Storage (the DICOMDIR). */
export const MEDIA_STORAGE_DIRECTORY_STORAGE = '1.2.840.10008.1.3.10';

/** (0004,1200) Offset of the First Directory Record of the Root Directory Entity: Type 1 in the Basic Directory IOD. */
const OFFSET_OF_FIRST_ROOT_RECORD = 0x00041200;
/** (0004,1220) Directory Record Sequence: Type 2 in the Basic Directory IOD. */
const DIRECTORY_RECORD_SEQUENCE = 0x00041220;

/** Group 0004: the File-set and Directory Structuring Elements (PS3.6 Table 7-1, PS3.3 F.3). */
export function isDirectoryElement(tag: number): boolean {
  return tag >>> 16 === 0x0004;
}

/**
 * Throws DEID_DICOMDIR_UNSUPPORTED for a DICOMDIR, whether the File Meta says so (Media Storage SOP Class
 * UID) or the dataset does (its SOP Class UID, or the Directory Information module without any meta group).
 */
export function refuseDirectory(mediaStorageSopClassUid: string | undefined, dataset: DeidDataset): void {
  const isDirectory =
    mediaStorageSopClassUid?.replace(/[\0 ]+$/, '') === MEDIA_STORAGE_DIRECTORY_STORAGE ||
    textOf(dataset, DEID_TAG.SOPClassUID) === MEDIA_STORAGE_DIRECTORY_STORAGE ||
    dataset.some((e) => e.tag === DIRECTORY_RECORD_SEQUENCE || e.tag === OFFSET_OF_FIRST_ROOT_RECORD);
  if (isDirectory) {
    throw new PlatformError(
      'DEID_DICOMDIR_UNSUPPORTED',
      'The file is a DICOMDIR (Media Storage Directory): it is not de-identified or copied; build a new one for the released files (docs/deidentification.md, "DICOMDIR")',
      {},
    );
  }
}
