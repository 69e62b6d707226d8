/**
 * Who and what a result is about, as DICOM names them. At ingest Vigil keeps the originals of these
 * (and only these) in the re-identification vault, so that a result sent back to the hospital lands
 * in the patient's own study; everywhere else Vigil holds the pseudonymous values the de-identifier
 * assigned. docs/deidentification.md, "Results back", lists them and says why each is needed.
 */

/** One instance, as an SR references it (PS3.3 C.17.2.1, SOP Instance Reference Macro). */
export interface InstanceReference {
  readonly studyInstanceUid: string;
  readonly seriesInstanceUid: string;
  readonly sopInstanceUid: string;
  readonly sopClassUid: string;
}

/** The Patient and General Study module attributes a result document repeats (all Type 2 there: may be empty). */
export interface StudyIdentity {
  readonly patientName?: string;
  readonly patientId?: string;
  /** DICOM DA, YYYYMMDD. */
  readonly patientBirthDate?: string;
  /** M, F or O. */
  readonly patientSex?: string;
  readonly accessionNumber?: string;
  readonly studyId?: string;
  /** DICOM DA, YYYYMMDD. */
  readonly studyDate?: string;
  /** DICOM TM, HHMMSS(.FFFFFF). */
  readonly studyTime?: string;
  readonly referringPhysicianName?: string;
}

/** What one stored instance says about itself: its reference and its study's identity. */
export interface InstanceIdentity {
  readonly reference: InstanceReference;
  readonly study: StudyIdentity;
}

/** The study-level identity of a set of instances: the first instance that names an attribute wins. */
export function mergeStudyIdentity(instances: readonly InstanceIdentity[]): StudyIdentity {
  const merged: Record<string, string> = {};
  for (const { study } of instances) {
    for (const [key, value] of Object.entries(study) as [string, string | undefined][])
      if (value !== undefined && merged[key] === undefined) merged[key] = value;
  }
  return merged;
}
