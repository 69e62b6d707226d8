import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unzipEvidencePack, zipEvidencePack } from '../../src/adapters/release-fs/evidence-zip.js';
import { loadConfig } from '../../src/config/load-config.js';
import type { PackManifest, PackVerification } from '../../src/domain/release/evidence-pack.js';
import { createLogger } from '../../src/logging/create-logger.js';
import { createServices } from '../../src/main.js';
import type { VigilServices } from '../../src/workflows/vigil-services.js';
import { runVigil } from '../helpers/run-vigil.js';
import { DEMO_MODEL_DIR, hasPneumoniaMnist, PNEUMONIA_NPZ, REPO_ROOT } from '../helpers/sample-data.js';

/**
 * The evidence pack of a real release (a recalibration gated on the val split the bundled protocol
 * pins, signed by two people, promoted), written and verified offline with the audit log's public key;
 * then altered in each way a forger might try, each time failing the check that names the change.
 */
const SKIP = hasPneumoniaMnist ? false : `needs the public sample data (${PNEUMONIA_NPZ}): the gates evaluate the demo model on its val split`;
if (SKIP !== false) console.warn(`skipping evidence pack tests: ${SKIP}`);

const declared = { modality: 'CR', bodyPartExamined: 'CHEST', viewPosition: 'PA', patientAgeYears: { min: 1, max: 5 } };
const VAL = `medmnist:${PNEUMONIA_NPZ}:val`;
const PASSWORDS = { erin: 'erin-password-123', quinn: 'quinn-password-123', clara: 'clara-password-123' };
const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');
const utf8 = new TextEncoder();

describe.skipIf(SKIP !== false)('release evidence pack', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-evidence-'));
  const dataDir = join(dir, 'data');
  const logger = createLogger('error', { write: () => undefined });
  const services: VigilServices = createServices(loadConfig({ VIGIL_DATA_DIR: dataDir, VIGIL_INTRA_OP_THREADS: '1' }, REPO_ROOT), logger);
  const packFile = join(dir, 'pack.zip');
  const keyFile = join(dir, 'audit-public.pem');
  let requestId = '';
  let candidateId = '';
  let pack = new Map<string, Uint8Array>();

  /** Writes files as a pack (the manifest re-listed when asked, as a careful forger would) and verifies it. */
  const verifyAltered = async (files: Map<string, Uint8Array>, options: { relist?: boolean; key?: string } = {}): Promise<PackVerification> => {
    const altered = new Map(files);
    if (options.relist === true) {
      const manifest = JSON.parse(Buffer.from(altered.get('manifest.json')!).toString('utf8')) as PackManifest;
      const listed = [...altered.entries()]
        .filter(([p]) => p !== 'manifest.json')
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([path, bytes]) => ({ path, sha256: sha256(bytes), bytes: bytes.length }));
      altered.set('manifest.json', utf8.encode(JSON.stringify({ ...manifest, files: listed }, null, 2)));
    }
    const file = join(dir, `altered-${Math.random().toString(36).slice(2)}.zip`);
    writeFileSync(file, zipEvidencePack(altered));
    return services.verifyEvidencePack(file, options.key ?? keyFile);
  };
  const failed = (result: PackVerification): string[] => result.checks.filter((c) => !c.passed && !c.detail.startsWith('not run')).map((c) => c.check);
  const edit = (path: string, change: (value: unknown) => unknown): Map<string, Uint8Array> => {
    const files = new Map(pack);
    files.set(path, utf8.encode(JSON.stringify(change(JSON.parse(Buffer.from(files.get(path)!).toString('utf8'))), null, 2)));
    return files;
  };

  beforeAll(async () => {
    const accounts = await services.accounts();
    const actor = { kind: 'local-cli', osUser: 'test' } as const;
    for (const [name, role] of [
      ['erin', 'ml-engineer'],
      ['quinn', 'qa-regulatory'],
      ['clara', 'clinician-reviewer'],
    ] as const) {
      const { user } = await accounts.createUser(actor, name, role, { label: 'test' });
      await accounts.setPasswordLocally(actor, user.userId, PASSWORDS[name]);
    }
    const calibrated = await services.calibrate({ modelDir: DEMO_MODEL_DIR, dataset: `${VAL}:part=0/2`, method: 'platt', out: join(dir, 'recal'), declared });
    candidateId = calibrated.registered.version.versionId;
    const releases = await services.releases();
    const cli = { kind: 'local-cli', osUser: 't' } as const;
    requestId = (await releases.create({ userName: 'erin' }, { changeType: 'recalibration', site: 'default', candidate: candidateId })).request.requestId;
    await releases.runGates(cli, requestId, { dataset: VAL, declared });
    await releases.sign(requestId, { userName: 'quinn' }, 'approved for release', { password: PASSWORDS.quinn });
    await releases.sign(requestId, { userName: 'clara' }, 'reviewed', { password: PASSWORDS.clara });
    await releases.promote(cli, requestId);
    writeFileSync(keyFile, await services.auditPublicKey());
  }, 300_000);
  afterAll(async () => {
    await services.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes a pack of the request that verifies offline under the audit log’s public key', async () => {
    const { zip, manifest } = await services.releaseEvidencePack(requestId, packFile);
    expect(readFileSync(packFile)).toEqual(Buffer.from(zip));
    pack = unzipEvidencePack(zip);
    expect(manifest).toMatchObject({ format: 'vigil-evidence-pack/1', requestId, site: 'default', candidateVersionId: candidateId });
    expect(manifest.files.map((f) => f.path)).toEqual([
      'approvals.json',
      'audit/entries.json',
      'audit/tree-head.json',
      'criteria.txt',
      'evidence/1-criteria/report.json',
      'gates.json',
      'model/model-card.md',
      'model/vigil-model.json',
      'protocol.json',
      'request.json',
      'shadow-summary.json',
    ]);
    expect(sha256(pack.get('protocol.json')!)).toBe(manifest.protocolSha256);
    const approvals = JSON.parse(Buffer.from(pack.get('approvals.json')!).toString('utf8')) as { signerName: string; role: string; meaning: string }[];
    expect(approvals.map((a) => [a.signerName, a.role, a.meaning])).toEqual([
      ['quinn', 'qa-regulatory', 'approved for release'],
      ['clara', 'clinician-reviewer', 'reviewed'],
    ]);
    const entries = JSON.parse(Buffer.from(pack.get('audit/entries.json')!).toString('utf8')) as { entry: { event: { type: string } } }[];
    expect(entries.map((e) => e.entry.event.type)).toEqual([
      'model_registered',
      'model_registered',
      'release_requested',
      'release_gate_recorded',
      'release_signed',
      'release_signed',
      'deployment_changed',
    ]);
    // Every proof leads to one head: the pack's.
    const head = JSON.parse(Buffer.from(pack.get('audit/tree-head.json')!).toString('utf8')) as { treeSize: number };
    expect(head.treeSize).toBeGreaterThan(0);

    const result = await services.verifyEvidencePack(packFile, keyFile);
    expect(result.checks.map((c) => [c.check, c.passed])).toEqual([
      ['manifest', true],
      ['files_present', true],
      ['no_unlisted_files', true],
      ['protocol_hash', true],
      ['audit_inclusion', true],
      ['tree_head_signature', true],
      ['entries_match', true],
    ]);
    expect(result.ok).toBe(true);

    // The CLI: the pack, the public key a verifier is given, and verify's report and exit code.
    const key = await runVigil(['audit', 'public-key'], dataDir);
    expect(key.stdout).toBe(readFileSync(keyFile, 'utf8'));
    expect(key.stdout).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    const cliPack = join(dir, 'cli-pack.zip');
    const written = await runVigil(['release', 'evidence', requestId, '--out', cliPack], dataDir);
    expect([written.code, written.stderr]).toEqual([0, '']);
    expect(written.stdout).toMatch(/evidence pack of r-.* written to .*cli-pack\.zip: 12 files/);
    // A unique prefix of the id names the request for the CLI too; the pack names it whole.
    const byPrefix = await runVigil(['release', 'evidence', requestId.slice(0, 12), '--out', join(dir, 'by-prefix.zip'), '--json'], dataDir);
    expect(byPrefix.code, byPrefix.stderr).toBe(0);
    expect(JSON.parse(byPrefix.stdout)).toMatchObject({ manifest: { requestId } });
    // An evidence file is never overwritten.
    expect((await runVigil(['release', 'evidence', requestId, '--out', cliPack], dataDir)).code).toBe(2);
    // A directory where the file is meant, and a parent folder that does not exist: said, coded, not "exists already" or a bare write failure.
    for (const [out, why] of [
      [dir, 'is a directory: give the path of a new file (inside it, or elsewhere)'],
      [join(dir, 'no-such-folder', 'pack.zip'), 'cannot be created: its parent folder does not exist (create it first)'],
    ] as const) {
      const refused = await runVigil(['release', 'evidence', requestId, '--out', out], dataDir);
      expect([refused.code, refused.stderr]).toEqual([2, `vigil: OUTPUT_PATH_INVALID: The evidence pack file (--out) ${why}\n`]);
    }
    const verified = await runVigil(['release', 'verify', cliPack, '--public-key', keyFile], join(dir, 'elsewhere'));
    expect([verified.code, verified.stderr]).toEqual([0, '']);
    expect(verified.stdout).toMatch(/^passed {2}manifest: /);
    // Without --public-key: the installation's own key where the log is; elsewhere there is none to trust.
    expect((await runVigil(['release', 'verify', cliPack], dataDir)).code).toBe(0);
    const keyless = await runVigil(['release', 'verify', cliPack], join(dir, 'elsewhere'));
    expect([keyless.code, keyless.stderr]).toEqual([15, expect.stringMatching(/STORE_OPEN_FAILED: .*give the public key/)]);
    expect(verified.stdout).toMatch(/\npassed {2}tree_head_signature: [^\n]*\npassed {2}entries_match: [^\n]*\nevidence pack of r-\S+ verifies\n$/);
  }, 120_000);

  it('fails the file check when one byte of a file changes', async () => {
    const files = new Map(pack);
    const report = new Uint8Array(files.get('evidence/1-criteria/report.json')!);
    report[10] = report[10]! ^ 0x01;
    files.set('evidence/1-criteria/report.json', report);
    const result = await verifyAltered(files);
    expect(result.ok).toBe(false);
    expect(failed(result)).toEqual(['files_present']);
    expect(result.checks.find((c) => c.check === 'files_present')!.detail).toMatch(/^evidence\/1-criteria\/report\.json: SHA-256 /);
    // Re-listed in the manifest, the altered report no longer hashes to what its gate's audit entry recorded.
    const relisted = await verifyAltered(files, { relist: true });
    expect(failed(relisted)).toEqual(['entries_match']);
    expect(relisted.checks.at(-1)!.detail).toMatch(/evidence of gate criteria/);
  });

  it('fails when a signature is dropped from the JSON (and the manifest re-listed), or a file is added', async () => {
    const dropped = edit('approvals.json', (a) => (a as unknown[]).slice(0, 1));
    expect(failed(await verifyAltered(dropped))).toEqual(['files_present']);
    const relisted = await verifyAltered(dropped, { relist: true });
    expect(failed(relisted)).toEqual(['entries_match']);
    expect(relisted.checks.at(-1)!.detail).toBe('approvals.json shows 1 signatures; the audit log records 2, and they differ');
    // Dropping the signature's audit entry as well: the log's entries show the request approved and
    // deployed, and its pinned protocol asks for the signature that is gone.
    const both = edit('audit/entries.json', (entries) =>
      (entries as { entry: { event: Record<string, unknown> } }[]).filter(
        (e) => !(e.entry.event.type === 'release_signed' && e.entry.event.signerName === 'clara'),
      ),
    );
    for (const [path, bytes] of dropped) if (path === 'approvals.json') both.set(path, bytes);
    const incomplete = await verifyAltered(both, { relist: true });
    expect(failed(incomplete)).toEqual(['entries_match']);
    expect(incomplete.checks.at(-1)!.detail).toBe('the request went past approval, but the pack holds no "reviewed" signature by a clinician-reviewer');
    const added = new Map(pack).set('notes.txt', utf8.encode('approved by phone\n'));
    expect(failed(await verifyAltered(added))).toEqual(['no_unlisted_files']);
  });

  it('fails the signature check when the tree head carries another head’s signature, or the key is another', async () => {
    // A later head of the same log, validly signed by the same key, but for another size and root.
    await services.recordAudit({ type: 'config_loaded', configHash: 'x'.repeat(64), vigilVersion: 'test' });
    const later = unzipEvidencePack((await services.releaseEvidencePack(requestId)).zip);
    const laterHead = JSON.parse(Buffer.from(later.get('audit/tree-head.json')!).toString('utf8')) as { signature: string };
    const swapped = edit('audit/tree-head.json', (h) => ({ ...(h as object), signature: laterHead.signature }));
    const result = await verifyAltered(swapped, { relist: true });
    expect(failed(result)).toEqual(['tree_head_signature']);

    const otherKey = join(dir, 'other.pem');
    writeFileSync(otherKey, generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }));
    const wrongKey = await services.verifyEvidencePack(packFile, otherKey);
    expect(wrongKey.ok).toBe(false);
    expect(failed(wrongKey)).toEqual(['tree_head_signature']);
    const cli = await runVigil(['release', 'verify', packFile, '--public-key', otherKey], join(dir, 'elsewhere'));
    expect(cli.code).toBe(4);
    expect(cli.stdout).toMatch(
      /\nFAILED {2}tree_head_signature: [^\n]*\nFAILED {2}entries_match: not run \(tree_head_signature failed\)\nevidence pack DOES NOT verify\n$/,
    );
  });

  it('fails the inclusion check when an audit entry in the pack is rewritten', async () => {
    const rewritten = edit('audit/entries.json', (entries) =>
      (entries as { entry: { event: Record<string, unknown> } }[]).map((e) =>
        e.entry.event.type === 'release_signed' && e.entry.event.signerName === 'clara'
          ? { ...e, entry: { ...e.entry, event: { ...e.entry.event, meaning: 'approved for release' } } }
          : e,
      ),
    );
    const result = await verifyAltered(rewritten, { relist: true });
    expect(failed(result)).toEqual(['audit_inclusion']);
    expect(result.checks.find((c) => c.check === 'audit_inclusion')!.detail).toMatch(/leaf_hash_mismatch/);
  });

  it('refuses what is not a zip, coded', async () => {
    const junk = join(dir, 'junk.zip');
    writeFileSync(junk, 'not a zip at all');
    await expect(services.verifyEvidencePack(junk, keyFile)).rejects.toMatchObject({ code: 'RELEASE_EVIDENCE_INVALID' });
  });
});
