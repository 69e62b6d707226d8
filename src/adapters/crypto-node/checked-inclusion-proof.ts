import type { AuditEntry } from '../../domain/audit/audit-event.js';
import { auditIdDetails, treeHeadMessage } from '../../domain/audit/audit-log-scan.js';
import { verifyInclusionProof } from '../../domain/audit/verify-inclusion-proof.js';
import { PlatformError } from '../../domain/errors.js';
import type { InclusionProof } from '../../ports/audit-log.js';
import type { AuditSigningKey } from './audit-signing-key.js';
import { sha256 } from './sha256.js';

/** The latest signed tree head as a store reads it back. */
export interface StoredTreeHead {
  readonly treeSize: number;
  readonly rootHash: Uint8Array;
  readonly time: string;
  readonly signature: Uint8Array;
}

/** An RFC 6962 audit path built over the stored leaf hashes (domain/audit/merkle.ts). */
export interface BuiltAuditPath {
  readonly leafHash: Uint8Array;
  readonly auditPath: readonly Uint8Array[];
  readonly rootHash: Uint8Array;
}

const hex = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');

/**
 * The inclusion proof of one entry, checked before it is handed out, the same for every store: the
 * stored leaf hashes must reproduce the signed root, the entry must hash to its leaf, and the tree
 * head's signature must verify under the log's key. Throws AUDIT_VERIFY_FAILED otherwise.
 */
export function checkedInclusionProof(
  auditId: string,
  leafIndex: number,
  entry: AuditEntry,
  head: StoredTreeHead,
  built: BuiltAuditPath,
  key: AuditSigningKey,
): InclusionProof {
  const proof: InclusionProof = {
    auditId,
    leafIndex,
    treeSize: head.treeSize,
    leafHash: hex(built.leafHash),
    auditPath: built.auditPath.map(hex),
    rootHash: hex(built.rootHash),
    treeHead: {
      treeSize: head.treeSize,
      rootHash: hex(head.rootHash),
      time: head.time,
      signature: Buffer.from(head.signature.buffer, head.signature.byteOffset, head.signature.byteLength).toString('base64'),
      publicKey: key.publicKeyBase64,
    },
    entry,
  };
  const check = verifyInclusionProof(proof, sha256);
  if (!check.ok) {
    throw new PlatformError('AUDIT_VERIFY_FAILED', 'The stored log does not reproduce its signed tree head; run verify', {
      ...auditIdDetails(auditId),
      reason: check.reason,
    });
  }
  if (!key.verify(treeHeadMessage(head.treeSize, head.rootHash, head.time), head.signature)) {
    throw new PlatformError('AUDIT_VERIFY_FAILED', 'The latest tree head signature is invalid; run verify', {
      ...auditIdDetails(auditId),
      reason: 'tree_head_signature_invalid',
    });
  }
  return proof;
}
