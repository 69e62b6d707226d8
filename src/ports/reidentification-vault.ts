import type { InstanceIdentity } from '../domain/results/result-identity.js';

/**
 * The originals of received instances (UIDs and the study's patient attributes), kept so that a result
 * can go back to the patient's own study. Keyed by the pseudonymous UIDs the de-identifier assigned;
 * encrypted at rest. Only the result workflow reads it; nothing from it is logged, audited or put in
 * an error.
 */
export interface ReidentificationVault {
  /** Keeps the originals of one instance; durable when it resolves. Keeping the same instance again changes nothing. */
  keep(pseudonymous: { readonly studyUid: string; readonly sopInstanceUid: string }, original: InstanceIdentity): Promise<void>;
  /** The originals of a study's instances, by pseudonymous SOP Instance UID. */
  studyOriginals(pseudonymousStudyUid: string): Promise<ReadonlyMap<string, InstanceIdentity>>;
}
