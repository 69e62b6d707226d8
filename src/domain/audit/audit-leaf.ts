import type { AuditEntryRecord } from './audit-event.js';
import { canonicalJson } from './canonical-json.js';
import { hashLeaf, type HashFunction } from './merkle.js';

/** The audit id of leaf `index`: `a-` + the zero-based index (see `AuditEntry.auditId`). */
export function formatAuditId(index: number): string {
  return `a-${index}`;
}

/**
 * The canonical JSON text of an entry: what a log stores and what its leaf hashes. Built from the
 * four fields by name, so a property that is not part of an entry can never reach the hash.
 */
export function canonicalAuditEntry(entry: AuditEntryRecord): string {
  return canonicalJson({ auditId: entry.auditId, index: entry.index, time: entry.time, event: entry.event });
}

const utf8 = new TextEncoder();

/** The RFC 6962 leaf hash of an entry: HASH(0x00 || UTF-8(canonical JSON)). */
export function hashAuditEntry(hash: HashFunction, entry: AuditEntryRecord): Uint8Array {
  return hashAuditEntryText(hash, canonicalAuditEntry(entry));
}

export function hashAuditEntryText(hash: HashFunction, canonicalText: string): Uint8Array {
  return hashLeaf(hash, utf8.encode(canonicalText));
}

/**
 * The exact text a tree head's Ed25519 signature covers (`SignedTreeHead.signature`). The version tag
 * keeps a signature from ever being valid for another message format.
 */
export function formatTreeHeadSigningInput(treeSize: number, rootHashHex: string, time: string): string {
  return `vigil-tree-head:v1:${treeSize}:${rootHashHex}:${time}`;
}
