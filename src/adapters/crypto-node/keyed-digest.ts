import { createHmac } from 'node:crypto';
import type { KeyedDigest } from '../../domain/deidentification/keyed-pseudonyms.js';

/**
 * HMAC-SHA-256 with the site secret, domain-separated: the message is "vigil:deid:v1:<purpose>\0<value>".
 * The study key of `vigil predict` is derived from it too (pseudonymousStudyKey), so both name a study alike.
 */
export function createKeyedDigest(secret: Uint8Array): KeyedDigest {
  return (purpose, value) => createHmac('sha256', secret).update(`vigil:deid:v1:${purpose}\0`).update(value, 'latin1').digest();
}
