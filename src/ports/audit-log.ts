import type { AuditEntry, AuditEvent } from '../domain/audit/audit-event.js';
import type { InclusionProofClaim } from '../domain/audit/verify-inclusion-proof.js';

export interface AuditReceipt {
  readonly auditId: string;
  readonly index: number;
  /** Hex RFC 6962 leaf hash of the stored entry. */
  readonly leafHash: string;
  readonly treeSize: number;
  /** Hex Merkle tree root after this append. */
  readonly rootHash: string;
}

export type AuditVerification =
  | { readonly ok: true; readonly treeSize: number; readonly rootHash: string; readonly checkedTreeHeads: number }
  | {
      readonly ok: false;
      readonly treeSize: number;
      /**
       * Zero-based index of the first entry whose content no longer matches what was appended. For a
       * tree head that fails (wrong root or signature) at size s, the change lies somewhere in
       * [firstBadIndex, s), where firstBadIndex is the size of the last tree head that verified (0 if
       * none): no stored data can narrow it further. With a head per append that is exactly s - 1.
       * For `missing_entry` it is the first absent index (= the entry count for a truncated log); for
       * `unsigned_entry` the first entry past the largest signed tree head.
       */
      readonly firstBadIndex: number;
      readonly firstBadAuditId: string;
      /**
       * `unsigned_entry`: entries past the largest signed tree head. A log signs a head with every
       * append, so nothing vouches for such entries: anyone able to write the store could have added them.
       */
      readonly reason: 'leaf_hash_mismatch' | 'tree_head_mismatch' | 'tree_head_signature_invalid' | 'missing_entry' | 'unsigned_entry';
    };

/** An inclusion proof (the claim `verifyInclusionProof` checks) with the signed tree head it leads to. */
export interface InclusionProof extends InclusionProofClaim<AuditEntry> {
  /** Signed tree head for `treeSize`. */
  readonly treeHead: SignedTreeHead;
}

export interface SignedTreeHead {
  readonly treeSize: number;
  readonly rootHash: string;
  readonly time: string;
  /** Ed25519 over `vigil-tree-head:v1:<treeSize>:<rootHash>:<time>`, base64. */
  readonly signature: string;
  /** Ed25519 public key (SPKI DER, base64) to check it with. */
  readonly publicKey: string;
}

/**
 * Append-only, verifiable audit log (RFC 6962-style Merkle tree). Asynchronous, so that a networked
 * store (PostgreSQL) can implement it. `append` returns only once the
 * entry is durable: a caller that got a receipt may report the decision.
 */
export interface AuditLog {
  append(event: AuditEvent): Promise<AuditReceipt>;
  /**
   * Group commit: appends the events in order, atomically (all or none), with one durable write for
   * the lot. The entries, tree heads and receipts are those that appending the events one by one would
   * give (with the same clock readings), so `verify()` and `prove()` cannot tell the difference. An
   * empty list writes nothing and returns [].
   */
  appendMany(events: readonly AuditEvent[]): Promise<AuditReceipt[]>;
  get(auditId: string): Promise<AuditEntry | undefined>;
  size(): Promise<number>;
  verify(): Promise<AuditVerification>;
  prove(auditId: string): Promise<InclusionProof>;
  close(): Promise<void>;
}
