/**
 * The composition root: the only file that wires adapters into workflows. The CLI (and later the
 * HTTP server) receive the finished services and never see an adapter.
 */
import { canonicalJson } from './domain/audit/canonical-json.js';
import { verifyInclusionProof } from './domain/audit/verify-inclusion-proof.js';
import { toPlatformError } from './domain/errors.js';
import { EXIT_CODES } from './cli/exit-codes.js';
import { DcmjsDicomReader, type InflateLimits } from './adapters/dicom-dcmjs/dcmjs-dicom-reader.js';
import { rasterKind, SharpRasterReader } from './adapters/image-sharp/sharp-raster-reader.js';
import { OnnxModelRunner } from './adapters/onnx-runtime/onnx-model-runner.js';
import { FsModelBundleSource } from './adapters/model-bundle-fs/fs-model-bundle-source.js';
import { SqliteAuditLog } from './adapters/store-sqlite/sqlite-audit-log.js';
import { FsInputFiles } from './adapters/files-fs/fs-input-files.js';
import { HmacPseudonymizer } from './adapters/crypto-node/hmac-pseudonymizer.js';
import { nodeHasher } from './adapters/crypto-node/node-hasher.js';
import { sha256 } from './adapters/crypto-node/sha256.js';
import { loadOrCreateSiteSecret } from './adapters/crypto-node/site-secret.js';
import { verifyTreeHeadSignature } from './adapters/crypto-node/verify-tree-head.js';
import { prepareDemoInputs } from './adapters/demo-inputs/prepare-demo-inputs.js';
import { FsInstanceStore } from './adapters/files-fs/fs-instance-store.js';
import { accessionLookupKey, pseudonymousStudyKey } from './domain/deidentification/keyed-pseudonyms.js';
import { ServiceLoop } from './workflows/service-loop.js';
import type { DeidentifiedInstance } from './workflows/ingest-instance.js';
import { storeInstances } from './workflows/store-instances.js';
import { ingestUpload } from './workflows/ingest-upload.js';
import { seedDemo, type SeedOutcome } from './workflows/seed-demo.js';
import { randomUUID } from 'node:crypto';
import type { DeidentifiedAtIngest, PredictResult } from './workflows/predict-images.js';
import { runCli } from './cli/run-cli.js';
import type { HttpApp } from './http/create-http-app.js';
import type { DicomReceiver } from './ports/dicom-receiver.js';
import { openSqliteDatabase, type SqliteDatabase } from './adapters/store-sqlite/open-sqlite.js';
import { SqliteAccessStore } from './adapters/store-sqlite/sqlite-access-store.js';
import { SqliteJobQueue } from './adapters/store-sqlite/sqlite-job-queue.js';
import { SqliteCaseStore, SqliteStudyRegistry } from './adapters/store-sqlite/sqlite-study-registry.js';
import { SqliteWorklistStore } from './adapters/store-sqlite/sqlite-worklist-store.js';
import { PostgresConnection } from './adapters/store-postgres/postgres-connection.js';
import { PostgresAccessStore } from './adapters/store-postgres/postgres-access-store.js';
import { PostgresJobQueue } from './adapters/store-postgres/postgres-job-queue.js';
import { PostgresCaseStore, PostgresStudyRegistry } from './adapters/store-postgres/postgres-study-registry.js';
import { PostgresWorklistStore } from './adapters/store-postgres/postgres-worklist-store.js';
import { PostgresSessionStore } from './adapters/store-postgres/postgres-session-store.js';
import { PostgresAuditSearch } from './adapters/store-postgres/postgres-audit-search.js';
import { PostgresReidentificationVault } from './adapters/store-postgres/postgres-reidentification-vault.js';
import { PostgresSystemStats } from './adapters/store-postgres/postgres-system-stats.js';
import type { AccessStore } from './ports/access-store.js';
import type { CaseStore } from './ports/case-store.js';
import type { JobQueue } from './ports/job-queue.js';
import type { StudyRegistry } from './ports/study-registry.js';
import type { WorklistStore } from './ports/worklist-store.js';
import { loadConfig, type VigilConfig } from './config/load-config.js';
import { createLogger } from './logging/create-logger.js';
import type { AuditLog } from './ports/audit-log.js';
import type { AuditSearch } from './ports/audit-search.js';
import type { Clock } from './ports/clock.js';
import type { Logger } from './ports/logger.js';
import { inspectModel, type ModelInspection } from './workflows/inspect-model.js';
import { loadModel } from './workflows/load-model.js';
import { ModelPool } from './workflows/model-pool.js';
import { predictImages } from './workflows/predict-images.js';
import { standardInputKinds } from './workflows/input-kinds.js';
import { deidentifyFiles } from './workflows/deidentify-files.js';
import { ElementDeidentifier } from './adapters/dicom-dcmjs/element-deidentifier.js';
import { FsDeidOutputFolder } from './adapters/files-fs/fs-deid-output-folder.js';
import { readPixelRules } from './adapters/files-fs/read-pixel-rules.js';
import { createKeyedDigest } from './adapters/crypto-node/keyed-digest.js';
import { isProfileOption, type ProfileOption } from './domain/deidentification/profile-attribute.js';
import type { KeyedDigest } from './domain/deidentification/keyed-pseudonyms.js';
import { validateProfile } from './domain/deidentification/deidentify-dataset.js';
import { PlatformError, isPlatformError } from './domain/errors.js';
import { PACKAGE_ROOT } from './config/load-config.js';
import type { VigilServices } from './workflows/vigil-services.js';
import type { AuditEvent } from './domain/audit/audit-event.js';
import { findVersion, modelCardOf, registerModel, type RegistryDependencies } from './workflows/register-model.js';
import { FsBundleArchive } from './adapters/model-bundle-fs/fs-bundle-archive.js';
import { canonicalBundleListing } from './domain/registry/model-version.js';
import { readEvaluationSummaries } from './adapters/model-bundle-fs/read-evaluation-summaries.js';
import { SqliteModelRegistry } from './adapters/store-sqlite/sqlite-model-registry.js';
import { PostgresModelRegistry } from './adapters/store-postgres/postgres-model-registry.js';
import { FsEvaluationDataSource } from './adapters/evaluation-fs/fs-evaluation-data.js';
import { FsEvaluationOutput } from './adapters/evaluation-fs/fs-evaluation-output.js';
import { evaluateModel, type EvaluateOutcome, type EvaluateRequest } from './workflows/evaluate-model.js';
import { createEvaluationAuditTrail } from './workflows/evaluation-audit-trail.js';
import { registerCriteria } from './workflows/register-criteria.js';
import { calibrateModel, choosePolicy, computeReference, type DeriveDependencies } from './workflows/derive-bundle.js';
import { initModel } from './workflows/init-model.js';
import type { ModelSession } from './ports/model-runner.js';
import type { ModelBundle } from './domain/model/model-bundle.js';
import { basename, join } from 'node:path';
import { readFileSync } from 'node:fs';
import { NodeCredentials } from './adapters/crypto-node/node-credentials.js';
import { AccountAdministration } from './workflows/manage-accounts.js';
import { createReportCharts } from './workflows/report-charts.js';
import type { SessionStore } from './ports/session-store.js';
import { SqliteSessionStore } from './adapters/store-sqlite/sqlite-session-store.js';
import { DashboardSessions } from './workflows/dashboard-sessions.js';
import { readInstanceIdentity, readSentIdentity } from './adapters/dicom-dcmjs/read-instance-identity.js';
import { resultSrDicomJson, writeResultSr } from './adapters/dicom-dcmjs/write-result-sr.js';
import { studyResultObjects } from './workflows/study-result-objects.js';
import { dicomSenderResolver, parseDicomSenders } from './workflows/dicom-senders.js';
import { arrivalSites } from './workflows/arrival-sites.js';
import { cachedUserDirectory } from './workflows/user-directory.js';
import { readSitesFile } from './adapters/files-fs/read-sites-file.js';
import { createResultSealer } from './adapters/crypto-node/result-sealer.js';
import { readWebhookSecret } from './adapters/crypto-node/webhook-secret.js';
import { HttpWebhookSender } from './adapters/webhook-http/http-webhook-sender.js';
import { SqliteReidentificationVault } from './adapters/store-sqlite/sqlite-reidentification-vault.js';
import type { ReidentificationVault } from './ports/reidentification-vault.js';
import type { InstanceStore } from './ports/instance-store.js';
import type { ConceptCode } from './domain/results/case-result.js';
import {
  assembleCaseResult,
  fhirBundleFor,
  type CaseResultDependencies,
  type DeliveryJobDependencies,
  type ResultDestinationKind,
  type ResultIds,
} from './workflows/deliver-results.js';
import { renderCaseImage } from './workflows/render-case-image.js';
import { recordReview } from './workflows/record-review.js';
import { SharpImageEncoder } from './adapters/image-sharp/sharp-image-encoder.js';
import { SqliteAuditSearch } from './adapters/store-sqlite/sqlite-audit-search.js';
import { FsModelDocuments } from './adapters/model-bundle-fs/fs-model-documents.js';
import { SqliteSystemStats } from './adapters/store-sqlite/sqlite-system-stats.js';
import { summarizeSystem } from './workflows/system-summary.js';

const systemClock: Clock = { now: () => new Date() };

export const VIGIL_VERSION = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/**
 * The settings that change what Vigil decides or keeps for a case (recorded with every decision). An
 * allowlist: ports, sessions, destinations and the database's address (which may hold a password)
 * do not change a decision, and a new setting is left out until someone decides it belongs here.
 */
const DECISION_SETTINGS = [
  // The model is not here: every decision records the model's own identity and SHA-256.
  'executionProvider',
  'intraOpThreads',
  'batchSize',
  'maxInputBytes',
  'maxInflateRatio',
  'deidOptions',
  'studyQuietMs',
  'reviewSampleRate',
] as const satisfies readonly (keyof VigilConfig)[];

/** SHA-256 of the configuration as it affects decisions (DECISION_SETTINGS). */
export function hashConfig(config: VigilConfig): string {
  return nodeHasher.sha256Hex(canonicalJson(Object.fromEntries(DECISION_SETTINGS.map((key) => [key, config[key]]))));
}

/** The site secret's file: VIGIL_SECRET_FILE, or `site-secret` in the data folder. */
function siteSecretFile(config: VigilConfig): string {
  return config.secretFile ?? join(config.dataDir, 'site-secret');
}

/** How far a Deflated DICOM dataset may inflate, wherever one is read (VIGIL_MAX_INPUT_BYTES, VIGIL_MAX_INFLATE_RATIO). */
function inflateLimitsOf(config: VigilConfig): InflateLimits {
  return { maxInflatedBytes: config.maxInputBytes, maxInflateRatio: config.maxInflateRatio };
}

/**
 * De-identification at the door with the ingest profile (VIGIL_DEID_OPTIONS), headers only: the
 * pixels stay inside the data folder, for the model and the reviewer. One piece for every way in
 * (predict, C-STORE, STOW-RS); throws for what cannot be de-identified.
 */
function createIngestDeidentifier(
  config: VigilConfig,
  digest: KeyedDigest,
  options: { readonly keepOriginals?: boolean } = {},
): (bytes: Uint8Array) => Promise<DeidentifiedInstance> {
  const profile = { name: 'basic' as const, options: new Set(config.deidOptions) };
  validateProfile(profile.options);
  const deidentifier = new ElementDeidentifier({ inflate: inflateLimitsOf(config) });
  return async (bytes) => {
    // Results re-identified (the server): the originals a result needs, read from the de-identifier's own
    // parse before anything is changed. An instance without them is still ingested; its study's results
    // then cannot be re-identified.
    // A Deflated instance is kept inflated (keepDeflated: false), so that nothing downstream inflates it again.
    const outcome = await deidentifier.deidentify(bytes, {
      profile,
      digest,
      pixelRules: [],
      headersOnly: true,
      readOriginal: options.keepOriginals === true,
      keepDeflated: false,
    });
    if (outcome.status !== 'deidentified') throw new PlatformError('DEID_PIXEL_CLEAN_FAILED', 'The instance could not be de-identified at ingest');
    // Type 1 in every IOD: without it the instance cannot be filed into a study (refused, not failed).
    if (outcome.studyInstanceUid === undefined) throw new PlatformError('DICOM_IMAGE_ATTRIBUTES_INVALID', 'The instance has no Study Instance UID (0020,000D)');
    return {
      studyUid: outcome.studyInstanceUid,
      sopInstanceUid: outcome.sopInstanceUid,
      bytes: outcome.bytes,
      ...(outcome.original === undefined ? {} : { original: outcome.original }),
      ...(outcome.patientAgeYears === undefined ? {} : { patientAgeYears: outcome.patientAgeYears }),
      studyFacts: outcome.studyFacts,
    };
  };
}

/** PS3.5 B.2: a UID under 2.25 is the decimal of 128 bits; here the first 128 bits of a SHA-256. */
function uid225(hex: string): string {
  return `2.25.${BigInt('0x' + hex.slice(0, 32)).toString()}`;
}

/** Ids derived from names by SHA-256: 2.25 UIDs, and RFC 9562 version 8 UUIDs. */
const resultIds: ResultIds = {
  uidOf: (name) => uid225(nodeHasher.sha256Hex(name)),
  uuidOf: (name) => {
    const h = nodeHasher.sha256Hex(name);
    const variant = ((Number.parseInt(h.charAt(16), 16) & 0x3) | 0x8).toString(16);
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-8${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
  },
};

/**
 * Results back (workflows/deliver-results.ts): the destinations configured, the delivery job's
 * dependencies when there is one, and the case-to-document assembly the FHIR route uses too.
 */
async function createResultParts(
  config: VigilConfig,
  parts: {
    readonly base: Omit<CaseResultDependencies, 'vault' | 'studyInstances' | 'findingCodes' | 'vigilVersion'>;
    readonly instances: InstanceStore;
    readonly vault: ReidentificationVault | undefined;
    readonly currentModel: () => Promise<ModelInspection>;
    readonly deviceObserverUid: string;
    readonly jobs: DeliveryJobDependencies['jobs'];
    readonly recordAudit: DeliveryJobDependencies['recordAudit'];
    readonly logger: Logger;
  },
): Promise<{
  readonly destinations: readonly ResultDestinationKind[];
  readonly delivery?: DeliveryJobDependencies;
  readonly caseResults: CaseResultDependencies;
  /** Deliveries and failed attempts since start, per configured destination (for /api/metrics). */
  readonly counts: () => Readonly<Record<string, { readonly delivered: number; readonly failed: number }>>;
}> {
  const caseResults: CaseResultDependencies = {
    ...parts.base,
    ...(parts.vault === undefined ? {} : { vault: parts.vault }),
    vigilVersion: VIGIL_VERSION,
    studyInstances: async (studyUid) => {
      const identities = [];
      for (const uid of await parts.instances.listDicomInstances(studyUid))
        identities.push(await readInstanceIdentity(await parts.instances.readDicomInstance(studyUid, uid), inflateLimitsOf(config)));
      return identities;
    },
    // Codes come from the configured model's manifest; a case judged by another model keeps its labels only.
    findingCodes: async (model) => {
      const { manifest } = await parts.currentModel();
      if (manifest.model.sha256 !== model.sha256) return new Map();
      const codes = new Map<string, ConceptCode>();
      for (const output of manifest.outputs) for (const finding of output.findings) if (finding.code !== undefined) codes.set(finding.label, finding.code);
      return codes;
    },
  };
  const destinations: ResultDestinationKind[] = [];
  let dicom: DeliveryJobDependencies['dicom'];
  let webhook: DeliveryJobDependencies['webhook'];
  if (config.resultDicomDestination !== undefined) {
    const { DimseDcmjsSender } = await import('./adapters/dimse-dcmjs/dimse-dcmjs-sender.js');
    dicom = new DimseDcmjsSender({ destination: config.resultDicomDestination, callingAeTitle: config.dicomAeTitle, timeoutMs: 30_000 });
    destinations.push('dicom');
  }
  if (config.resultWebhookUrl !== undefined && config.resultWebhookSecretFile !== undefined) {
    const secret = await readWebhookSecret(config.resultWebhookSecretFile);
    webhook = new HttpWebhookSender({ url: config.resultWebhookUrl, secret, timeoutMs: 30_000, clock: systemClock });
    destinations.push('webhook');
  }
  if (destinations.length === 0) return { destinations, caseResults, counts: () => ({}) };
  const counts = { dicom: { delivered: 0, failed: 0 }, webhook: { delivered: 0, failed: 0 } };
  return {
    destinations,
    caseResults,
    delivery: {
      ...caseResults,
      jobs: parts.jobs,
      recordAudit: parts.recordAudit,
      logger: parts.logger,
      leaseMs: config.jobLeaseMs,
      ids: resultIds,
      writeSr: writeResultSr,
      ...(dicom === undefined ? {} : { dicom }),
      ...(webhook === undefined ? {} : { webhook }),
      deviceObserverUid: parts.deviceObserverUid,
      patientIdSystem: config.fhirPatientIdSystem,
      metrics: {
        delivered: (destination) => void (counts[destination].delivered += 1),
        failed: (destination) => void (counts[destination].failed += 1),
      },
    },
    counts: () => Object.fromEntries(destinations.map((d) => [d, { ...counts[d] }])),
  };
}

/** The shared PostgreSQL store (VIGIL_DATABASE_URL), connected on first use; undefined: SQLite. */
function connectPostgres(config: VigilConfig, logger: Logger): PostgresConnection | undefined {
  if (config.databaseUrl === undefined) return undefined;
  return new PostgresConnection({
    connectionString: config.databaseUrl,
    onIdleError: (error) => logger.warn({ stage: 'store', code: (error as { code?: string }).code ?? 'unknown' }, 'a database connection failed'),
  });
}

/**
 * Wires the services for one process. Parts open on first use; `close()` releases them. `shared.postgres`:
 * the server's connection, when it has one (the audit log then uses it too); otherwise one is made
 * here from VIGIL_DATABASE_URL.
 */
export function createServices(config: VigilConfig, logger: Logger, shared: { readonly postgres?: PostgresConnection } = {}): VigilServices {
  const configHash = hashConfig(config);
  const postgres = shared.postgres ?? connectPostgres(config, logger);
  const bundles = new FsModelBundleSource();
  const runner = new OnnxModelRunner({ executionProvider: config.executionProvider, intraOpThreads: config.intraOpThreads });
  const inputs = standardInputKinds({ dicom: new DcmjsDicomReader({ inflate: inflateLimitsOf(config) }), raster: new SharpRasterReader() });
  const files = new FsInputFiles(config.maxInputBytes);
  let audit: AuditLog | undefined;
  // The site secret is read once per process; pseudonyms and ingest de-identification both key on it.
  let siteSecret: Promise<Uint8Array> | undefined;
  const secret = (): Promise<Uint8Array> => (siteSecret ??= loadOrCreateSiteSecret(siteSecretFile(config)));
  let ingest: Promise<{ pseudonymizer: HmacPseudonymizer; deidentify: (bytes: Uint8Array) => Promise<DeidentifiedAtIngest | undefined> }> | undefined;
  const ingestParts = () =>
    (ingest ??= secret().then((s) => {
      const deidentify = createIngestDeidentifier(config, createKeyedDigest(s));
      // The reader then reports the file's own error for what cannot be de-identified; except a Deflated
      // dataset past the inflate limit, which the reader would only inflate as far again to refuse it too.
      return {
        pseudonymizer: new HmacPseudonymizer(s),
        deidentify: (bytes: Uint8Array) =>
          deidentify(bytes).then(
            (i) => ({ bytes: i.bytes, ...(i.patientAgeYears === undefined ? {} : { patientAgeYears: i.patientAgeYears }) }),
            (cause: unknown) => {
              if (isPlatformError(cause) && cause.code === 'DICOM_INFLATE_LIMIT_EXCEEDED') throw cause;
              return undefined;
            },
          ),
      };
    }));

  const openAudit = (): AuditLog => {
    if (audit === undefined) {
      // With PostgreSQL, one log for every Vigil process; its signing key stays in the data folder.
      audit =
        postgres === undefined
          ? SqliteAuditLog.open({ dataDir: config.dataDir, clock: systemClock })
          : postgres.auditLog({ dataDir: config.dataDir, clock: systemClock });
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
  // A bundle folder's registry version id (its content address), recorded when the model is loaded.
  // The registry's archive of bundles (VIGIL_DATA_DIR/registry); it also lists a bundle folder's files.
  const archive = new FsBundleArchive({ root: join(config.dataDir, 'registry') });
  const bundleVersionOf = async (directory: string): Promise<string> => nodeHasher.sha256Hex(canonicalBundleListing(await archive.listBundle(directory)));
  // The models this process holds open, by folder, within VIGIL_MODEL_POOL_BYTES (idle ones are closed to make room).
  const pool = new ModelPool({
    maxBytes: config.modelPoolBytes,
    open: (directory) => loadModel({ bundles, runner, audit: openAudit(), logger, versionOf: bundleVersionOf }, directory),
  });

  // Audit search for the evaluation's look-ups (earlier criteria registrations), on its own handle.
  let searchDb: SqliteDatabase | undefined;
  let auditSearch: Promise<AuditSearch> | undefined;
  const openAuditSearch = (): Promise<AuditSearch> =>
    (auditSearch ??=
      postgres === undefined
        ? Promise.resolve(new SqliteAuditSearch((searchDb = openSqliteDatabase({ dataDir: config.dataDir }))))
        : postgres.pool().then((pool) => new PostgresAuditSearch(pool)));
  const evaluationAudit = createEvaluationAuditTrail(openAudit, openAuditSearch);
  // `vigil users`: accounts and tokens in the store the server uses (the recovery path; no token needed).
  let accountsDb: SqliteDatabase | undefined;
  let accounts: Promise<AccountAdministration> | undefined;
  const openAccounts = (): Promise<AccountAdministration> =>
    (accounts ??= (async () => {
      const pool = await postgres?.pool();
      const stores =
        pool === undefined
          ? (() => {
              const db = (accountsDb = openSqliteDatabase({ dataDir: config.dataDir }));
              return { access: new SqliteAccessStore(db, systemClock), sessions: new SqliteSessionStore(db) };
            })()
          : { access: new PostgresAccessStore(pool, systemClock), sessions: new PostgresSessionStore(pool) };
      return new AccountAdministration({ ...stores, credentials: new NodeCredentials(), clock: systemClock, audit: (event) => openAudit().append(event) });
    })());

  // The model registry: its records in the store, the bundles' bytes in VIGIL_DATA_DIR/registry.
  let registryDb: SqliteDatabase | undefined;
  let registryDeps: Promise<RegistryDependencies> | undefined;
  const openRegistry = (): Promise<RegistryDependencies> =>
    (registryDeps ??= (
      postgres === undefined
        ? Promise.resolve(new SqliteModelRegistry((registryDb = openSqliteDatabase({ dataDir: config.dataDir }))))
        : postgres.pool().then((pool) => new PostgresModelRegistry(pool))
    ).then((registry) => ({
      registry,
      archive,
      hasher: nodeHasher,
      clock: systemClock,
      loadBundle: (directory: string) => bundles.loadBundle(directory),
      readEvaluations: readEvaluationSummaries,
      recordAudit: (event: AuditEvent) => openAudit().append(event),
    })));
  // calibrate and policy register what they derive as a child of the version they derived it from.
  const registerDerived = async (sourceDir: string, outDir: string, derivedBy: string, datasetSha256: unknown) => {
    const deps = await openRegistry();
    const parent = await registerModel(deps, { directory: sourceDir, actor: 'local-cli' });
    const child = await registerModel(deps, {
      directory: outDir,
      parent: parent.version.versionId,
      actor: 'local-cli',
      lineage: { derivedBy, ...(typeof datasetSha256 === 'string' ? { validationDataSha256: datasetSha256 } : {}) },
    });
    return { parent: parent.version, version: child.version };
  };

  // Evaluation, calibration and policy fitting judge no patient: their model sessions are not
  // recorded in the audit log (evaluations record their criteria, start and reports, not model
  // loads), and share nothing with the decision path but the adapters.
  const evaluationModels = new Map<string, Promise<{ bundle: ModelBundle; session: ModelSession }>>();
  const evaluationDeps = (): DeriveDependencies => ({
    data: new FsEvaluationDataSource(),
    output: new FsEvaluationOutput(),
    clock: systemClock,
    inputs,
    batchSize: config.batchSize,
    vigilVersion: VIGIL_VERSION,
    openModel: (directory) => {
      let loaded = evaluationModels.get(directory);
      if (loaded === undefined) {
        loaded = bundles.loadBundle(directory).then(async (bundle) => ({ bundle, session: await runner.createSession(bundle) }));
        evaluationModels.set(directory, loaded);
      }
      return loaded;
    },
  });

  const evaluate = async (request: EvaluateRequest): Promise<EvaluateOutcome> => {
    // Loaded on first use: Vega and Fastify each add ~0.1 s to every command's start-up otherwise.
    const { VegaChartRenderer } = await import('./adapters/charts-vega/vega-chart-renderer.js');
    return evaluateModel(
      { ...evaluationDeps(), charts: new VegaChartRenderer(), vigilVersion: VIGIL_VERSION, hasher: nodeHasher, audit: evaluationAudit },
      request,
    );
  };

  return {
    async predict(paths, options, emit, onProgress) {
      const auditLog = await openAuditForDecisions();
      const held = await pool.acquire(options.modelDir ?? config.modelDir);
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
      return registerCriteria({ data: new FsEvaluationDataSource(), audit: evaluationAudit }, path);
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
          runner,
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
    async close() {
      await pool.close();
      for (const loaded of evaluationModels.values()) await loaded.then((m) => m.session.close()).catch(() => undefined);
      await audit?.close();
      searchDb?.close();
      registryDb?.close();
      accountsDb?.close();
      if (shared.postgres === undefined) await postgres?.close();
    },
  };
}

export interface ApiServer {
  readonly app: HttpApp;
  /** The DICOM receiver's port, when background work runs. */
  readonly dicomPort?: number;
  /** Ingest, assembly and inference; its timers and worker run only with `background`. */
  readonly loop: ServiceLoop;
  /** Set on the first start only: the administrator's one-time token (print it once; only its hash is kept). */
  readonly bootstrap?: { readonly userName: string; readonly token: string };
  /** Seeds an empty store with the public sample data through the real ingest (`npm start`). */
  seedDemo(): Promise<SeedOutcome>;
  close(): Promise<void>;
}

/**
 * Wires the HTTP API over the same store as the CLI. On the first start (no users yet) it creates an
 * `admin` account and returns its one-time token: there is never a default password.
 */
export async function createApiServer(
  config: VigilConfig,
  logger: Logger,
  // dashboardDir: the built dashboard; tests point it elsewhere (default <package>/dist/dashboard).
  options: { readonly background?: boolean; readonly dashboardDir?: string } = {},
): Promise<ApiServer> {
  // VIGIL_DATABASE_URL: the stores several servers share live in PostgreSQL (README, "Scaling out").
  const postgres = connectPostgres(config, logger);
  const pool = await postgres?.pool();
  const cliServices = createServices(config, logger, postgres === undefined ? {} : { postgres });
  // The SQLite file opens only without PostgreSQL: with VIGIL_DATABASE_URL, no store of a server is its own.
  let db: SqliteDatabase | undefined;
  const sqlite = (): SqliteDatabase => (db ??= openSqliteDatabase({ dataDir: config.dataDir }));
  const jobOptions = { clock: systemClock, retry: { baseDelayMs: 5_000, maxDelayMs: 300_000 }, defaultMaxAttempts: 5 };
  const access: AccessStore = pool === undefined ? new SqliteAccessStore(sqlite(), systemClock) : new PostgresAccessStore(pool, systemClock);
  // Which configured site each arriving instance comes from: the site half of the deployment key.
  // Who sent what: the accounts as ingest reads them, at most once a minute (sites here, DICOM senders below).
  const users = cachedUserDirectory(access, () => Date.now());
  const sitesOf = arrivalSites(await readSitesFile(config.sitesFile), users);
  const jobs: JobQueue = pool === undefined ? new SqliteJobQueue(sqlite(), jobOptions) : new PostgresJobQueue(pool, jobOptions);
  let bootstrap: ApiServer['bootstrap'];
  if ((await access.countUsers()) === 0) {
    // Two servers starting on one new database: one creates `admin`, the other's attempt fails on the name.
    const admin = await access.createUser('admin', 'admin').catch(async (error: unknown) => {
      if ((await access.countUsers()) > 0) return undefined;
      throw error;
    });
    if (admin !== undefined) {
      const token = await access.issueToken(admin.userId, 'bootstrap');
      bootstrap = { userName: admin.name, token: token.secret };
    }
  }
  const studies: StudyRegistry = pool === undefined ? new SqliteStudyRegistry(sqlite(), systemClock) : new PostgresStudyRegistry(pool, systemClock);
  const cases: CaseStore = pool === undefined ? new SqliteCaseStore(sqlite(), systemClock) : new PostgresCaseStore(pool, systemClock);
  const worklist: WorklistStore = pool === undefined ? new SqliteWorklistStore(sqlite(), systemClock) : new PostgresWorklistStore(pool, systemClock);

  // Ingest (C-STORE and STOW-RS alike): de-identify with the ingest profile, store durably, assemble.
  const siteSecret = await loadOrCreateSiteSecret(siteSecretFile(config));
  const digest = createKeyedDigest(siteSecret);
  const instances = new FsInstanceStore(join(config.dataDir, 'objects'));
  // Results back: originals kept at ingest (encrypted) only when results are re-identified.
  const sealer = createResultSealer(siteSecret);
  const vault: ReidentificationVault | undefined = !config.resultsReidentify
    ? undefined
    : pool === undefined
      ? new SqliteReidentificationVault(sqlite(), sealer, systemClock)
      : new PostgresReidentificationVault(pool, sealer, systemClock);
  // This installation as the SR's device observer: stable, and reveals nothing (a keyed hash).
  const deviceObserverUid = uid225(Buffer.from(digest('result-device-observer', 'vigil')).toString('hex'));
  const results = await createResultParts(config, {
    base: { cases, studies, worklist },
    instances,
    vault,
    currentModel: () => cliServices.currentModel(),
    deviceObserverUid,
    jobs,
    recordAudit: (event) => cliServices.recordAudit(event),
    logger,
  });
  const loop = new ServiceLoop(
    {
      ...(results.delivery === undefined ? {} : { delivery: results.delivery }),
      ingest: {
        ...(vault === undefined ? {} : { vault }),
        deidentify: createIngestDeidentifier(config, digest, { keepOriginals: vault !== undefined }),
        studyKeyOf: (studyUid) => pseudonymousStudyKey(digest, studyUid),
        instances,
        studies,
        logger,
        minFreeBytes: config.minFreeDiskBytes,
      },
      inference: {
        jobs,
        studies,
        cases,
        worklist,
        recordAudit: (event) => cliServices.recordAudit(event),
        // A uniform draw in [0, 1) from the item id: deterministic, so a re-run samples the same items.
        sampleDraw: (itemId) => Number.parseInt(nodeHasher.sha256Hex(`review-sample:${itemId}`).slice(0, 12), 16) / 2 ** 48,
        reviewSampleRate: config.reviewSampleRate,
        logger,
        leaseMs: config.jobLeaseMs,
        resultDestinations: results.destinations,
        judgeStudy: async (studyUid, studyKey) => {
          const site = (await studies.get(studyKey))?.site ?? undefined;
          const results: PredictResult[] = [];
          // Uploaded images come with what their sender declared; DICOM studies declare nothing extra.
          const declared = await instances.readDeclaration(studyUid);
          // DICOM instances come with the patient's age derived at the door (their stored headers no longer say it).
          const ages = await instances.readPatientAges(studyUid);
          const storedPatientAge = (path: string): number | undefined => ages.get(basename(path).replace(/\.dcm$/, ''));
          // Cases name their images relative to the instance store (`<study>/<instance>.dcm`): the server's
          // own folders stay out of API responses, and servers sharing the objects folder read the same names.
          await cliServices.predict(
            [instances.studyLocation(studyUid)],
            {
              alreadyDeidentified: true,
              origin: 'server',
              studyKey,
              storedPatientAge,
              ...(site === undefined ? {} : { site }),
              ...(declared === undefined ? {} : { declared }),
            },
            (r) => results.push({ ...r, input: { ...r.input, file: instances.nameOf(r.input.file) } }),
          );
          const model = (await cliServices.currentModel()).manifest;
          return { model: { id: model.id, version: model.version, sha256: model.model.sha256 }, results };
        },
      },
      studies,
      jobs,
      logger,
      model: async () => {
        const { manifest } = await cliServices.currentModel();
        return { id: manifest.id, version: manifest.version, sha256: manifest.model.sha256 };
      },
    },
    { studyQuietMs: config.studyQuietMs, assembleEveryMs: Math.max(200, Math.min(1_000, config.studyQuietMs / 4)), idleSleepMs: 1_000 },
  );
  // DICOMweb serves the results of the de-identified study (the one QIDO-RS names): never re-identified.
  const { vault: _reidentifying, ...pseudonymousCaseResults } = results.caseResults;
  const dicom = new DcmjsDicomReader({ inflate: inflateLimitsOf(config) });
  const hasRoom = async (): Promise<boolean> => (await instances.freeBytes()) >= config.minFreeDiskBytes;
  const services: VigilServices = {
    ...cliServices,
    caseResultBundle: async (caseId) => {
      const { studyKey, result } = await assembleCaseResult(results.caseResults, caseId);
      return { studyKey, bundle: fhirBundleFor(result, resultIds, config.fhirPatientIdSystem) };
    },
    recordReview: (itemId, reviewerId, read) =>
      recordReview(
        { worklist, cases, jobs, recordAudit: (event) => cliServices.recordAudit(event), resultDestinations: results.destinations },
        itemId,
        reviewerId,
        read,
      ),
    storeInstances: async (parts, sender) =>
      storeInstances(
        {
          ingest: (bytes, from) => loop.receive(bytes, from),
          hasRoom,
          // From the header or the File Meta Information, never by inflating: ingest inflates once.
          identify: (bytes) => Promise.resolve(readSentIdentity(bytes)),
        },
        parts,
        { ...sender, site: await sitesOf.http(sender?.senderId) },
      ),
    studyLookupKeys: (sent) => {
      const accessionKey = sent.accessionNumber === undefined ? undefined : accessionLookupKey(digest, sent.accessionNumber);
      return Promise.resolve({
        ...(sent.studyInstanceUid === undefined ? {} : { studyKey: pseudonymousStudyKey(digest, sent.studyInstanceUid) }),
        ...(accessionKey === undefined ? {} : { accessionKey }),
      });
    },
    studyResultObjects: (studyKey) =>
      studyResultObjects(
        {
          cases,
          caseResults: pseudonymousCaseResults,
          // With results re-identified, the delivered SR is in the patient's own study under the case's UIDs;
          // the pseudonymous one served here is another document, so it gets UIDs of its own.
          ids: config.resultsReidentify ? { uidOf: (name) => resultIds.uidOf(`pseudonymous:${name}`), uuidOf: resultIds.uuidOf } : resultIds,
          deviceObserverUid,
          writeSr: writeResultSr,
          srDicomJson: resultSrDicomJson,
        },
        studyKey,
      ),
    uploadImages: async (declaration, images, sender) =>
      ingestUpload(
        {
          instances,
          studies,
          logger,
          rasterKind,
          // 2.25 UIDs (PS3.5 B.2): a random UUID for the study, the image's SHA-256 (first 128 bits) for each image.
          newStudyUid: () => uid225(randomUUID().replaceAll('-', '')),
          contentUid: (bytes) => uid225(nodeHasher.sha256Hex(bytes)),
          studyKeyOf: (studyUid) => pseudonymousStudyKey(digest, studyUid),
          hasRoom,
        },
        declaration,
        images,
        { ...sender, site: await sitesOf.http(sender?.senderId, declaration.site) },
      ),
  };
  const { createHttpApp } = await import('./http/create-http-app.js');
  const modelDocuments = new FsModelDocuments(config.modelDir, config.reportsDir);
  const sessionStore: SessionStore = pool === undefined ? new SqliteSessionStore(sqlite()) : new PostgresSessionStore(pool);
  const credentials = new NodeCredentials();
  const accounts = new AccountAdministration({
    access,
    sessions: sessionStore,
    credentials,
    clock: systemClock,
    audit: (event) => services.recordAudit(event),
  });
  // The dashboard's server side: cookie sessions over the same users and tokens.
  const dashboard = {
    sessions: new DashboardSessions(
      {
        store: sessionStore,
        access,
        credentials,
        clock: systemClock,
        audit: (event) => services.recordAudit(event),
      },
      {
        idleTimeoutMs: config.sessionIdleMs,
        absoluteTimeoutMs: config.sessionMaxMs,
        loginLimit: { maxFailures: config.loginMaxFailures, windowMs: config.loginWindowMs },
      },
    ),
    cookieSecure: config.cookieSecure,
    renderCaseImage: renderCaseImage.bind(undefined, {
      cases,
      readStored: (path: string) => instances.read(path),
      inputs: standardInputKinds({ dicom, raster: new SharpRasterReader() }),
      encoder: new SharpImageEncoder(),
    }),
    auditSearch: pool === undefined ? new SqliteAuditSearch(sqlite()) : new PostgresAuditSearch(pool),
    modelDocuments,
    reportChart: createReportCharts({
      documents: modelDocuments,
      // Vega loads on the first plot asked for, as for `vigil evaluate`: a server that never draws one never loads it.
      charts: { renderSvg: async (chart) => new (await import('./adapters/charts-vega/vega-chart-renderer.js')).VegaChartRenderer().renderSvg(chart) },
    }),
    systemSummary: () =>
      summarizeSystem({
        jobs,
        stats: pool === undefined ? new SqliteSystemStats(sqlite()) : new PostgresSystemStats(pool),
        clock: systemClock,
        freeDiskBytes: () => instances.freeBytes(),
        // Known once the receiver listens (vigil serve); a process without one (tests, the CLI) has none.
        dicomAddress: () => (dicomPort === undefined ? null : `${config.dicomAeTitle}@${config.dicomHost}:${dicomPort}`),
        uptimeSeconds: () => process.uptime(),
        version: VIGIL_VERSION,
      }),
    dashboardDir: options.dashboardDir ?? join(PACKAGE_ROOT, 'dist', 'dashboard'),
  };
  const app = await createHttpApp({
    services,
    access,
    accounts,
    jobs,
    studies,
    cases,
    worklist,
    logger,
    version: VIGIL_VERSION,
    bodyLimitBytes: config.maxUploadBytes,
    resultDeliveries: results.counts,
    dashboard,
  });

  let receiver: DicomReceiver | undefined;
  let dicomPort: number | undefined;
  if (options.background === true) {
    const { DimseDcmjsReceiver, RECEIVABLE_TRANSFER_SYNTAXES } = await import('./adapters/dimse-dcmjs/dimse-dcmjs-receiver.js');
    receiver = new DimseDcmjsReceiver(
      {
        port: config.dicomPort,
        host: config.dicomHost,
        aeTitle: config.dicomAeTitle,
        allowlist: {
          callingAeTitles: config.dicomAllowedAeTitles.trim() === '*' ? '*' : splitList(config.dicomAllowedAeTitles),
          ...(config.dicomAllowedHosts.trim() === '' ? {} : { hosts: splitList(config.dicomAllowedHosts) }),
        },
        acceptedTransferSyntaxes: RECEIVABLE_TRANSFER_SYNTAXES,
        associateTimeoutMs: config.dicomAssociateTimeoutMs,
        idleTimeoutMs: config.dicomIdleTimeoutMs,
        incomingDir: join(config.dataDir, 'incoming'),
        minFreeDiskBytes: config.minFreeDiskBytes,
        maxAssociations: config.dicomMaxAssociations,
        maxAssociationsPerHost: config.dicomMaxAssociationsPerHost,
      },
      { logger },
    );
    const senderOf = dicomSenderResolver(users, parseDicomSenders(config.dicomSenderUsers));
    ({ port: dicomPort } = await receiver.start(async (instance) => {
      const outcome = await loop.receive(await instance.bytes(), {
        ...(await senderOf(instance.callingAeTitle)),
        site: sitesOf.dimse(instance.callingAeTitle),
      });
      return outcome.status === 'refused' ? { status: 'refused', reason: outcome.reason, code: outcome.code } : { status: outcome.status };
    }));
    loop.start();
  }
  return {
    app,
    loop,
    ...(bootstrap === undefined ? {} : { bootstrap }),
    ...(dicomPort === undefined ? {} : { dicomPort }),
    seedDemo: () =>
      seedDemo({
        prepare: () => cliServices.prepareDemo(),
        files: new FsInputFiles(config.maxInputBytes),
        storeInstances: (parts) => services.storeInstances(parts),
        uploadImages: (declaration, images) => services.uploadImages(declaration, images),
        hasStudies: async () => (await studies.list(1)).length > 0,
        logger,
      }),
    async close() {
      await receiver?.stop();
      await loop.stop();
      await app.close();
      await cliServices.close();
      await postgres?.close();
      db?.close();
    },
  };
}

function splitList(text: string): string[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/** Entry point for bin/vigil.js: returns the process exit code. */
export async function main(argv: readonly string[], env: Readonly<Record<string, string | undefined>> = process.env, cwd = process.cwd()): Promise<number> {
  const io = {
    stdout: (text: string) => void process.stdout.write(text),
    stderr: (text: string) => void process.stderr.write(text),
    interactive: process.stderr.isTTY,
  };
  let config: VigilConfig;
  try {
    config = loadConfig(env, cwd);
  } catch (cause) {
    const error = toPlatformError(cause);
    io.stderr(`vigil: ${error.code}: ${error.message}\n`);
    return EXIT_CODES[error.code];
  }
  const logger = createLogger(config.logLevel);
  return runCli(argv, () => createServices(config, logger), io, {
    async startServer() {
      const server = await createApiServer(config, logger, { background: true });
      const address = await server.app.listen({ host: config.httpHost, port: config.httpPort });
      return {
        url: address,
        dicom: `${config.dicomAeTitle}@${config.dicomHost}:${server.dicomPort ?? config.dicomPort}`,
        ...(server.bootstrap === undefined ? {} : { bootstrap: server.bootstrap }),
        seedDemo: () => server.seedDemo(),
        close: () => server.close(),
      };
    },
    stopRequested: () =>
      new Promise<void>((resolve) => {
        process.once('SIGINT', () => resolve());
        process.once('SIGTERM', () => resolve());
      }),
  });
}
