import { pseudonymousStudyKey, type KeyedDigest } from '../../domain/deidentification/keyed-pseudonyms.js';
import { createKeyedDigest } from './keyed-digest.js';
import type { Pseudonymizer } from '../../ports/pseudonymizer.js';

/** HMAC-SHA-256 with the site secret, domain-separated by purpose (see keyed-digest.ts). */
export class HmacPseudonymizer implements Pseudonymizer {
  readonly #digest: KeyedDigest;

  constructor(secret: Uint8Array) {
    this.#digest = createKeyedDigest(secret);
  }

  /**
   * Since issue 3 the study key is the de-identifier's pseudonymous Study Instance UID in hex
   * (domain/deidentification/keyed-pseudonyms.ts, pseudonymousStudyKey), so audit entries and `vigil deid`
   * outputs name a study the same way. The earlier 'vigil:study:v1' derivation is no longer used.
   */
  studyKey(identifier: string): string {
    return pseudonymousStudyKey(this.#digest, identifier);
  }
}
