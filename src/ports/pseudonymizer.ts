/**
 * Keyed, deterministic pseudonyms made with the site secret. The same input always gives the same
 * key at one site; without the secret, a key cannot be linked back to the identifier.
 */
export interface Pseudonymizer {
  /** Pseudonymous key for a study, from its Study Instance UID (or, for an image without one, its content hash). */
  studyKey(identifier: string): string;
}
