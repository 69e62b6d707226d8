/**
 * The services of one process (the CLI's, and the base the server builds on): predict,
 * de-identify, audit, evaluation and derivation, the model registry and accounts.
 */
import { join } from 'node:path';
import { createKeyedDigest } from '../adapters/crypto-node/keyed-digest.js';
import { NodeCredentials } from '../adapters/crypto-node/node-credentials.js';
import { nodeHasher } from '../adapters/crypto-node/node-hasher.js';
import { sha256 } from '../adapters/crypto-node/sha256.js';
import { loadOrCreateSiteSecret } from '../adapters/crypto-node/site-secret.js';
import { verifyTreeHeadSignature } from '../adapters/crypto-node/verify-tree-head.js';
import { prepareDemoInputs } from '../adapters/demo-inputs/prepare-demo-inputs.js';
import { ElementDeidentifier } from '../adapters/dicom-dcmjs/element-deidentifier.js';
import { FsEvaluationDataSource } from '../adapters/evaluation-fs/fs-evaluation-data.js';
import { FsDeidOutputFolder } from '../adapters/files-fs/fs-deid-output-folder.js';
import { FsInputFiles } from '../adapters/files-fs/fs-input-files.js';
import { readPixelRules } from '../adapters/files-fs/read-pixel-rules.js';
import { PACKAGE_ROOT, type VigilConfig } from '../config/load-config.js';
import { verifyInclusionProof } from '../domain/audit/verify-inclusion-proof.js';
import { validateProfile } from '../domain/deidentification/deidentify-dataset.js';
import { isProfileOption, type ProfileOption } from '../domain/deidentification/profile-attribute.js';
import { PlatformError } from '../domain/errors.js';
import type { AuditLog } from '../ports/audit-log.js';
import type { Logger } from '../ports/logger.js';
import { calibrateModel, choosePolicy, computeReference } from '../workflows/derive-bundle.js';
import { deidentifyFiles } from '../workflows/deidentify-files.js';
import { evaluateModel, type EvaluateOutcome, type EvaluateRequest } from '../workflows/evaluate-model.js';
import { initModel } from '../workflows/init-model.js';
import { readEvaluationSummaries } from '../adapters/model-bundle-fs/read-evaluation-summaries.js';
import { createEvaluationAuditTrail } from '../workflows/evaluation-audit-trail.js';
import { inspectModel } from '../workflows/inspect-model.js';
import { AccountAdministration } from '../workflows/manage-accounts.js';
import { predictImages } from '../workflows/predict-images.js';
import { registerCriteria } from '../workflows/register-criteria.js';
import { findVersion, modelCardOf, registerModel } from '../workflows/register-model.js';
import type { VigilServices } from '../workflows/vigil-services.js';
import { createPredictIngest } from './ingest.js';
import { createModelParts, versionKey } from './models.js';
import { createMonitoringParts, type MonitoringParts } from './monitoring.js';
import { createReleaseParts } from './releases.js';
import { readSitesFile } from '../adapters/files-fs/read-sites-file.js';
import { deploymentLedger } from '../workflows/deployment-ledger.js';
import { hashConfig, inflateLimitsOf, siteSecretFile, systemClock, VIGIL_VERSION } from './settings.js';
import { connectPostgres, createProcessStores, type PostgresConnection } from './stores.js';

/**
 * Wires the services for one process. Parts open on first use; `close()` releases them. `shared.postgres`:
 * the server's connection, when it has one (the audit log then uses it too); otherwise one is made
 * here from VIGIL_DATABASE_URL.
 */
export function createServices(config: VigilConfig, logger: Logger, shared: { readonly postgres?: PostgresConnection } = {}): VigilServices {
  const configHash = hashConfig(config);
  const postgres = shared.postgres ?? connectPostgres(config, logger);
  const stores = createProcessStores(config, postgres);
  const files = new FsInputFiles(config.maxInputBytes);
  let audit: AuditLog | undefined;
  // The site secret is read once per process; pseudonyms and ingest de-identification both key on it.
  let siteSecret: Promise<Uint8Array> | undefined;
  const secret = (): Promise<Uint8Array> => (siteSecret ??= loadOrCreateSiteSecret(siteSecretFile(config)));
  let ingest: Promise<ReturnType<typeof createPredictIngest>> | undefined;
  const ingestParts = () => (ingest ??= secret().then((s) => createPredictIngest(config, s)));

  const openAudit = (): AuditLog => {
    if (audit === undefined) {
      audit = stores.openAuditLog();
      logger.info({ configHash }, 'audit log opened');
    }
    return audit;
  };
  // The configuration that decisions are made under is recorded once per process, before the first
  // decision; read-only commands (verify, prove) leave the log as it is.
  let configRecorded = false;
  const openAuditForDecisions = async (): Promise<AuditLog> => {
    const log = openAudit();
    if (!configRecorded) {
      await log.append({ type: 'config_loaded', configHash, vigilVersion: VIGIL_VERSION });
      configRecorded = true;
    }
    return log;
  };
  const models = createModelParts(config, logger, { openAudit, stores });
  const { bundles, inputs, pool, openRegistry, registerDerived, evaluationDeps } = models;

  // Audit search for the evaluation's look-ups (earlier criteria registrations), on its own handle.
  const evaluationAudit = createEvaluationAuditTrail(openAudit, () => stores.auditSearch());
  // `vigil users`: accounts and tokens in the store the server uses (the recovery path; no token needed).
  let accounts: Promise<AccountAdministration> | undefined;
  const openAccounts = (): Promise<AccountAdministration> =>
    (accounts ??= stores
      .openAccountStores()
      .then((s) => new AccountAdministration({ ...s, credentials: new NodeCredentials(), clock: systemClock, audit: (event) => openAudit().append(event) })));

  const evaluate = async (request: EvaluateRequest): Promise<EvaluateOutcome> => {
    // Loaded on first use: Vega and Fastify each add ~0.1 s to every command's start-up otherwise.
    const { VegaChartRenderer } = await import('../adapters/charts-vega/vega-chart-renderer.js');
    return evaluateModel(
      { ...evaluationDeps(), charts: new VegaChartRenderer(), vigilVersion: VIGIL_VERSION, hasher: nodeHasher, audit: evaluationAudit },
      request,
    );
  };
  // Release requests and site deployments (`vigil release`, `vigil deploy`, /api/releases, /api/deployments).
  let monitoringParts: Promise<MonitoringParts> | undefined;
  const releaseParts = createReleaseParts(config, { stores, openAudit, openRegistry, evaluate, recordAudit: (event) => openAudit().append(event) });

  return {
    async predict(paths, options, emit, onProgress) {
      const auditLog = await openAuditForDecisions();
      const held = await pool.acquire(options.versionId === undefined ? (options.modelDir ?? config.modelDir) : versionKey(options.versionId));
      const { pseudonymizer, deidentify } = await ingestParts();
      const storedAge = options.storedPatientAge;
      try {
        return await predictImages(
          {
            files,
            inputs,
            hasher: nodeHasher,
            pseudonymizer,
            audit: auditLog,
            logger,
            chain: held.chain,
            configHash,
            origin: options.origin ?? 'cli',
            ...(options.site === undefined ? {} : { site: options.site }),
            ...(options.studyKey === undefined ? {} : { studyKey: options.studyKey }),
            batchSize: config.batchSize,
            ...(options.measure === true ? { measure: true } : {}),
            ...(options.declared === undefined ? {} : { declared: options.declared }),
            ...(options.alreadyDeidentified === true ? {} : { deidentifyAtIngest: deidentify }),
            ...(storedAge === undefined ? {} : { storedPatientAge: (file: { readonly path: string }) => storedAge(file.path) }),
          },
          paths,
          emit,
          onProgress,
        );
      } finally {
        held.release();
      }
    },
    modelPoolStats() {
      return pool.stats();
    },
    async deidentify(paths, options, emit) {
      // De-identification needs no store and no model: it opens only the secret and the rules.
      const unknown = options.options.filter((o) => !isProfileOption(o));
      if (unknown.length > 0)
        throw new PlatformError('DEID_PROFILE_INVALID', `Unknown de-identification option(s): ${unknown.join(', ')}`, { count: unknown.length });
      const chosen = new Set(options.options as readonly ProfileOption[]);
      validateProfile(chosen);
      const chosenSecret = options.secretFile === undefined ? await secret() : await loadOrCreateSiteSecret(options.secretFile);
      const siteRules = options.pixelRulesFile === undefined ? [] : await readPixelRules(options.pixelRulesFile);
      const bundledRules = await readPixelRules(join(PACKAGE_ROOT, 'config', 'pixel-rules.json'));
      return deidentifyFiles(
        {
          files,
          deidentifier: new ElementDeidentifier({ inflate: inflateLimitsOf(config) }),
          output: new FsDeidOutputFolder(options.outDir, paths),
          hasher: nodeHasher,
          logger,
        },
        paths,
        { profile: { name: 'basic', options: chosen }, digest: createKeyedDigest(chosenSecret), pixelRules: [...siteRules, ...bundledRules] },
        emit,
      );
    },
    verifyAudit() {
      return openAudit().verify();
    },
    async proveAudit(auditId) {
      const proof = await openAudit().prove(auditId);
      const verified = verifyInclusionProof(proof, sha256).ok && verifyTreeHeadSignature(proof.treeHead);
      return { proof, verified };
    },
    evaluate,
    registerCriteria(path) {
      return registerCriteria({ data: new FsEvaluationDataSource({ maxInputBytes: config.maxInputBytes }), audit: evaluationAudit }, path);
    },
    async calibrate(request) {
      const outcome = await calibrateModel(evaluationDeps(), request);
      return { ...outcome, registered: await registerDerived(request.modelDir, request.out, 'vigil calibrate', outcome.fit.datasetSha256) };
    },
    async choosePolicy(request) {
      const outcome = await choosePolicy(evaluationDeps(), request);
      return { ...outcome, registered: await registerDerived(request.modelDir, request.out, 'vigil policy', outcome.evidence.datasetSha256) };
    },
    async registerModel(request) {
      return registerModel(await openRegistry(), request);
    },
    async modelVersions() {
      return (await openRegistry()).registry.list();
    },
    async modelVersion(idOrPrefix) {
      return findVersion((await openRegistry()).registry, idOrPrefix);
    },
    async modelCard(idOrPrefix) {
      return modelCardOf(await openRegistry(), idOrPrefix);
    },
    async computeReference(request) {
      const outcome = await computeReference(evaluationDeps(), request);
      return {
        ...outcome,
        registered: await registerDerived(request.modelDir, request.out, 'vigil model reference', outcome.manifest.referenceDistribution?.source.sha256),
      };
    },
    async initModel(request) {
      const { data, output, clock, inputs: kinds, batchSize, vigilVersion } = evaluationDeps();
      return initModel(
        {
          data,
          output,
          clock,
          inputs: kinds,
          batchSize,
          vigilVersion,
          hasher: nodeHasher,
          runner: models.runner,
          readModelFile: (path) => bundles.readModelFile(path),
          evaluate,
          readEvaluations: readEvaluationSummaries,
          register: async (directory, lineage) => (await registerModel(await openRegistry(), { directory, actor: 'local-cli', lineage })).version,
        },
        request,
      );
    },
    inspectModel(directory) {
      return inspectModel({ bundles }, directory);
    },
    getAuditEntry(auditId) {
      return openAudit().get(auditId);
    },
    storeInstances() {
      return Promise.reject(new PlatformError('INTERNAL', 'Storing instances needs the server (vigil serve)'));
    },
    uploadImages() {
      return Promise.reject(new PlatformError('INTERNAL', 'Uploads need the server (vigil serve)'));
    },
    studyLookupKeys() {
      return Promise.reject(new PlatformError('INTERNAL', 'Study lookups need the server (vigil serve)'));
    },
    studyResultObjects() {
      return Promise.reject(new PlatformError('INTERNAL', 'Result objects need the server (vigil serve)'));
    },
    caseResultBundle() {
      return Promise.reject(new PlatformError('INTERNAL', 'Results need the server (vigil serve)'));
    },
    recordReview() {
      return Promise.reject(new PlatformError('INTERNAL', 'Reviews need the server (vigil serve)'));
    },
    async recordAudit(event) {
      return (await openAudit().append(event)).auditId;
    },
    auditSize() {
      return openAudit().size();
    },
    currentModel() {
      return inspectModel({ bundles }, config.modelDir);
    },
    prepareDemo() {
      return prepareDemoInputs(config.sampleDataDir, config.dataDir);
    },
    accounts: openAccounts,
    releases: releaseParts.releases,
    monitoring: () =>
      (monitoringParts ??= Promise.all([stores.openMonitorStores(), readSitesFile(config.sitesFile), stores.auditSearch()]).then(
        ([monitorStores, sites, auditSearch]) =>
          createMonitoringParts(config, logger, {
            stores: monitorStores,
            releases: releaseParts.releases,
            archive: async () => (await openRegistry()).archive,
            sites,
            recordAudit: (event) => openAudit().append(event),
            auditSearch,
            userById: async (userId) =>
              (await openAccounts()).user(userId).catch((error: unknown) => {
                if (error instanceof PlatformError && error.code === 'ACCESS_USER_NOT_FOUND') return undefined;
                throw error;
              }),
          }),
      )),
    async deploymentLedger(site, at) {
      const sites = await readSitesFile(config.sitesFile);
      if (!sites.sites.some((s) => s.id === site)) throw new PlatformError('DEPLOYMENT_NOT_FOUND', 'No configured site has that id', {});
      return deploymentLedger({ search: await stores.auditSearch(), registry: (await openRegistry()).registry }, site, at, systemClock.now());
    },
    releaseEvidencePack: releaseParts.releaseEvidencePack,
    verifyEvidencePack: releaseParts.verifyEvidencePack,
    auditPublicKey() {
      return Promise.resolve(releaseParts.auditPublicKey());
    },
    async close() {
      await (await monitoringParts?.catch(() => undefined))?.close();
      await models.close();
      await audit?.close();
      stores.close();
      if (shared.postgres === undefined) await postgres?.close();
    },
  };
}
