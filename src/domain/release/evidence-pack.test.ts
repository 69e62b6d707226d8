import { createHash, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { AuditEntry, AuditEvent } from '../audit/audit-event.js';
import { formatTreeHeadSigningInput, hashAuditEntry } from '../audit/audit-leaf.js';
import { canonicalJson } from '../audit/canonical-json.js';
import { bytesToHex } from '../audit/hex.js';
import { merkleAuditPath, merkleTreeHash } from '../audit/merkle.js';
import { listPackFiles, PACK_FORMAT, PACK_PATHS, packJson, verifyEvidencePack, type PackTreeHead } from './evidence-pack.js';
import type { ReleaseProtocol } from './release-protocol.js';

/**
 * The pack's checks on a pack built here from a small log signed by a key made here: passes whole,
 * and each alteration fails the check that names it (and none before it).
 */
const sha256 = (bytes: Uint8Array): Uint8Array => new Uint8Array(createHash('sha256').update(bytes).digest());
const hex = (bytes: Uint8Array): string => bytesToHex(sha256(bytes));
const utf8 = new TextEncoder();
const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);
const fromBase64 = (b64: string): Uint8Array => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
const V1 = 'a'.repeat(64);
const V2 = 'b'.repeat(64);
const protocol: ReleaseProtocol = {
  changeType: 'recalibration',
  description: 'test',
  validationData: { '*': 'c'.repeat(64) },
  criteria: ['ece <= 0.05'],
  nonInferiority: null,
  shadow: null,
  approvals: [
    { role: 'qa-regulatory', meaning: 'approved for release' },
    { role: 'clinician-reviewer', meaning: 'reviewed' },
  ],
};

function makePack(options: { readonly signatures?: 1 | 2 } = {}): { files: Map<string, Uint8Array>; key: KeyObject; publicKey: KeyObject } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const protocolBytes = utf8.encode(canonicalJson(protocol));
  const report = utf8.encode('{"criteria":{"status":"passed"}}');
  const requestId = 'r-1';
  const signers = [
    { signerId: 'u-q', signerName: 'quinn', role: 'qa-regulatory', meaning: 'approved for release' },
    { signerId: 'u-c', signerName: 'clara', role: 'clinician-reviewer', meaning: 'reviewed' },
  ].slice(0, options.signatures ?? 2);
  const events: AuditEvent[] = [
    { type: 'config_loaded', configHash: 'x', vigilVersion: 't' },
    {
      type: 'model_registered',
      versionId: V1,
      model: { id: 'm', version: '1', sha256: V1 },
      parentVersionId: null,
      lineage: { trainingDataSha256: null, validationDataSha256: null, codeReference: null, derivedBy: null },
      registeredBy: 'system',
    },
    {
      type: 'model_registered',
      versionId: V2,
      model: { id: 'm', version: '1', sha256: V1 },
      parentVersionId: V1,
      lineage: { trainingDataSha256: null, validationDataSha256: null, codeReference: null, derivedBy: 'vigil calibrate' },
      registeredBy: 'local-cli',
    },
    {
      type: 'release_requested',
      requestId,
      changeType: 'recalibration',
      site: 'default',
      candidateVersionId: V2,
      baselineVersionId: V1,
      protocolSha256: hex(protocolBytes),
      requestedBy: 'u-e',
      requesterName: 'erin',
      requesterRole: 'ml-engineer',
    },
    {
      type: 'release_gate_recorded',
      requestId,
      gate: 'criteria',
      passed: true,
      evidenceSha256: hex(report),
      summary: 'criteria passed',
      state: 'validated',
      by: 'local-cli',
    },
    ...signers.map((s, i): AuditEvent => ({
      type: 'release_signed',
      requestId,
      ...s,
      reauthenticatedBy: 'password',
      state: i === 1 ? 'approved' : 'validated',
    })),
  ] as AuditEvent[];
  const entries: AuditEntry[] = events.map((event, index) => ({ auditId: `a-${index}`, index, time: `2026-01-01T00:00:0${index}.000Z`, event }));
  const leaves = entries.map((e) => hashAuditEntry(sha256, e));
  const root = bytesToHex(merkleTreeHash(sha256, leaves));
  const time = '2026-01-01T00:01:00.000Z';
  const head: PackTreeHead = {
    treeSize: entries.length,
    rootHash: root,
    time,
    signature: sign(null, utf8.encode(formatTreeHeadSigningInput(entries.length, root, time)), privateKey).toString('base64'),
    publicKey: publicKey.export({ type: 'spki', format: 'der' }).toString('base64'),
  };
  const files = new Map<string, Uint8Array>();
  const request = {
    requestId,
    site: 'default',
    changeType: 'recalibration',
    candidateVersionId: V2,
    baselineVersionId: V1,
    protocolSha256: hex(protocolBytes),
  };
  files.set(PACK_PATHS.request, packJson(request));
  files.set(PACK_PATHS.protocol, protocolBytes);
  files.set('evidence/1-criteria/report.json', report);
  files.set(
    PACK_PATHS.gates,
    packJson([{ gate: 'criteria', passed: true, evidenceSha256: hex(report), summary: 'criteria passed', evidencePath: 'evidence/1-criteria/report.json' }]),
  );
  files.set(PACK_PATHS.approvals, packJson(signers.map((s) => ({ ...s, at: time }))));
  files.set(
    PACK_PATHS.auditEntries,
    packJson(
      entries.slice(1).map((entry) => ({
        leafIndex: entry.index,
        leafHash: bytesToHex(leaves[entry.index]!),
        auditPath: merkleAuditPath(sha256, entry.index, leaves).map(bytesToHex),
        entry,
      })),
    ),
  );
  files.set(PACK_PATHS.treeHead, packJson(head));
  const manifest = { format: PACK_FORMAT, ...request, createdAt: time, vigilVersion: 't', files: listPackFiles(files, sha256) };
  files.set(PACK_PATHS.manifest, packJson(manifest));
  return { files, key: privateKey, publicKey };
}

const checkWith = (publicKey: KeyObject) => (head: PackTreeHead) =>
  verify(null, utf8.encode(formatTreeHeadSigningInput(head.treeSize, head.rootHash, head.time)), publicKey, fromBase64(head.signature));
const failedChecks = (files: ReadonlyMap<string, Uint8Array>, publicKey: KeyObject): string[] =>
  verifyEvidencePack(files, { sha256, verifyTreeHeadSignature: checkWith(publicKey) })
    .checks.filter((c) => !c.passed && !c.detail.startsWith('not run'))
    .map((c) => c.check);
const relist = (files: Map<string, Uint8Array>): Map<string, Uint8Array> => {
  const manifest = JSON.parse(text(files.get(PACK_PATHS.manifest)!)) as Record<string, unknown>;
  return new Map(files).set(PACK_PATHS.manifest, packJson({ ...manifest, files: listPackFiles(files, sha256) }));
};

describe('verifyEvidencePack', () => {
  it('passes a whole pack, every check named', () => {
    const { files, publicKey } = makePack();
    const result = verifyEvidencePack(files, { sha256, verifyTreeHeadSignature: checkWith(publicKey) });
    expect(result).toMatchObject({ ok: true, requestId: 'r-1' });
    expect(result.checks.map((c) => c.check)).toEqual([
      'manifest',
      'files_present',
      'no_unlisted_files',
      'protocol_hash',
      'audit_inclusion',
      'tree_head_signature',
      'entries_match',
    ]);
  });

  it('names the check each alteration breaks', () => {
    const { files, publicKey } = makePack();
    expect(failedChecks(new Map(files).set(PACK_PATHS.manifest, utf8.encode('{')), publicKey)).toEqual(['manifest']);
    const flipped = new Uint8Array(files.get('evidence/1-criteria/report.json')!);
    flipped[0] = flipped[0]! ^ 1;
    expect(failedChecks(new Map(files).set('evidence/1-criteria/report.json', flipped), publicKey)).toEqual(['files_present']);
    const missing = new Map(files);
    missing.delete(PACK_PATHS.gates);
    expect(failedChecks(missing, publicKey)).toEqual(['files_present']);
    expect(failedChecks(new Map(files).set('extra.txt', utf8.encode('x')), publicKey)).toEqual(['no_unlisted_files']);
    // Another protocol, listed in the manifest: not the one the request pinned.
    expect(
      failedChecks(relist(new Map(files).set(PACK_PATHS.protocol, utf8.encode(canonicalJson({ ...protocol, criteria: ['ece <= 0.5'] })))), publicKey),
    ).toEqual(['protocol_hash']);
    expect(failedChecks(files, generateKeyPairSync('ed25519').publicKey)).toEqual(['tree_head_signature']);
    const dropped = new Map(files).set(PACK_PATHS.approvals, packJson([]));
    expect(failedChecks(relist(dropped), publicKey)).toEqual(['entries_match']);
  });

  it('refuses a pack that leaves out a signature its protocol requires, entry and JSON alike, once the log shows it approved', () => {
    // One signature given, the request still validated: complete for what it claims.
    const { files, publicKey } = makePack({ signatures: 1 });
    expect(failedChecks(files, publicKey)).toEqual([]);
    // Both signatures given, the first (quinn's) taken out of the entries and the JSON: clara's says approved.
    const whole = makePack();
    const entries = JSON.parse(text(whole.files.get(PACK_PATHS.auditEntries)!)) as { entry: { event: { signerName?: string } } }[];
    const approvals = JSON.parse(text(whole.files.get(PACK_PATHS.approvals)!)) as { signerName: string }[];
    const cut = new Map(whole.files)
      .set(PACK_PATHS.auditEntries, packJson(entries.filter((e) => e.entry.event.signerName !== 'quinn')))
      .set(PACK_PATHS.approvals, packJson(approvals.filter((a) => a.signerName !== 'quinn')));
    const result = verifyEvidencePack(relist(cut), { sha256, verifyTreeHeadSignature: checkWith(whole.publicKey) });
    expect(result.checks.at(-1)).toEqual({
      check: 'entries_match',
      passed: false,
      detail: 'the request went past approval, but the pack holds no "approved for release" signature by a qa-regulatory',
    });
  });
});
