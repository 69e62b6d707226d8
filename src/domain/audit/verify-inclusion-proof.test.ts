import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { AuditEntry } from './audit-event.js';
import { canonicalAuditEntry, formatAuditId, formatTreeHeadSigningInput, hashAuditEntry } from './audit-leaf.js';
import { bytesToHex } from './hex.js';
import { merkleAuditPath, merkleTreeHash } from './merkle.js';
import { verifyInclusionProof, type InclusionProofClaim } from './verify-inclusion-proof.js';

const sha256 = (bytes: Uint8Array): Uint8Array => createHash('sha256').update(bytes).digest();

const CONFIG_ENTRY: AuditEntry = {
  auditId: 'a-0',
  index: 0,
  time: '2025-01-02T03:04:05.678Z',
  event: { type: 'config_loaded', configHash: 'c0ffee', vigilVersion: '0.1.0' },
};

function entryAt(index: number): AuditEntry {
  return {
    auditId: formatAuditId(index),
    index,
    time: new Date(Date.UTC(2025, 0, 1, 0, 0, index)).toISOString(),
    event: { type: 'error', code: 'DICOM_PARSE_FAILED', stage: 'ingest', studyKey: `st-${index}` },
  };
}

function proofFor(entries: readonly AuditEntry[], m: number): InclusionProofClaim {
  const leaves = entries.map((e) => hashAuditEntry(sha256, e));
  const rootHash = bytesToHex(merkleTreeHash(sha256, leaves));
  const entry = entries[m];
  const leaf = leaves[m];
  if (entry === undefined || leaf === undefined) throw new Error('no such entry');
  return {
    auditId: entry.auditId,
    leafIndex: m,
    treeSize: entries.length,
    leafHash: bytesToHex(leaf),
    auditPath: merkleAuditPath(sha256, m, leaves).map(bytesToHex),
    rootHash,
    treeHead: { treeSize: entries.length, rootHash },
    entry,
  };
}

describe('audit leaves', () => {
  it('hashes the canonical JSON of {auditId, index, time, event} (known answer from Python json + hashlib)', () => {
    // python3: json.dumps(entry, sort_keys=True, separators=(',', ':'), ensure_ascii=False)
    expect(canonicalAuditEntry(CONFIG_ENTRY)).toBe(
      '{"auditId":"a-0","event":{"configHash":"c0ffee","type":"config_loaded","vigilVersion":"0.1.0"},"index":0,"time":"2025-01-02T03:04:05.678Z"}',
    );
    expect(bytesToHex(hashAuditEntry(sha256, CONFIG_ENTRY))).toBe('22d32fdea66529497107baf182466f4b044679e7eb53ce06837dc2f25046493f');
  });

  it('ignores properties that are not part of an entry', () => {
    const withExtra = { ...CONFIG_ENTRY, receivedFrom: 'somewhere' } as AuditEntry;
    expect(hashAuditEntry(sha256, withExtra)).toEqual(hashAuditEntry(sha256, CONFIG_ENTRY));
  });

  it('formats ids and the tree head signing input', () => {
    expect(formatAuditId(41)).toBe('a-41');
    expect(formatTreeHeadSigningInput(3, 'ab', '2025-01-01T00:00:00.000Z')).toBe('vigil-tree-head:v1:3:ab:2025-01-01T00:00:00.000Z');
  });
});

describe('verifyInclusionProof', () => {
  const entries = Array.from({ length: 11 }, (_, i) => entryAt(i));

  it('accepts a proof for every entry', () => {
    for (let m = 0; m < entries.length; m++) expect(verifyInclusionProof(proofFor(entries, m), sha256)).toEqual({ ok: true });
    expect(verifyInclusionProof(proofFor(entries.slice(0, 1), 0), sha256)).toEqual({ ok: true });
  });

  it('accepts upper-case hex', () => {
    const proof = proofFor(entries, 4);
    expect(verifyInclusionProof({ ...proof, leafHash: proof.leafHash.toUpperCase(), rootHash: proof.rootHash.toUpperCase() }, sha256)).toEqual({ ok: true });
  });

  it('rejects an edited entry', () => {
    const proof = proofFor(entries, 4);
    const edited = { ...proof, entry: { ...proof.entry, event: { type: 'error', code: 'DICOM_PARSE_FAILED', stage: 'infer' } } } as InclusionProofClaim;
    expect(verifyInclusionProof(edited, sha256)).toEqual({ ok: false, reason: 'leaf_hash_mismatch' });
    const nonFinite = { ...proof, entry: { ...proof.entry, index: Number.NaN } } as InclusionProofClaim;
    expect(verifyInclusionProof({ ...nonFinite, leafIndex: Number.NaN }, sha256)).toEqual({ ok: false, reason: 'entry_mismatch' });
  });

  it('rejects an entry presented under another id or index', () => {
    const proof = proofFor(entries, 4);
    expect(verifyInclusionProof({ ...proof, auditId: 'a-5' }, sha256)).toEqual({ ok: false, reason: 'entry_mismatch' });
    expect(verifyInclusionProof({ ...proof, leafIndex: 5 }, sha256)).toEqual({ ok: false, reason: 'entry_mismatch' });
  });

  it('rejects a wrong path, root or tree head', () => {
    const proof = proofFor(entries, 4);
    const other = proofFor(entries, 5);
    expect(verifyInclusionProof({ ...proof, auditPath: other.auditPath }, sha256)).toEqual({ ok: false, reason: 'audit_path_invalid' });
    expect(verifyInclusionProof({ ...proof, auditPath: proof.auditPath.slice(1) }, sha256)).toEqual({ ok: false, reason: 'audit_path_invalid' });
    const shorter = proofFor(entries.slice(0, 10), 4);
    expect(verifyInclusionProof({ ...proof, rootHash: shorter.rootHash }, sha256)).toEqual({ ok: false, reason: 'audit_path_invalid' });
    expect(verifyInclusionProof({ ...proof, treeHead: shorter.treeHead }, sha256)).toEqual({ ok: false, reason: 'tree_head_mismatch' });
    expect(verifyInclusionProof({ ...proof, treeHead: { ...proof.treeHead, treeSize: 12 } }, sha256)).toEqual({ ok: false, reason: 'tree_head_mismatch' });
  });

  it('rejects malformed hashes without throwing', () => {
    const proof = proofFor(entries, 4);
    expect(verifyInclusionProof({ ...proof, leafHash: 'zz' }, sha256)).toEqual({ ok: false, reason: 'malformed' });
    expect(verifyInclusionProof({ ...proof, rootHash: proof.rootHash.slice(2) }, sha256)).toEqual({ ok: false, reason: 'malformed' });
    expect(verifyInclusionProof({ ...proof, auditPath: [...proof.auditPath.slice(1), 'abc'] }, sha256)).toEqual({ ok: false, reason: 'malformed' });
  });
});
