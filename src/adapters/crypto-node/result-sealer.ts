import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { PlatformError } from '../../domain/errors.js';
import type { Sealer } from '../../ports/sealer.js';

/** Format version (first byte), so that a later key or cipher change can tell old rows from new. */
const VERSION = 1;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

/**
 * AES-256-GCM with a key derived from the site secret by HKDF-SHA-256 (RFC 5869; info "vigil-reidentification",
 * no salt: the secret is already uniformly random), so the vault key is separate from the pseudonym key
 * and never stored. Sealed form: version ‖ 96-bit random nonce ‖ ciphertext ‖ 128-bit tag. Random nonces
 * are safe for far more than 2³² records under one key (NIST SP 800-38D 8.3), more than a site sends.
 */
export function createResultSealer(siteSecret: Uint8Array, info = 'vigil-reidentification'): Sealer {
  const key = Buffer.from(hkdfSync('sha256', siteSecret, new Uint8Array(0), info, 32));
  return {
    seal(plaintext, context) {
      const nonce = randomBytes(NONCE_BYTES);
      const cipher = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
      cipher.setAAD(Buffer.from(context, 'utf8'));
      const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
      return Buffer.concat([Buffer.of(VERSION), nonce, body, cipher.getAuthTag()]);
    },
    open(sealed, context) {
      if (sealed.length < 1 + NONCE_BYTES + TAG_BYTES || sealed[0] !== VERSION) {
        throw new PlatformError('RESULT_IDENTITY_UNAVAILABLE', 'A sealed record has an unknown format');
      }
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(1, 1 + NONCE_BYTES), { authTagLength: TAG_BYTES });
        decipher.setAAD(Buffer.from(context, 'utf8'));
        decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
        return Buffer.concat([decipher.update(sealed.subarray(1 + NONCE_BYTES, sealed.length - TAG_BYTES)), decipher.final()]);
      } catch (cause) {
        throw new PlatformError('RESULT_IDENTITY_UNAVAILABLE', 'A sealed record does not open: altered, or sealed under another site secret', {}, { cause });
      }
    },
  };
}
