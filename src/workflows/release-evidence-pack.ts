import type { AuditEntry } from '../domain/audit/audit-event.js';
import type { HashFunction } from '../domain/audit/merkle.js';
import { PlatformError } from '../domain/errors.js';
import {
  isPackEntry,
  listPackFiles,
  PACK_EVENT_TYPES,
  PACK_FORMAT,
  PACK_LIMITS,
  packLimitExceeded,
  PACK_PATHS,
  packJson,
  verifyEvidencePack,
  type PackAuditProof,
  type PackManifest,
  type PackTreeHead,
  type PackVerification,
} from '../domain/release/evidence-pack.js';
import type { InclusionProof } from '../ports/audit-log.js';
import type { AuditSearch } from '../ports/audit-search.js';
import { scanAudit } from './scan-audit.js';
import type { Clock } from '../ports/clock.js';
import type { ShadowSummary } from '../ports/deployment-store.js';
import type { ReleaseView } from './releases.js';

export interface EvidencePackDependencies {
  /** The request as `Releases.show` gives it (its protocol checked against the pinned SHA-256). */
  readonly show: (requestId: string) => Promise<ReleaseView>;
  /** Evidence kept for the request, by SHA-256 (checked against it). */
  readonly evidence: (requestId: string, sha256: string) => Promise<Uint8Array>;
  readonly shadowSummary: (site: string, candidateVersionId: string, requestId: string) => Promise<ShadowSummary>;
  /** The archived bundle's `vigil-model.json`, as registered (the archive checks the bundle against its version id). */
  readonly modelManifest: (versionId: string) => Promise<Uint8Array>;
  /** The version's generated model card (Markdown). */
  readonly modelCard: (versionId: string) => Promise<string>;
  readonly auditSearch: AuditSearch;
  /** An inclusion proof against the log's latest signed tree head. */
  readonly prove: (auditId: string) => Promise<InclusionProof>;
  readonly zip: (files: ReadonlyMap<string, Uint8Array>) => Uint8Array;
  readonly sha256: HashFunction;
  readonly clock: Clock;
  readonly vigilVersion: string;
}

const PAGE = 500;
/** Rounds of proving again while appends move the log's head on; each round re-proves only the entries behind. */
const PROOF_ROUNDS = 10;
const utf8 = new TextEncoder();

/**
 * Builds a release request's evidence pack (docs/releases.md, "Evidence pack"): the request and its
 * pinned protocol, criteria, gates with their evidence, approvals, the shadow summary, the candidate's
 * manifest and model card, and the request's audit entries, each with an inclusion proof against one
 * signed tree head (the latest), and that head. The pack is checked as `verify` would check it (with
 * the key the head carries) before it is handed out.
 */
export async function buildEvidencePack(
  deps: EvidencePackDependencies,
  requestIdOrPrefix: string,
): Promise<{ readonly zip: Uint8Array; readonly manifest: PackManifest }> {
  const { request, protocol } = await deps.show(requestIdOrPrefix);
  // The id whole from here on: the pack names its request by it, even when a prefix was given.
  const { requestId } = request;
  const files = new Map<string, Uint8Array>();

  files.set(PACK_PATHS.request, packJson(request));
  // The protocol's bytes as kept when the request was made: they hash to the pin.
  files.set(PACK_PATHS.protocol, await deps.evidence(requestId, request.protocolSha256));
  const rules = [
    ...protocol.criteria,
    ...(protocol.nonInferiority === null ? [] : [`auroc noninferior to reference margin ${protocol.nonInferiority.margin}`]),
    ...(protocol.shadow === null ? [] : [`shadow agreement >= ${protocol.shadow.minAgreement} over at least ${protocol.shadow.minCases} studies`]),
  ];
  files.set(PACK_PATHS.criteria, utf8.encode(`# ${requestId}: acceptance criteria of protocol ${request.protocolSha256}\n${rules.join('\n')}\n`));

  const gates = [];
  for (const [i, g] of request.gates.entries()) {
    const name = g.gate === 'shadow_agreement' ? 'summary.json' : 'report.json';
    const evidencePath = `evidence/${i + 1}-${g.gate}/${name}`;
    files.set(evidencePath, await deps.evidence(requestId, g.evidenceSha256));
    gates.push({ ...g, evidencePath });
  }
  files.set(PACK_PATHS.gates, packJson(gates));
  files.set(
    PACK_PATHS.approvals,
    packJson(request.signatures.map((s) => ({ signerId: s.signer.userId, signerName: s.signer.userName, role: s.signer.role, meaning: s.meaning, at: s.at }))),
  );
  files.set(
    PACK_PATHS.shadow,
    packJson({
      site: request.site,
      candidateVersionId: request.candidateVersionId,
      requestId,
      ...(await deps.shadowSummary(request.site, request.candidateVersionId, requestId)),
    }),
  );
  files.set(PACK_PATHS.modelManifest, await deps.modelManifest(request.candidateVersionId));
  files.set(PACK_PATHS.modelCard, utf8.encode(await deps.modelCard(request.candidateVersionId)));

  const entries = await packEntries(deps.auditSearch, request);
  const { proofs, head } = await proveUnderOneHead(deps.prove, entries);
  files.set(PACK_PATHS.auditEntries, packJson(proofs));
  files.set(PACK_PATHS.treeHead, packJson(head));

  const manifest: PackManifest = {
    format: PACK_FORMAT,
    requestId,
    site: request.site,
    changeType: request.changeType,
    candidateVersionId: request.candidateVersionId,
    baselineVersionId: request.baselineVersionId,
    protocolSha256: request.protocolSha256,
    createdAt: deps.clock.now().toISOString(),
    vigilVersion: deps.vigilVersion,
    files: listPackFiles(files, deps.sha256),
  };
  files.set(PACK_PATHS.manifest, packJson(manifest));
  const total = [...files.values()].reduce((sum, b) => sum + b.length, 0);
  const exceeded = packLimitExceeded(files.size, total);
  if (exceeded !== undefined) {
    throw new PlatformError('RELEASE_EVIDENCE_INVALID', `The evidence pack would not be made: it ${exceeded}`, { files: files.size, bytes: total });
  }
  // What the pack says must hold before anyone else checks it (the head's own key: the log's).
  const self = verifyEvidencePack(files, { sha256: deps.sha256, verifyTreeHeadSignature: () => true });
  const failed = self.checks.find((c) => !c.passed);
  if (failed !== undefined) {
    throw new PlatformError('RELEASE_EVIDENCE_INVALID', `The evidence pack made does not verify (${failed.check}): ${failed.detail}`, { check: failed.check });
  }
  return { zip: deps.zip(files), manifest };
}

/** Unpacks (through `unzip`, which bounds the sizes) and checks a pack; see `verifyEvidencePack`. */
export function verifyEvidencePackZip(
  deps: { readonly unzip: (zip: Uint8Array) => ReadonlyMap<string, Uint8Array>; readonly sha256: HashFunction },
  zip: Uint8Array,
  verifyTreeHeadSignature: (head: PackTreeHead) => boolean,
): PackVerification {
  return verifyEvidencePack(deps.unzip(zip), { sha256: deps.sha256, verifyTreeHeadSignature });
}

/** The request's audit entries (types of PACK_EVENT_TYPES that concern it), oldest first. */
async function packEntries(search: AuditSearch, request: ReleaseView['request']): Promise<AuditEntry[]> {
  const found: AuditEntry[] = [];
  for (const type of PACK_EVENT_TYPES) {
    await scanAudit(search, { type, pageSize: PAGE }, (entry) => {
      if (isPackEntry({ ...entry.event }, request)) found.push(entry);
      if (found.length > PACK_LIMITS.maxFiles * 10) {
        throw new PlatformError('RELEASE_EVIDENCE_INVALID', 'The request has more audit entries than a pack may hold', { entries: found.length });
      }
    });
  }
  return found.sort((a, b) => a.index - b.index);
}

/**
 * Proves every entry against the same signed tree head. The log proves against its latest head, which
 * moves on with each append: entries proven under an older head are proven again until all share one.
 */
async function proveUnderOneHead(
  prove: (auditId: string) => Promise<InclusionProof>,
  entries: readonly AuditEntry[],
): Promise<{ readonly proofs: PackAuditProof[]; readonly head: PackTreeHead }> {
  const proofs = new Map<string, InclusionProof>();
  for (let round = 0; round < PROOF_ROUNDS; round++) {
    const latest = Math.max(0, ...[...proofs.values()].map((p) => p.treeSize));
    for (const e of entries) {
      const known = proofs.get(e.auditId);
      if (known === undefined || known.treeSize < latest) proofs.set(e.auditId, await prove(e.auditId));
    }
    const sizes = new Set([...proofs.values()].map((p) => p.treeSize));
    const first = proofs.values().next().value;
    if (sizes.size <= 1 && first !== undefined) {
      const { treeHead } = first;
      return {
        head: { treeSize: treeHead.treeSize, rootHash: treeHead.rootHash, time: treeHead.time, signature: treeHead.signature, publicKey: treeHead.publicKey },
        proofs: entries.map((e) => {
          const p = proofs.get(e.auditId)!;
          return { leafIndex: p.leafIndex, leafHash: p.leafHash, auditPath: [...p.auditPath], entry: { ...p.entry, event: { ...p.entry.event } } };
        }),
      };
    }
    if (first === undefined) throw new PlatformError('AUDIT_ENTRY_NOT_FOUND', 'The audit log holds no entry of this request', {});
  }
  throw new PlatformError('AUDIT_VERIFY_FAILED', 'The audit log kept growing while the pack was made: make it again', {});
}
