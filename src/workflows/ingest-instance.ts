import { isPlatformError, toPlatformError } from '../domain/errors.js';
import type { InstanceStore } from '../ports/instance-store.js';
import type { Logger } from '../ports/logger.js';
import type { StudyRegistry } from '../ports/study-registry.js';
import type { InstanceIdentity } from '../domain/results/result-identity.js';
import type { ReidentificationVault } from '../ports/reidentification-vault.js';
import type { DeidStudyFacts } from '../ports/dicom-deidentifier.js';

export interface DeidentifiedInstance {
  /** Pseudonymous (2.25) UIDs assigned by the de-identifier. */
  readonly studyUid: string;
  readonly sopInstanceUid: string;
  readonly bytes: Uint8Array;
  /** What the instance said about itself before de-identification, when results are re-identified. */
  readonly original?: InstanceIdentity;
  /** The patient's age in whole years (≥ 90 as 90), derived before de-identification; absent when unknown. */
  readonly patientAgeYears?: number;
  /** The Accession Number's lookup key and the de-identified Study Date and Modality (ports/dicom-deidentifier.ts). */
  readonly studyFacts?: DeidStudyFacts;
}

/** Who sent an instance, when it came over HTTP: the surrogate id of the authenticated user. */
export interface IngestSender {
  readonly senderId?: string;
  /** The configured site it came from (workflows/arrival-sites.ts). */
  readonly site?: string;
}

export interface IngestDependencies {
  /** De-identification at the door with the ingest profile; throws DICOM_ or DEID_ codes for what it cannot read. */
  readonly deidentify: (bytes: Uint8Array) => Promise<DeidentifiedInstance>;
  /** The pseudonymous study key for a de-identified Study Instance UID (the same key predict and the audit log use). */
  readonly studyKeyOf: (studyUid: string) => string;
  readonly instances: InstanceStore;
  readonly studies: StudyRegistry;
  readonly logger: Logger;
  /** Below this much free space on the store's disk, new instances are refused (nothing accepted is lost). */
  readonly minFreeBytes: number;
  /** Where originals go when results are re-identified (VIGIL_RESULTS_REIDENTIFY). */
  readonly vault?: ReidentificationVault;
}

export type IngestOutcome =
  | {
      readonly status: 'stored' | 'duplicate';
      readonly studyKey: string;
      /** The instance's pseudonymous (2.25) Study and SOP Instance UIDs, as stored. */
      readonly studyUid: string;
      readonly sopInstanceUid: string;
    }
  | { readonly status: 'refused'; readonly reason: 'out_of_resources' | 'cannot_understand'; readonly code: string };

/**
 * Takes one received instance (C-STORE, STOW-RS or upload): de-identifies it before anything is kept,
 * stores it durably, and records it in its study. Only when this resolves `stored` or `duplicate` may
 * the sender be told it was received. A full disk or an unreadable file is refused with a reason;
 * anything else throws, and the sender is told the processing failed (so it keeps and resends it).
 */
export async function ingestInstance(deps: IngestDependencies, bytes: Uint8Array, sender: IngestSender = {}): Promise<IngestOutcome> {
  if ((await deps.instances.freeBytes()) < deps.minFreeBytes) {
    deps.logger.warn({ stage: 'ingest', code: 'STORE_DISK_FULL', status: 'refused' }, 'instance refused: disk nearly full');
    return { status: 'refused', reason: 'out_of_resources', code: 'STORE_DISK_FULL' };
  }
  let instance: DeidentifiedInstance;
  try {
    instance = await deps.deidentify(bytes);
  } catch (cause) {
    const error = toPlatformError(cause);
    if (error.code.startsWith('DICOM_') || error.code.startsWith('DEID_') || error.code === 'INPUT_FORMAT_UNKNOWN') {
      deps.logger.info({ stage: 'ingest', code: error.code, status: 'refused' }, 'instance refused: cannot be read');
      return { status: 'refused', reason: 'cannot_understand', code: error.code };
    }
    throw error;
  }
  const studyKey = deps.studyKeyOf(instance.studyUid);
  // Kept before the instance is stored: a stored instance always has its originals, and a crash in
  // between is repaired by the sender's resend (keeping the same instance again changes nothing).
  if (instance.original !== undefined && deps.vault !== undefined) {
    await deps.vault.keep({ studyUid: instance.studyUid, sopInstanceUid: instance.sopInstanceUid }, instance.original);
  }
  // The age too: the intended-use gate needs it when the study is judged, and the stored instance no
  // longer says it. Kept before the instance, for the same reason as the originals.
  if (instance.patientAgeYears !== undefined) {
    await deps.instances.putPatientAge(instance.studyUid, instance.sopInstanceUid, instance.patientAgeYears);
  }
  let stored: 'stored' | 'duplicate';
  try {
    stored = await deps.instances.put(instance.studyUid, instance.sopInstanceUid, instance.bytes);
  } catch (cause) {
    if (isPlatformError(cause) && cause.details.diskFull === true) {
      deps.logger.warn({ stage: 'ingest', studyKey, code: cause.code, status: 'refused' }, 'instance refused: disk full');
      return { status: 'refused', reason: 'out_of_resources', code: cause.code };
    }
    throw cause;
  }
  // Recorded for a duplicate too: a crash between storing and recording is repaired by the resend.
  await deps.studies.recordInstance(studyKey, instance.studyUid, instance.sopInstanceUid, { ...instance.studyFacts, ...sender });
  deps.logger.info({ stage: 'ingest', studyKey, status: stored }, 'instance received');
  return { status: stored, studyKey, studyUid: instance.studyUid, sopInstanceUid: instance.sopInstanceUid };
}
