import { createPublicKey, verify } from 'node:crypto';
import { PlatformError } from '../../domain/errors.js';
import { formatTreeHeadSigningInput } from '../../domain/audit/audit-leaf.js';
import type { SignedTreeHead } from '../../ports/audit-log.js';

/**
 * Checks a signed tree head's Ed25519 signature against `trustedPublicKey` (SPKI DER, base64), or
 * against the key the head carries when none is given (which proves only self-consistency).
 */
export function verifyTreeHeadSignature(head: SignedTreeHead, trustedPublicKey: string = head.publicKey): boolean {
  try {
    const key = createPublicKey({ key: Buffer.from(trustedPublicKey, 'base64'), format: 'der', type: 'spki' });
    const message = Buffer.from(formatTreeHeadSigningInput(head.treeSize, head.rootHash, head.time), 'utf8');
    return verify(null, message, key, Buffer.from(head.signature, 'base64'));
  } catch {
    return false;
  }
}

/**
 * An Ed25519 public key given as PEM (SPKI, as `vigil audit public-key` prints it), as the SPKI DER
 * base64 `verifyTreeHeadSignature` takes. CLI_USAGE when it is not one.
 */
export function publicKeyFromPem(pem: string): string {
  try {
    const key = createPublicKey({ key: pem, format: 'pem' });
    if (key.asymmetricKeyType !== 'ed25519') throw new Error(`a ${key.asymmetricKeyType ?? 'unknown'} key`);
    return key.export({ type: 'spki', format: 'der' }).toString('base64');
  } catch (cause) {
    throw new PlatformError('CLI_USAGE', 'The public key is not an Ed25519 public key in PEM (as vigil audit public-key prints it)', {}, { cause });
  }
}
