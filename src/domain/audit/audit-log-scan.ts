/**
 * What every audit log store does the same way, whatever holds its rows (SQLite, PostgreSQL): the
 * check of a stored log in one pass (`AuditLogScan`), and the few helpers around a stored entry.
 * Stores read rows their own way (synchronously, or page by page over a network) and feed them in.
 */
import { PlatformError } from '../errors.js';
import type { AuditEntry } from './audit-event.js';
import { canonicalAuditEntry, formatAuditId, formatTreeHeadSigningInput, hashAuditEntryText } from './audit-leaf.js';
import { bytesToHex } from './hex.js';
import { CompactRange, equalBytes, type HashFunction } from './merkle.js';

/** One stored row of the entries table. */
export interface StoredAuditEntry {
  readonly idx: number;
  readonly auditId: string;
  readonly time: string;
  readonly type: string;
  readonly body: string;
  readonly leafHash: Uint8Array;
}

/** One stored signed tree head. */
export interface StoredTreeHead {
  readonly treeSize: number;
  readonly rootHash: Uint8Array;
  readonly time: string;
  readonly signature: Uint8Array;
}

/**
 * Checks tree head signatures in order, possibly in the background (the SQLite adapter's
 * SignatureBatch): `add` returns false once a queued signature is known to be invalid.
 */
export interface TreeHeadSignatureChecks {
  add(id: number, message: Uint8Array, signature: Uint8Array): boolean;
  finish():
    { readonly kind: 'valid' } | { readonly kind: 'invalid'; readonly invalidId: number; readonly previousId: number } | { readonly kind: 'incomplete' };
}

export type AuditScanFailureReason = 'leaf_hash_mismatch' | 'tree_head_mismatch' | 'tree_head_signature_invalid' | 'missing_entry' | 'unsigned_entry';

/** The same shape as the port's `AuditVerification` (ports/audit-log.ts documents each field). */
export type AuditScanResult =
  | { readonly ok: true; readonly treeSize: number; readonly rootHash: string; readonly checkedTreeHeads: number }
  | {
      readonly ok: false;
      readonly treeSize: number;
      readonly firstBadIndex: number;
      readonly firstBadAuditId: string;
      readonly reason: AuditScanFailureReason;
    };

/**
 * One pass over a stored log in log order: entry i, then the tree heads of size i + 1. It trusts
 * nothing stored but the key behind `signatures`: it re-derives every leaf from its body, the root
 * at every head's size, and checks each head's signature. Each problem gets a position in that order
 * and the earliest is reported:
 * - `missing_entry` at i: no entry i although a later entry or a signed tree head implies one.
 * - `leaf_hash_mismatch` at i: entry i's body is not valid canonical JSON of an entry, disagrees with
 *   its idx/audit id/time/type columns, or does not hash to its stored leaf hash.
 * - `tree_head_signature_invalid` / `tree_head_mismatch` for a head of size s: reported at the size of
 *   the last head that verified (see `AuditVerification.firstBadIndex`); at the same head an invalid
 *   signature comes first (a head that is not authentic says nothing about the entries).
 * - `unsigned_entry` at i: entries from i on are past the largest signed tree head.
 *
 * The driver feeds entries in idx order with `addEntry`, and after each one every head whose size is
 * at most `size` with `addHead`, stopping when either returns false; then calls `finish`.
 *
 * @example
 *   const scan = new AuditLogScan(sha256, claimedSize, key.startBatch());
 *   for (const row of entries) { if (!scan.addEntry(row)) break; while (head && head.treeSize <= scan.size) … }
 *   const result = scan.finish(head !== undefined); // undefined: scan again without a worker
 */
export class AuditLogScan {
  readonly #hash: HashFunction;
  readonly #claimedSize: number;
  readonly #signatures: TreeHeadSignatureChecks;
  readonly #range: CompactRange;
  #problem: { order: number; reason: AuditScanFailureReason; index: number } | undefined;
  #verifiedSize = 0;
  #checkedTreeHeads = 0;

  /** `claimedSize`: the size the store claims (the larger of its highest entry index + 1 and its largest signed tree head). */
  constructor(hash: HashFunction, claimedSize: number, signatures: TreeHeadSignatureChecks) {
    this.#hash = hash;
    this.#claimedSize = claimedSize;
    this.#signatures = signatures;
    this.#range = new CompactRange(hash);
  }

  /** Entries checked so far (the next entry must have this idx). */
  get size(): number {
    return this.#range.size;
  }

  /** Adds the next stored entry; false when the scan found a problem and reading should stop. */
  addEntry(row: StoredAuditEntry): boolean {
    const index = this.#range.size;
    if (row.idx !== index) {
      this.#problem = { order: entryOrder(index), reason: 'missing_entry', index };
      return false;
    }
    const leafHash = recomputeLeafHash(this.#hash, index, row.auditId, row.time, row.type, row.body);
    if (leafHash === undefined || !equalBytes(leafHash, row.leafHash)) {
      this.#problem = { order: entryOrder(index), reason: 'leaf_hash_mismatch', index };
      return false;
    }
    this.#range.append(leafHash);
    return true;
  }

  /** Adds the next stored tree head (its size at most `size`); false when reading should stop. */
  addHead(head: StoredTreeHead): boolean {
    if (!this.#signatures.add(head.treeSize, treeHeadMessage(head.treeSize, head.rootHash, head.time), head.signature)) return false;
    // (A head below the current size can only be one whose `tree_size >= 1` check was bypassed.)
    if (head.treeSize !== this.#range.size || !equalBytes(this.#range.root(), head.rootHash)) {
      this.#problem = { order: headOrder(head.treeSize), reason: 'tree_head_mismatch', index: this.#verifiedSize };
      return false;
    }
    this.#verifiedSize = head.treeSize;
    this.#checkedTreeHeads++;
    return true;
  }

  /**
   * The outcome, once entries ran out or a stop was asked for. `headsLeft`: a stored head was not
   * added (it lies past the entries). Undefined when the background signature checks failed: nothing
   * can be said, scan again with checks on the calling thread.
   */
  finish(headsLeft: boolean): AuditScanResult | undefined {
    let problem = this.#problem;
    const size = this.#range.size;
    if (problem === undefined && headsLeft) problem = { order: entryOrder(size), reason: 'missing_entry', index: size };
    if (problem === undefined && this.#verifiedSize < size) problem = { order: entryOrder(size), reason: 'unsigned_entry', index: this.#verifiedSize };

    const checked = this.#signatures.finish();
    if (checked.kind === 'incomplete') return undefined;
    if (checked.kind === 'invalid' && (problem === undefined || headOrder(checked.invalidId) <= problem.order)) {
      return this.#fail('tree_head_signature_invalid', checked.previousId);
    }
    if (problem !== undefined) return this.#fail(problem.reason, problem.index);
    return { ok: true, treeSize: size, rootHash: bytesToHex(this.#range.root()), checkedTreeHeads: this.#checkedTreeHeads };
  }

  #fail(reason: AuditScanFailureReason, index: number): AuditScanResult {
    return { ok: false, treeSize: this.#claimedSize, firstBadIndex: index, firstBadAuditId: formatAuditId(index), reason };
  }
}

// Order of a check in the pass: entry i at 2i, a head of size s at 2(s - 1) + 1.
const entryOrder = (index: number): number => 2 * index;
const headOrder = (treeSize: number): number => 2 * (treeSize - 1) + 1;

/**
 * The leaf hash entry `index` must have, derived from its body alone; undefined when the body is not
 * the canonical JSON of an entry, or disagrees with the row's other columns.
 */
export function recomputeLeafHash(hash: HashFunction, index: number, auditId: string, time: string, type: string, body: string): Uint8Array | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (!isEntryShaped(parsed)) return undefined;
  if (parsed.index !== index || parsed.auditId !== auditId || auditId !== formatAuditId(index) || parsed.time !== time || parsed.event.type !== type)
    return undefined;
  try {
    // Compare text, not only hashes: a body re-serialised differently (spaces, key order) is an edit too.
    if (canonicalAuditEntry(parsed) !== body) return undefined;
  } catch {
    return undefined;
  }
  return hashAuditEntryText(hash, body);
}

function isEntryShaped(value: unknown): value is AuditEntry {
  if (typeof value !== 'object' || value === null) return false;
  const event = (value as { event?: unknown }).event;
  return typeof event === 'object' && event !== null && typeof (event as { type?: unknown }).type === 'string';
}

/** A stored body as an entry; `AUDIT_VERIFY_FAILED` when it is not one (run verify to find out more). */
export function parseAuditEntryBody(body: string): AuditEntry {
  try {
    const parsed: unknown = JSON.parse(body);
    if (isEntryShaped(parsed)) return parsed;
  } catch {
    // Reported below.
  }
  throw new PlatformError('AUDIT_VERIFY_FAILED', 'A stored audit entry is not valid JSON; run verify', {});
}

/**
 * Error details may be logged, and `auditId` comes from the caller (an API path, a CLI argument):
 * echo it only when it has the shape of an audit id, so that a mistyped patient name never reaches a log.
 */
export function auditIdDetails(auditId: string): { auditId: string } | Record<string, never> {
  return /^a-\d{1,16}$/.test(auditId) ? { auditId } : {};
}

const utf8 = new TextEncoder();

/** The bytes a tree head's signature covers (`formatTreeHeadSigningInput`, UTF-8). */
export function treeHeadMessage(treeSize: number, rootHash: Uint8Array, time: string): Uint8Array {
  return utf8.encode(formatTreeHeadSigningInput(treeSize, bytesToHex(rootHash), time));
}
