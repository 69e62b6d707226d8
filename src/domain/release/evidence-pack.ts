import { describeValidationIssues } from '../validation-issues.js';
import { z } from 'zod';
import { bytesToHex } from '../audit/hex.js';
import type { HashFunction } from '../audit/merkle.js';
import { verifyInclusionProof } from '../audit/verify-inclusion-proof.js';
import { releaseProtocolSchema } from './release-protocol.js';
import { preDeploymentGates } from './release-request.js';

/**
 * A release request's evidence pack (docs/releases.md, "Evidence pack"): one zip a QA or regulatory
 * reader can check offline with nothing but the audit log's public key. Its `manifest.json` lists
 * every other file by path, SHA-256 and size; the audit entries of the request come with inclusion
 * proofs against one signed tree head, so the JSON files can be checked against what the log says.
 */
export const PACK_FORMAT = 'vigil-evidence-pack/1';

/** The pack's files, by path inside the zip. Gate evidence goes under `evidence/<n>-<gate>/`. */
export const PACK_PATHS = {
  manifest: 'manifest.json',
  request: 'request.json',
  protocol: 'protocol.json',
  criteria: 'criteria.txt',
  gates: 'gates.json',
  approvals: 'approvals.json',
  shadow: 'shadow-summary.json',
  modelManifest: 'model/vigil-model.json',
  modelCard: 'model/model-card.md',
  auditEntries: 'audit/entries.json',
  treeHead: 'audit/tree-head.json',
} as const;

/** What the pack may hold at most, in files and in bytes once unpacked: evaluation reports are small. */
export const PACK_LIMITS = { maxFiles: 200, maxBytes: 64 * 1024 * 1024 } as const;

/**
 * Which of PACK_LIMITS a pack of `files` files and `bytes` bytes (unpacked) passes, as the words of a
 * refusal naming that limit (the member count and the size are different faults); undefined within both.
 */
export function packLimitExceeded(files: number, bytes: number): string | undefined {
  if (files > PACK_LIMITS.maxFiles) return `holds more than ${PACK_LIMITS.maxFiles} files, the most a pack holds`;
  if (bytes > PACK_LIMITS.maxBytes) return `unpacks to more than ${PACK_LIMITS.maxBytes} bytes (64 MiB), the most a pack holds`;
  return undefined;
}

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/);

export const packFileSchema = z.strictObject({ path: z.string().min(1), sha256: sha256Hex, bytes: z.number().int().nonnegative() });
export type PackFile = z.infer<typeof packFileSchema>;

export const packManifestSchema = z.strictObject({
  format: z.literal(PACK_FORMAT),
  requestId: z.string().min(1),
  site: z.string().min(1),
  changeType: z.string().min(1),
  candidateVersionId: sha256Hex,
  baselineVersionId: sha256Hex.nullable(),
  protocolSha256: sha256Hex,
  createdAt: z.string(),
  vigilVersion: z.string(),
  files: z.array(packFileSchema),
});
export type PackManifest = z.infer<typeof packManifestSchema>;

/** One audit entry with its RFC 6962 audit path to the pack's tree head. */
const packAuditProofSchema = z.strictObject({
  leafIndex: z.number().int().nonnegative(),
  leafHash: z.string(),
  auditPath: z.array(z.string()),
  entry: z.strictObject({
    auditId: z.string(),
    index: z.number().int().nonnegative(),
    time: z.string(),
    event: z.looseObject({ type: z.string() }),
  }),
});
export type PackAuditProof = z.infer<typeof packAuditProofSchema>;

export const packTreeHeadSchema = z.strictObject({
  treeSize: z.number().int().positive(),
  rootHash: z.string(),
  time: z.string(),
  signature: z.string(),
  publicKey: z.string(),
});
export type PackTreeHead = z.infer<typeof packTreeHeadSchema>;

const packRequestSchema = z.looseObject({
  requestId: z.string(),
  site: z.string(),
  changeType: z.string(),
  candidateVersionId: z.string(),
  baselineVersionId: z.string().nullable(),
  protocolSha256: z.string(),
});
const packGatesSchema = z.array(
  z.looseObject({ gate: z.string(), passed: z.boolean(), evidenceSha256: sha256Hex, summary: z.string(), evidencePath: z.string() }),
);
const packApprovalsSchema = z.array(z.looseObject({ signerId: z.string(), signerName: z.string(), role: z.string(), meaning: z.string(), at: z.string() }));

/** The checks `verify` runs, in order; a report names each with its result. */
export const PACK_CHECKS = [
  'manifest',
  'files_present',
  'no_unlisted_files',
  'protocol_hash',
  'audit_inclusion',
  'tree_head_signature',
  'entries_match',
] as const;
export type PackCheckName = (typeof PACK_CHECKS)[number];

export interface PackCheck {
  readonly check: PackCheckName;
  readonly passed: boolean;
  /** What was checked, or the first thing that failed. */
  readonly detail: string;
}

/** The outcome of checking a pack: a failure is an answer, not an exception. */
export interface PackVerification {
  readonly ok: boolean;
  readonly requestId: string | null;
  readonly checks: readonly PackCheck[];
}

const utf8 = new TextEncoder();

/** The JSON files of a pack are written as JSON with two-space indentation and a final newline, for the reader. */
export function packJson(value: unknown): Uint8Array {
  return utf8.encode(JSON.stringify(value, null, 2) + '\n');
}

/** Lists the files (every one but the manifest), sorted by path, with their SHA-256 and size. */
export function listPackFiles(files: ReadonlyMap<string, Uint8Array>, sha256: HashFunction): PackFile[] {
  return [...files.entries()]
    .filter(([path]) => path !== PACK_PATHS.manifest)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([path, bytes]) => ({ path, sha256: bytesToHex(sha256(bytes)), bytes: bytes.length }));
}

/** The audit event types a pack carries for a request (docs/releases.md). */
export const PACK_EVENT_TYPES = ['model_registered', 'release_requested', 'release_gate_recorded', 'release_signed', 'deployment_changed'] as const;

/**
 * Whether an audit entry belongs in a request's pack: the request's own entries, the site's deployment
 * changes made under it (as candidate or as the production it put there), and the registrations of
 * its candidate and baseline versions.
 */
export function isPackEntry(
  event: { readonly type: string } & Record<string, unknown>,
  request: { readonly requestId: string; readonly candidateVersionId: string; readonly baselineVersionId: string | null },
): boolean {
  switch (event.type) {
    case 'release_requested':
    case 'release_gate_recorded':
    case 'release_signed':
      return event.requestId === request.requestId;
    case 'deployment_changed': {
      const candidate = event.candidate as { requestId?: unknown } | null | undefined;
      return candidate?.requestId === request.requestId || event.productionRequestId === request.requestId;
    }
    case 'model_registered':
      return event.versionId === request.candidateVersionId || (request.baselineVersionId !== null && event.versionId === request.baselineVersionId);
    default:
      return false;
  }
}

export interface PackVerifier {
  readonly sha256: HashFunction;
  /** Whether the tree head's Ed25519 signature verifies under the key the checker trusts (not the one the head carries). */
  readonly verifyTreeHeadSignature: (head: PackTreeHead) => boolean;
}

/**
 * Checks an unpacked evidence pack end to end, trusting nothing in it: every listed file present with
 * its SHA-256 and size, no file unlisted, the protocol hashing to the SHA-256 the request pinned,
 * every audit entry's leaf hash leading through its audit path to the root of the one signed tree
 * head, that head's signature under the trusted key, and the entries saying what the pack's JSON
 * says (the request, every gate with its evidence's hash, every signature with its signer, role and
 * meaning, the versions' registrations). Never throws: a malformed pack fails the check it breaks.
 *
 * @example
 * const result = verifyEvidencePack(unzipped, { sha256, verifyTreeHeadSignature: (h) => check(h, trustedKey) });
 * if (!result.ok) for (const c of result.checks.filter((c) => !c.passed)) console.error(c.check, c.detail);
 */
export function verifyEvidencePack(files: ReadonlyMap<string, Uint8Array>, verifier: PackVerifier): PackVerification {
  const checks: PackCheck[] = [];
  const pass = (check: PackCheckName, detail: string): void => void checks.push({ check, passed: true, detail });
  const fail = (check: PackCheckName, detail: string): PackVerification => {
    checks.push({ check, passed: false, detail });
    // Later checks rest on the earlier ones: report them as not run rather than guess.
    for (const name of PACK_CHECKS.slice(PACK_CHECKS.indexOf(check) + 1)) checks.push({ check: name, passed: false, detail: `not run (${check} failed)` });
    return { ok: false, requestId: parsedManifest.ok ? parsedManifest.value.requestId : null, checks };
  };
  const hex = (bytes: Uint8Array): string => bytesToHex(verifier.sha256(bytes));

  const parsedManifest = parseJson(files.get(PACK_PATHS.manifest), packManifestSchema);
  if (!parsedManifest.ok) return fail('manifest', `${PACK_PATHS.manifest}: ${parsedManifest.error}`);
  const manifest: PackManifest = parsedManifest.value;
  pass('manifest', `${PACK_FORMAT}, request ${manifest.requestId}, ${manifest.files.length} files listed`);

  // 1. Every listed file present, with its hash and size.
  const listed = new Set<string>();
  for (const f of manifest.files) {
    if (listed.has(f.path)) return fail('files_present', `${f.path} is listed twice`);
    listed.add(f.path);
    const bytes = files.get(f.path);
    if (bytes === undefined) return fail('files_present', `${f.path} is listed but missing`);
    const actual = hex(bytes);
    if (actual !== f.sha256 || bytes.length !== f.bytes) {
      return fail('files_present', `${f.path}: SHA-256 ${actual} (${bytes.length} bytes), the manifest lists ${f.sha256} (${f.bytes} bytes)`);
    }
  }
  pass('files_present', `${manifest.files.length} files, each with its listed SHA-256 and size`);

  // 2. Nothing unlisted.
  const unlisted = [...files.keys()].filter((p) => p !== PACK_PATHS.manifest && !listed.has(p));
  if (unlisted.length > 0) return fail('no_unlisted_files', `not listed in the manifest: ${unlisted.slice(0, 5).join(', ')}`);
  pass('no_unlisted_files', 'every file is listed');

  // 3. The protocol is the one the request pinned.
  const request = parseJson(files.get(PACK_PATHS.request), packRequestSchema);
  if (!request.ok) return fail('protocol_hash', `${PACK_PATHS.request}: ${request.error}`);
  const protocolBytes = files.get(PACK_PATHS.protocol);
  if (protocolBytes === undefined) return fail('protocol_hash', `${PACK_PATHS.protocol} is missing`);
  const protocolSha256 = hex(protocolBytes);
  if (protocolSha256 !== request.value.protocolSha256 || protocolSha256 !== manifest.protocolSha256) {
    return fail('protocol_hash', `${PACK_PATHS.protocol} hashes to ${protocolSha256}; the request pinned ${request.value.protocolSha256}`);
  }
  pass('protocol_hash', `${PACK_PATHS.protocol} hashes to the request's pinned ${protocolSha256}`);

  // 4. Each audit entry: leaf hash → audit path → the tree head's root.
  const head = parseJson(files.get(PACK_PATHS.treeHead), packTreeHeadSchema);
  if (!head.ok) return fail('audit_inclusion', `${PACK_PATHS.treeHead}: ${head.error}`);
  const proofs = parseJson(files.get(PACK_PATHS.auditEntries), z.array(packAuditProofSchema));
  if (!proofs.ok) return fail('audit_inclusion', `${PACK_PATHS.auditEntries}: ${proofs.error}`);
  for (const p of proofs.value) {
    const check = verifyInclusionProof(
      {
        auditId: p.entry.auditId,
        leafIndex: p.leafIndex,
        treeSize: head.value.treeSize,
        leafHash: p.leafHash,
        auditPath: p.auditPath,
        rootHash: head.value.rootHash,
        treeHead: head.value,
        entry: p.entry,
      },
      verifier.sha256,
    );
    if (!check.ok) return fail('audit_inclusion', `entry ${p.entry.auditId}: ${check.reason}`);
  }
  pass('audit_inclusion', `${proofs.value.length} audit entries included in the tree of ${head.value.treeSize} (root ${head.value.rootHash})`);

  // 5. The tree head's signature, under the trusted key.
  if (!verifier.verifyTreeHeadSignature(head.value)) {
    return fail('tree_head_signature', `the signature of the tree head of ${head.value.time} does not verify under the given public key`);
  }
  pass('tree_head_signature', `the tree head of ${head.value.time} (size ${head.value.treeSize}) is signed by the given key`);

  // 6. The entries say what the JSON says.
  const mismatch = compareWithEntries(
    files,
    manifest,
    request.value,
    proofs.value.map((p) => ({ time: p.entry.time, event: p.entry.event })),
    hex,
  );
  if (mismatch !== undefined) return fail('entries_match', mismatch);
  pass('entries_match', 'the request, its gates and evidence, its signatures and its versions are those the audit log records');
  return { ok: true, requestId: manifest.requestId, checks };
}

type EventOf = { readonly time: string; readonly event: { readonly type: string } & Record<string, unknown> };

/** The first way in which the pack's JSON and its audit entries disagree, or undefined. */
function compareWithEntries(
  files: ReadonlyMap<string, Uint8Array>,
  manifest: PackManifest,
  request: z.infer<typeof packRequestSchema>,
  entries: readonly EventOf[],
  hex: (bytes: Uint8Array) => string,
): string | undefined {
  const same = (a: unknown, b: unknown): boolean => a === b;
  for (const key of ['requestId', 'site', 'changeType', 'candidateVersionId', 'baselineVersionId', 'protocolSha256'] as const) {
    if (!same(manifest[key], request[key])) return `${PACK_PATHS.request} and ${PACK_PATHS.manifest} differ on ${key}`;
  }
  const requestId = manifest.requestId;
  const stray = entries.find((e) => !isPackEntry(e.event, manifest));
  if (stray !== undefined) return `an audit entry of type ${stray.event.type} does not belong to request ${requestId}`;
  const of = (type: string): EventOf['event'][] => entries.filter((e) => e.event.type === type).map((e) => e.event);

  const requested = of('release_requested');
  if (requested.length !== 1) return `the pack holds ${requested.length} release_requested entries for ${requestId} (one expected)`;
  const r = requested[0]!;
  for (const key of ['site', 'changeType', 'candidateVersionId', 'baselineVersionId', 'protocolSha256'] as const) {
    if (!same(r[key], manifest[key])) return `release_requested says ${key} ${String(r[key])}; the pack says ${String(manifest[key])}`;
  }

  const gates = parseJson(files.get(PACK_PATHS.gates), packGatesSchema);
  if (!gates.ok) return `${PACK_PATHS.gates}: ${gates.error}`;
  const gateKey = (g: Record<string, unknown>): string => JSON.stringify([g.gate, g.passed, g.evidenceSha256, g.summary]);
  const recorded = of('release_gate_recorded').map(gateKey).sort();
  const claimed = gates.value.map(gateKey).sort();
  if (JSON.stringify(recorded) !== JSON.stringify(claimed)) {
    return `${PACK_PATHS.gates} lists ${claimed.length} gate results; the audit log records ${recorded.length}, and they differ`;
  }
  for (const g of gates.value) {
    const bytes = files.get(g.evidencePath);
    if (bytes === undefined || hex(bytes) !== g.evidenceSha256)
      return `the evidence of gate ${g.gate} (${g.evidencePath}) does not hash to ${g.evidenceSha256}`;
  }

  const approvals = parseJson(files.get(PACK_PATHS.approvals), packApprovalsSchema);
  if (!approvals.ok) return `${PACK_PATHS.approvals}: ${approvals.error}`;
  const signKey = (s: Record<string, unknown>): string => JSON.stringify([s.signerId, s.signerName, s.role, s.meaning]);
  const signed = of('release_signed').map(signKey).sort();
  const shown = approvals.value.map(signKey).sort();
  if (JSON.stringify(signed) !== JSON.stringify(shown)) {
    return `${PACK_PATHS.approvals} shows ${shown.length} signatures; the audit log records ${signed.length}, and they differ`;
  }

  // A request the log shows approved (its last signature's state) or deployed had every gate and
  // signature its pinned protocol asks: a pack that leaves one out (entry and JSON alike) is incomplete.
  const protocol = parseJson(files.get(PACK_PATHS.protocol), releaseProtocolSchema);
  if (!protocol.ok) return `${PACK_PATHS.protocol}: ${protocol.error}`;
  const signatures = of('release_signed');
  if (signatures.some((e) => e.state !== 'validated') || of('deployment_changed').length > 0) {
    const passed = new Set(
      of('release_gate_recorded')
        .filter((e) => e.passed === true)
        .map((e) => e.gate),
    );
    const missingGate = preDeploymentGates(protocol.value).find((g) => !passed.has(g));
    if (missingGate !== undefined) return `the request went past validation, but the pack holds no passed ${missingGate} gate`;
    const unmatched = [...signatures];
    for (const need of protocol.value.approvals) {
      const at = unmatched.findIndex((e) => e.role === need.role && e.meaning === need.meaning);
      if (at < 0) return `the request went past approval, but the pack holds no "${need.meaning}" signature by a ${need.role}`;
      unmatched.splice(at, 1);
    }
    if (new Set(signatures.map((e) => e.signerId)).size !== signatures.length) return 'two signatures in the pack are by the same person';
  }

  const registered = new Set(of('model_registered').map((e) => e.versionId));
  for (const v of [manifest.candidateVersionId, manifest.baselineVersionId]) {
    if (v !== null && !registered.has(v)) return `the pack holds no model_registered entry for version ${v}`;
  }
  return undefined;
}

function parseJson<T>(bytes: Uint8Array | undefined, schema: z.ZodType<T>): { ok: true; value: T } | { ok: false; error: string } {
  if (bytes === undefined) return { ok: false, error: 'missing' };
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    return { ok: false, error: 'not JSON' };
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const first = describeValidationIssues(parsed.error.issues.slice(0, 1), { nameUnknownFields: true })[0];
    return { ok: false, error: `does not match its schema (${first ?? '?'})` };
  }
  return { ok: true, value: parsed.data };
}
