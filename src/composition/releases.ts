/**
 * Releases and deployments per site: release requests and their evidence (VIGIL_DATA_DIR/releases),
 * the protocols (bundled, or VIGIL_RELEASE_PROTOCOLS_DIR), the gates' evaluations, re-authentication
 * against the accounts, and the site deployments they change.
 */
import { join } from 'node:path';
import { NodeCredentials } from '../adapters/crypto-node/node-credentials.js';
import { nodeHasher } from '../adapters/crypto-node/node-hasher.js';
import { readAuditPublicKeyPem } from '../adapters/crypto-node/audit-signing-key.js';
import { sha256 } from '../adapters/crypto-node/sha256.js';
import { publicKeyFromPem, verifyTreeHeadSignature } from '../adapters/crypto-node/verify-tree-head.js';
import { MANIFEST_FILE } from '../adapters/model-bundle-fs/fs-model-bundle-source.js';
import { readEvidencePackFile, unzipEvidencePack, writeEvidencePackFile, zipEvidencePack } from '../adapters/release-fs/evidence-zip.js';
import { FsEvaluationDataSource } from '../adapters/evaluation-fs/fs-evaluation-data.js';
import { resolveDatasetWithin } from '../adapters/evaluation-fs/resolve-dataset-within.js';
import { readBoundedFile, readRegularFile } from '../adapters/files-fs/read-bounded-file.js';
import { readSitesFile } from '../adapters/files-fs/read-sites-file.js';
import { FsReleaseEvidence } from '../adapters/release-fs/fs-release-evidence.js';
import { FsReleaseProtocols } from '../adapters/release-fs/fs-release-protocols.js';
import { PACKAGE_ROOT, type VigilConfig } from '../config/load-config.js';
import type { AuditEvent } from '../domain/audit/audit-event.js';
import { PlatformError } from '../domain/errors.js';
import type { ShadowSummary } from '../ports/deployment-store.js';
import { Deployments } from '../workflows/deployments.js';
import type { EvaluateOutcome, EvaluateRequest } from '../workflows/evaluate-model.js';
import type { AuditLog } from '../ports/audit-log.js';
import type { PackManifest, PackVerification } from '../domain/release/evidence-pack.js';
import { buildEvidencePack, verifyEvidencePackZip } from '../workflows/release-evidence-pack.js';
import { modelCardOf, registerModel, type RegistryDependencies } from '../workflows/register-model.js';
import { Releases } from '../workflows/releases.js';
import { systemClock, VIGIL_VERSION } from './settings.js';
import type { ProcessStores } from './stores.js';

export function createReleaseParts(
  config: VigilConfig,
  parts: {
    readonly stores: Pick<ProcessStores, 'openReleaseStore' | 'openDeploymentStore' | 'openAccountStores' | 'auditSearch'>;
    readonly openAudit: () => AuditLog;
    readonly openRegistry: () => Promise<RegistryDependencies>;
    readonly evaluate: (request: EvaluateRequest) => Promise<EvaluateOutcome>;
    readonly recordAudit: (event: AuditEvent) => Promise<unknown>;
  },
): {
  readonly releases: () => Promise<Releases>;
  readonly releaseEvidencePack: (requestId: string, out?: string) => Promise<{ readonly zip: Uint8Array; readonly manifest: PackManifest }>;
  readonly verifyEvidencePack: (zipFile: string, publicKeyPemFile?: string) => Promise<PackVerification>;
  readonly auditPublicKey: () => string;
} {
  let releases: Promise<Releases> | undefined;
  // Set when releases open (the deployment store's handle); the pack reads the shadow summary through it.
  let shadowSummaryOf: ((site: string, candidate: string, requestId: string) => Promise<ShadowSummary>) | undefined;
  const open = async (): Promise<Releases> => {
    const [registryDeps, store, deploymentStore, { access, sessions }, sites, auditSearch] = await Promise.all([
      parts.openRegistry(),
      parts.stores.openReleaseStore(),
      parts.stores.openDeploymentStore(),
      parts.stores.openAccountStores(),
      readSitesFile(config.sitesFile),
      parts.stores.auditSearch(),
    ]);
    const deployments = new Deployments({
      store: deploymentStore,
      auditSearch,
      registry: registryDeps.registry,
      sites,
      hasher: nodeHasher,
      clock: systemClock,
      recordAudit: parts.recordAudit,
    });
    // A site with nothing deployed yet gets the configured model (VIGIL_MODEL_DIR), registered: what a
    // release's baseline and a rollback refer to. Sites deployed already keep what they run.
    const configured = await registerModel(registryDeps, { directory: config.modelDir, actor: 'system' });
    await deployments.deployInitial(configured.version.versionId);
    const data = new FsEvaluationDataSource({ maxInputBytes: config.maxInputBytes });
    return new Releases({
      store,
      evidence: new FsReleaseEvidence(join(config.dataDir, 'releases')),
      protocols: new FsReleaseProtocols({
        bundled: join(PACKAGE_ROOT, 'config', 'release-protocols'),
        ...(config.releaseProtocolsDir === undefined ? {} : { site: config.releaseProtocolsDir }),
      }),
      deployments,
      shadowSummary: (shadowSummaryOf = (site, candidate, requestId) => deploymentStore.shadowSummary(site, candidate, requestId)),
      registry: registryDeps.registry,
      archive: registryDeps.archive,
      access,
      sessions,
      credentials: new NodeCredentials(),
      loginLimit: { maxFailures: config.loginMaxFailures, windowMs: config.loginWindowMs },
      datasetSha256: async (spec) => (await data.openDataset(spec, {})).sha256,
      resolveCallerDataset: (spec) => resolveDatasetWithin(spec, config.releaseDatasetsDir ?? config.sampleDataDir),
      evaluate: parts.evaluate,
      hasher: nodeHasher,
      clock: systemClock,
      recordAudit: parts.recordAudit,
    });
  };
  const openReleases = (): Promise<Releases> => (releases ??= open());
  return {
    releases: openReleases,
    async releaseEvidencePack(requestId, out) {
      const released = await openReleases();
      const registryDeps = await parts.openRegistry();
      const log = parts.openAudit();
      const pack = await buildEvidencePack(
        {
          show: (id) => released.show(id),
          evidence: (id, hash) => released.evidence(id, hash),
          shadowSummary: (site, candidate, id) => {
            if (shadowSummaryOf === undefined) throw new PlatformError('INTERNAL', 'The deployment store is not open', {});
            return shadowSummaryOf(site, candidate, id);
          },
          modelManifest: async (versionId) =>
            readRegularFile(join(await registryDeps.archive.open(versionId), MANIFEST_FILE), `bundle's ${MANIFEST_FILE}`, 1024 * 1024),
          modelCard: async (versionId) => (await modelCardOf(registryDeps, versionId)).card,
          auditSearch: await parts.stores.auditSearch(),
          prove: (auditId) => log.prove(auditId),
          zip: zipEvidencePack,
          sha256,
          clock: systemClock,
          vigilVersion: VIGIL_VERSION,
        },
        requestId,
      );
      if (out !== undefined) await writeEvidencePackFile(out, pack.zip);
      return pack;
    },
    async verifyEvidencePack(zipFile, publicKeyPemFile) {
      // A third party gives the installation's published key; on the installation itself, its own key.
      const pem = publicKeyPemFile === undefined ? readAuditPublicKeyPem(config.dataDir) : await readPublicKeyFile(publicKeyPemFile);
      const trusted = publicKeyFromPem(pem);
      return verifyEvidencePackZip({ unzip: unzipEvidencePack, sha256 }, await readEvidencePackFile(zipFile), (head) => verifyTreeHeadSignature(head, trusted));
    },
    auditPublicKey: () => readAuditPublicKeyPem(config.dataDir),
  };
}

/** A PEM public key file: a few hundred bytes; anything past 64 KiB is not one. */
async function readPublicKeyFile(path: string): Promise<string> {
  return new TextDecoder().decode(await readBoundedFile(path, 'public key file', 65_536));
}
