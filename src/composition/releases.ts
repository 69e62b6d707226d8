/**
 * Releases and deployments per site: release requests and their evidence (VIGIL_DATA_DIR/releases),
 * the protocols (bundled, or VIGIL_RELEASE_PROTOCOLS_DIR), the gates' evaluations, re-authentication
 * against the accounts, and the site deployments they change.
 */
import { join } from 'node:path';
import { NodeCredentials } from '../adapters/crypto-node/node-credentials.js';
import { nodeHasher } from '../adapters/crypto-node/node-hasher.js';
import { FsEvaluationDataSource } from '../adapters/evaluation-fs/fs-evaluation-data.js';
import { readSitesFile } from '../adapters/files-fs/read-sites-file.js';
import { FsReleaseEvidence } from '../adapters/release-fs/fs-release-evidence.js';
import { FsReleaseProtocols } from '../adapters/release-fs/fs-release-protocols.js';
import { PACKAGE_ROOT, type VigilConfig } from '../config/load-config.js';
import type { AuditEvent } from '../domain/audit/audit-event.js';
import { Deployments } from '../workflows/deployments.js';
import type { EvaluateOutcome, EvaluateRequest } from '../workflows/evaluate-model.js';
import { registerModel, type RegistryDependencies } from '../workflows/register-model.js';
import { Releases } from '../workflows/releases.js';
import { systemClock } from './settings.js';
import type { ProcessStores } from './stores.js';

export function createReleaseParts(
  config: VigilConfig,
  parts: {
    readonly stores: Pick<ProcessStores, 'openReleaseStore' | 'openDeploymentStore' | 'openAccountStores' | 'auditSearch'>;
    readonly openRegistry: () => Promise<RegistryDependencies>;
    readonly evaluate: (request: EvaluateRequest) => Promise<EvaluateOutcome>;
    readonly recordAudit: (event: AuditEvent) => Promise<unknown>;
  },
): { readonly releases: () => Promise<Releases> } {
  let releases: Promise<Releases> | undefined;
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
    const data = new FsEvaluationDataSource();
    return new Releases({
      store,
      evidence: new FsReleaseEvidence(join(config.dataDir, 'releases')),
      protocols: new FsReleaseProtocols({
        bundled: join(PACKAGE_ROOT, 'config', 'release-protocols'),
        ...(config.releaseProtocolsDir === undefined ? {} : { site: config.releaseProtocolsDir }),
      }),
      deployments,
      shadowSummary: (site, candidate, requestId) => deploymentStore.shadowSummary(site, candidate, requestId),
      registry: registryDeps.registry,
      archive: registryDeps.archive,
      access,
      sessions,
      credentials: new NodeCredentials(),
      loginLimit: { maxFailures: config.loginMaxFailures, windowMs: config.loginWindowMs },
      datasetSha256: async (spec) => (await data.openDataset(spec, {})).sha256,
      evaluate: parts.evaluate,
      hasher: nodeHasher,
      clock: systemClock,
      recordAudit: parts.recordAudit,
    });
  };
  return { releases: () => (releases ??= open()) };
}
