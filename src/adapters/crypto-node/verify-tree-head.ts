import { createPublicKey, verify } from 'node:crypto';
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
