import type { RasterDeclaration } from '../domain/image/image-frame.js';

/** What an upload declares about its images: their kind, and where they come from (for strata). */
export interface StudyDeclaration extends RasterDeclaration {
  /** The sending site's label, chosen by the site (not a patient attribute). */
  readonly site?: string;
  /** The device's label. */
  readonly device?: string;
}

/**
 * Where received instances are kept, de-identified, until (and after) they are judged. Names are the
 * pseudonymous UIDs the de-identifier assigned, so a path identifies nobody.
 */
export interface InstanceStore {
  /**
   * Durably stores an instance (written, synced, then renamed into place): when it resolves `stored`,
   * the bytes survive a crash. `duplicate` when the instance is already held; it is not rewritten.
   */
  put(studyUid: string, sopInstanceUid: string, bytes: Uint8Array, extension?: 'dcm' | 'png' | 'jpg'): Promise<'stored' | 'duplicate'>;
  /** Keeps what an upload declared about its study's images (PNG/JPEG cannot say it themselves), durably. */
  putDeclaration(studyUid: string, declaration: StudyDeclaration): Promise<void>;
  readDeclaration(studyUid: string): Promise<StudyDeclaration | undefined>;
  /**
   * Keeps one instance's patient age in whole years (≥ 90 as 90), derived at the door before
   * de-identification removed what it came from, durably: the only patient attribute kept beside the
   * de-identified instance, for the intended-use gate (docs/deidentification.md).
   */
  putPatientAge(studyUid: string, sopInstanceUid: string, years: number): Promise<void>;
  /** The ages kept for a study's instances, by pseudonymous SOP Instance UID (empty when none). */
  readPatientAges(studyUid: string): Promise<ReadonlyMap<string, number>>;
  /** Pseudonymous SOP Instance UIDs of the DICOM instances stored for a study (none for an unknown study). */
  listDicomInstances(studyUid: string): Promise<readonly string[]>;
  /** The stored image files of a study (DICOM, PNG, JPEG), as paths under `studyLocation`, sorted (none for an unknown study). */
  listImages(studyUid: string): Promise<readonly string[]>;
  /** One stored DICOM instance's bytes (de-identified). */
  readDicomInstance(studyUid: string, sopInstanceUid: string): Promise<Uint8Array>;
  /** The folder holding a study's instances (for the judging workflow). */
  studyLocation(studyUid: string): string;
  /** Free bytes on the store's disk. */
  freeBytes(): Promise<number>;
}
