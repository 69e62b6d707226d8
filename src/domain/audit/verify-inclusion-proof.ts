import type { AuditEntryRecord } from './audit-event.js';
import { canonicalAuditEntry, hashAuditEntryText } from './audit-leaf.js';
import { bytesToHex, hexToBytes } from './hex.js';
import { verifyInclusion, type HashFunction } from './merkle.js';

/**
 * What `verifyInclusionProof` reads of a proof. `InclusionProof` (ports/audit-log.ts) has this shape;
 * it is restated here so the check stays in the pure domain and a CLI or a third party can run it.
 */
export interface InclusionProofClaim<Entry extends AuditEntryRecord = AuditEntryRecord> {
  readonly auditId: string;
  readonly leafIndex: number;
  readonly treeSize: number;
  readonly leafHash: string;
  /** RFC 6962 §2.1.1 audit path, hex, from the leaf's sibling upwards. */
  readonly auditPath: readonly string[];
  readonly rootHash: string;
  readonly treeHead: { readonly treeSize: number; readonly rootHash: string };
  readonly entry: Entry;
}

export type InclusionProofCheck =
  | { readonly ok: true }
  | {
      readonly ok: false;
      /**
       * `malformed`: a hash is not hex of the right length. `entry_mismatch`: the entry's id or index
       * is not the proof's. `leaf_hash_mismatch`: the entry does not hash to `leafHash`.
       * `audit_path_invalid`: the path does not lead from the leaf to `rootHash`.
       * `tree_head_mismatch`: the signed tree head is for another size or root.
       */
      readonly reason: 'malformed' | 'entry_mismatch' | 'leaf_hash_mismatch' | 'audit_path_invalid' | 'tree_head_mismatch';
    };

/**
 * Checks a proof end to end without trusting the log: re-hashes the entry from its content, walks the
 * audit path to the root (RFC 9162 §2.1.3.2) and matches the root with the tree head. It does not
 * check the tree head's Ed25519 signature (that needs a crypto adapter); do that too, against a
 * public key you already trust, not only the one the proof carries.
 *
 * @example
 * const check = verifyInclusionProof(log.prove('a-41'), sha256);
 * if (!check.ok) console.error(`proof rejected: ${check.reason}`);
 */
export function verifyInclusionProof(proof: InclusionProofClaim, sha256: HashFunction): InclusionProofCheck {
  const digestLength = sha256(new Uint8Array(0)).length;
  const parse = (hex: string): Uint8Array | undefined => {
    const bytes = hexToBytes(hex);
    return bytes?.length === digestLength ? bytes : undefined;
  };
  const leafHash = parse(proof.leafHash);
  const rootHash = parse(proof.rootHash);
  const path = proof.auditPath.map(parse);
  if (leafHash === undefined || rootHash === undefined || !path.every((p) => p !== undefined)) return { ok: false, reason: 'malformed' };

  if (proof.entry.auditId !== proof.auditId || proof.entry.index !== proof.leafIndex) return { ok: false, reason: 'entry_mismatch' };
  let recomputed: string;
  try {
    recomputed = bytesToHex(hashAuditEntryText(sha256, canonicalAuditEntry(proof.entry)));
  } catch {
    return { ok: false, reason: 'leaf_hash_mismatch' };
  }
  if (recomputed !== proof.leafHash.toLowerCase()) return { ok: false, reason: 'leaf_hash_mismatch' };
  if (!verifyInclusion(sha256, proof.leafIndex, proof.treeSize, leafHash, path, rootHash)) return { ok: false, reason: 'audit_path_invalid' };
  if (proof.treeHead.treeSize !== proof.treeSize || proof.treeHead.rootHash.toLowerCase() !== proof.rootHash.toLowerCase()) {
    return { ok: false, reason: 'tree_head_mismatch' };
  }
  return { ok: true };
}
